// Scheduled scans on a real coordinator over gRPC with TLS on 127.0.0.1: the schedule API and
// its authentication, the scheduler thread (due runs, missed runs after a restart), retention,
// and two runs probed by a real agent whose second report diffs against the first.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/store/sqlite_db.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tlsweep/v1/schedule.grpc.pb.h"

namespace tlsweep::testing {
namespace {

using ::tlsweep::v1::Scan;
using ::tlsweep::v1::Schedule;
using ::tlsweep::v1::ScheduleHeader;

constexpr char kRarely[] = "0 0 1 1 *";  // New Year's midnight: never due during a test.

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory("tlsweep-schedule-test");
    Start();
  }

  void Start() {
    coordinator::ServerOptions options = TlsServerOptions(store_path());
    options.coordinator.heartbeat_ms = 200;
    options.coordinator.schedule_check_ms = 100;
    absl::StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> server =
        coordinator::CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = TlsChannel(server_->port(), nullptr);
    stub_ = v1::ScheduleService::NewStub(channel_);
  }

  void Stop() {
    stub_.reset();
    channel_.reset();
    server_.reset();
  }

  std::string store_path() const { return directory_ + "/store.db"; }

  grpc::Status Add(const ScheduleHeader& header, const std::string& list, Schedule* schedule,
                   const std::string& token = kToken, grpc::Channel* channel = nullptr) {
    auto stub = channel == nullptr ? nullptr
                                   : v1::ScheduleService::NewStub(std::shared_ptr<grpc::Channel>(
                                         channel, [](grpc::Channel*) {}));
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    auto writer = (stub != nullptr ? stub : stub_)->AddSchedule(&context, schedule);
    v1::AddScheduleRequest request;
    *request.mutable_header() = header;
    bool ok = writer->Write(request);
    for (size_t at = 0; ok && at < list.size(); at += 5) {
      request.mutable_chunk()->set_data(list.substr(at, 5));
      ok = writer->Write(request);
    }
    writer->WritesDone();
    return writer->Finish();
  }

  Schedule AddOk(const std::string& list, const std::string& cron = kRarely,
                 uint32_t retention = 0) {
    ScheduleHeader header;
    // Names are unique per coordinator: the first is "nightly", later ones are numbered.
    header.set_name(added_ == 0 ? "nightly" : absl::StrCat("nightly-", added_ + 1));
    ++added_;
    header.set_cron(cron);
    header.add_regions("eu");
    header.set_shard_size(2);
    header.set_endpoint_shard_size(7);
    header.set_retention(retention);
    Schedule schedule;
    grpc::Status status = Add(header, list, &schedule);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return schedule;
  }

  int added_ = 0;

  grpc::Status List(v1::ListSchedulesResponse* response, const std::string& token = kToken) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->ListSchedules(&context, v1::ListSchedulesRequest(), response);
  }

  Schedule Find(const std::string& schedule_id) {
    v1::ListSchedulesResponse response;
    grpc::Status status = List(&response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const Schedule& schedule : response.schedules()) {
      if (schedule.schedule_id() == schedule_id) return schedule;
    }
    ADD_FAILURE() << "no schedule " << schedule_id;
    return Schedule();
  }

  std::string RunNow(const std::string& schedule_id) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    v1::RunScheduleNowRequest request;
    request.set_schedule_id(schedule_id);
    Scan scan;
    grpc::Status status = stub_->RunScheduleNow(&context, request, &scan);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return scan.scan_id();
  }

  // Rows of `table` that belong to `scan_id` (-1 when the table does not exist).
  int64_t Rows(const std::string& table, const std::string& scan_id) {
    auto db = coordinator::SqliteDb::Open(store_path());
    if (!db.ok()) return -2;
    auto select = (*db)->Prepare(absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE scan_id=?"));
    if (!select.ok()) return -1;
    select->Bind(1, scan_id);
    auto row = select->Step();
    return row.ok() && *row ? select->Int(0) : -3;
  }

  void SetNextRun(const std::string& schedule_id, int64_t next_run_ms) {
    auto db = coordinator::SqliteDb::Open(store_path());
    ASSERT_TRUE(db.ok()) << db.status();
    auto update = (*db)->Prepare("UPDATE schedules SET next_run_ms=? WHERE schedule_id=?");
    ASSERT_TRUE(update.ok());
    ASSERT_TRUE(update->Bind(1, next_run_ms).Bind(2, schedule_id).Run().ok());
  }

  // Waits until the schedule has `runs` runs (or 10 s); returns it.
  Schedule WaitForRuns(const std::string& schedule_id, int runs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    Schedule schedule = Find(schedule_id);
    while (schedule.runs_size() < runs && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      schedule = Find(schedule_id);
    }
    return schedule;
  }

  std::string directory_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ScheduleService::Stub> stub_;
};

TEST_F(ScheduleTest, ScheduleApiNeedsTokenOrClientCertificate) {
  ScheduleHeader header;
  header.set_cron(kRarely);
  header.add_regions("eu");
  Schedule schedule;
  EXPECT_EQ(Add(header, "a.example\n", &schedule, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Add(header, "a.example\n", &schedule, "wrong-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ListSchedulesResponse response;
  EXPECT_EQ(List(&response, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  {
    grpc::ClientContext context;
    v1::RemoveScheduleRequest request;
    request.set_schedule_id("anything");
    v1::RemoveScheduleResponse removed;
    EXPECT_EQ(stub_->RemoveSchedule(&context, request, &removed).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    v1::RunScheduleNowRequest request;
    request.set_schedule_id("anything");
    Scan scan;
    EXPECT_EQ(stub_->RunScheduleNow(&context, request, &scan).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status with_token = Add(header, "a.example\n", &schedule);
  EXPECT_TRUE(with_token.ok()) << with_token.error_message();
  auto api_channel = TlsChannel(server_->port(), &SharedCoordinatorPki().api);
  grpc::Status with_certificate = Add(header, "b.example\n", &schedule, "", api_channel.get());
  EXPECT_TRUE(with_certificate.ok()) << with_certificate.error_message();
  auto agent_channel = TlsChannel(server_->port(), &SharedCoordinatorPki().agent);
  EXPECT_EQ(Add(header, "c.example\n", &schedule, "", agent_channel.get()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "an agent certificate is not an operator's";
  ASSERT_TRUE(List(&response).ok());
  EXPECT_EQ(response.schedules_size(), 2);
}

TEST_F(ScheduleTest, AddValidatesAndStoresTheTemplate) {
  ScheduleHeader header;
  header.add_regions("eu");
  header.set_cron("61 * * * *");
  Schedule schedule;
  grpc::Status status = Add(header, "a.example\n", &schedule);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message(), "");

  const int64_t before = NowMs();
  Schedule added = AddOk("# list\na.example\nbad..name\nA.example\nb.example,3\n", "@daily", 4);
  EXPECT_EQ(added.targets(), 2u);
  EXPECT_EQ(added.lines(), 5u);
  EXPECT_EQ(added.bad_line_count(), 1u);
  EXPECT_EQ(added.duplicate_count(), 1u);
  ASSERT_EQ(added.bad_lines_size(), 1);
  EXPECT_EQ(added.bad_lines(0).line_number(), 3u);
  EXPECT_EQ(added.retention(), 4u);
  EXPECT_EQ(added.cron(), "@daily");
  // The next UTC midnight.
  EXPECT_GT(added.next_run_unix_ms(), before);
  EXPECT_LE(added.next_run_unix_ms(), before + 24 * 3600 * 1000);
  EXPECT_EQ(added.next_run_unix_ms() % (24 * 3600 * 1000), 0);
  EXPECT_EQ(added.runs_size(), 0);
  EXPECT_EQ(Rows("targets", "template:" + added.schedule_id()), 2);

  // Default retention.
  EXPECT_EQ(AddOk("c.example\n").retention(), 10u);
  // A second schedule with a name already taken is refused, whatever else differs.
  ScheduleHeader same;
  same.set_name("nightly");
  same.set_cron("@weekly");
  same.add_regions("us");
  same.set_shard_size(5);
  Schedule refused;
  const grpc::Status duplicate = Add(same, "d.example\n", &refused);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(absl::StrContains(duplicate.error_message(), "named 'nightly' exists already"))
      << duplicate.error_message();
}

TEST_F(ScheduleTest, RunIsAScanOfTheTemplate) {
  Schedule schedule = AddOk(RefusedTargets(31001, 5));
  const std::string scan_id = RunNow(schedule.schedule_id());
  ASSERT_FALSE(scan_id.empty());
  Scan scan;
  ASSERT_TRUE(GetScan(*channel_, scan_id, &scan).ok());
  EXPECT_EQ(scan.name(), "nightly");
  EXPECT_EQ(scan.state(), v1::SCAN_RUNNING);
  EXPECT_EQ(scan.targets(), 5u);
  EXPECT_EQ(scan.shards(), 3u);  // Shard size 2.
  EXPECT_EQ(scan.endpoint_shard_size(), 7u) << "the template's endpoint unit size";
  ASSERT_EQ(scan.progress_size(), 1);
  EXPECT_EQ(scan.progress(0).shards_pending(), 3u);
  Schedule listed = Find(schedule.schedule_id());
  ASSERT_EQ(listed.runs_size(), 1);
  EXPECT_EQ(listed.runs(0).scan_id(), scan_id);
  EXPECT_EQ(listed.runs(0).state(), v1::SCAN_RUNNING);
  EXPECT_EQ(listed.next_run_unix_ms(), schedule.next_run_unix_ms());  // Run now: unchanged.
  // The template is copied, not moved.
  EXPECT_EQ(Rows("targets", "template:" + schedule.schedule_id()), 5);
  EXPECT_EQ(Rows("targets", scan_id), 5);
}

TEST_F(ScheduleTest, SchedulerStartsADueRunOnceAndMovesTheNextRun) {
  Schedule schedule = AddOk(RefusedTargets(31101, 3), "*/5 * * * *");
  const int64_t first_next = schedule.next_run_unix_ms();
  EXPECT_EQ(first_next % (5 * 60 * 1000), 0);
  // Pretend it came due three hours ago (36 missed times): one run, not 36.
  SetNextRun(schedule.schedule_id(), NowMs() - 3 * 3600 * 1000);
  Schedule ran = WaitForRuns(schedule.schedule_id(), 1);
  ASSERT_EQ(ran.runs_size(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // Several scheduler checks.
  ran = Find(schedule.schedule_id());
  EXPECT_EQ(ran.runs_size(), 1);
  EXPECT_GT(ran.next_run_unix_ms(), NowMs());
  EXPECT_LE(ran.next_run_unix_ms(), NowMs() + 5 * 60 * 1000);
  EXPECT_EQ(ran.next_run_unix_ms() % (5 * 60 * 1000), 0);

  // Due again while the first run is still going: skipped, and the next time moves on.
  SetNextRun(schedule.schedule_id(), NowMs() - 1000);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Find(schedule.schedule_id()).next_run_unix_ms() < NowMs() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ran = Find(schedule.schedule_id());
  EXPECT_GT(ran.next_run_unix_ms(), NowMs());
  EXPECT_EQ(ran.runs_size(), 1);
}

TEST_F(ScheduleTest, RetentionDeletesTheOldestRunsScan) {
  Schedule schedule = AddOk(RefusedTargets(31201, 3), kRarely, /*retention=*/2);
  const std::string first = RunNow(schedule.schedule_id());
  // The first run is cancelled, so its units are final and the report index has rows for it.
  {
    auto stub = v1::ScanService::NewStub(channel_);
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    v1::CancelScanRequest request;
    request.set_scan_id(first);
    Scan scan;
    ASSERT_TRUE(stub->CancelScan(&context, request, &scan).ok());
    auto db = coordinator::SqliteDb::Open(store_path());
    ASSERT_TRUE(db.ok());
    coordinator::report::ReportOptions options;
    options.scan_id = first;
    ASSERT_TRUE(coordinator::report::BuildReport(**db, options).ok());
  }
  EXPECT_GT(Rows("report_units", first), 0);
  EXPECT_EQ(Rows("targets", first), 3);
  const std::string second = RunNow(schedule.schedule_id());
  const std::string third = RunNow(schedule.schedule_id());
  ASSERT_FALSE(third.empty());

  Scan scan;
  EXPECT_EQ(GetScan(*channel_, first, &scan).error_code(), grpc::StatusCode::NOT_FOUND);
  for (const char* table :
       {"scans", "targets", "units", "results", "schedule_runs", "report_units", "report_domains",
        "report_unit_endpoints", "routes", "endpoint_results", "certificate_uses"}) {
    EXPECT_EQ(Rows(table, first), 0) << table;
  }
  EXPECT_TRUE(GetScan(*channel_, second, &scan).ok());
  EXPECT_TRUE(GetScan(*channel_, third, &scan).ok());
  Schedule listed = Find(schedule.schedule_id());
  ASSERT_EQ(listed.runs_size(), 2);
  EXPECT_EQ(listed.runs(0).scan_id(), third);
  EXPECT_EQ(listed.runs(1).scan_id(), second);
}

TEST_F(ScheduleTest, RemoveForgetsTheScheduleAndKeepsItsScans) {
  Schedule schedule = AddOk(RefusedTargets(31301, 2));
  const std::string run = RunNow(schedule.schedule_id());
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  v1::RemoveScheduleRequest request;
  request.set_schedule_id(schedule.schedule_id());
  v1::RemoveScheduleResponse response;
  ASSERT_TRUE(stub_->RemoveSchedule(&context, request, &response).ok());
  v1::ListSchedulesResponse listed;
  ASSERT_TRUE(List(&listed).ok());
  EXPECT_EQ(listed.schedules_size(), 0);
  EXPECT_EQ(Rows("targets", "template:" + schedule.schedule_id()), 0);
  Scan scan;
  EXPECT_TRUE(GetScan(*channel_, run, &scan).ok());
  EXPECT_EQ(Rows("schedule_runs", run), 0);

  grpc::ClientContext again;
  again.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  EXPECT_EQ(stub_->RemoveSchedule(&again, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ScheduleTest, ScheduleSurvivesARestartAndAMissedRunRunsOnceAtStartUp) {
  Schedule schedule = AddOk(RefusedTargets(31401, 2), "17 4 * * *");
  const std::string run = RunNow(schedule.schedule_id());
  Stop();
  Start();
  Schedule listed = Find(schedule.schedule_id());
  EXPECT_EQ(listed.cron(), "17 4 * * *");
  EXPECT_EQ(listed.next_run_unix_ms(), schedule.next_run_unix_ms());
  ASSERT_EQ(listed.runs_size(), 1);
  EXPECT_EQ(listed.runs(0).scan_id(), run);
  EXPECT_EQ(listed.targets(), 2u);

  // Down across (many) due times: one run at start-up.
  {
    auto stub = v1::ScanService::NewStub(channel_);
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    v1::CancelScanRequest request;
    request.set_scan_id(run);
    Scan scan;
    ASSERT_TRUE(stub->CancelScan(&context, request, &scan).ok());  // Not skipped as running.
  }
  Stop();
  SetNextRun(schedule.schedule_id(), NowMs() - 5 * 24 * 3600 * 1000LL);
  Start();
  Schedule after = WaitForRuns(schedule.schedule_id(), 2);
  ASSERT_EQ(after.runs_size(), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  after = Find(schedule.schedule_id());
  EXPECT_EQ(after.runs_size(), 2);
  EXPECT_GT(after.next_run_unix_ms(), NowMs());
  EXPECT_LE(after.next_run_unix_ms(), NowMs() + 24 * 3600 * 1000LL);
}

TEST_F(ScheduleTest, SecondRunsReportDiffsAgainstTheFirst) {
  auto alert = HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kTlsAlert);
  auto no_starttls = HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kNoStarttls);
  ASSERT_TRUE(alert.ok() && no_starttls.ok());
  const std::string list = absl::StrCat((*alert)->endpoint(), "\n", (*no_starttls)->endpoint(),
                                        "\n", RefusedTargets(31501, 2));
  Schedule schedule = AddOk(list);

  const agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  auto client = agent::AgentClient::Create(TestAgentOptions(server_->port(), "agent-schedule"),
                                           agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });

  const std::string first = RunNow(schedule.schedule_id());
  Scan first_done = WaitForScanEnd(*channel_, first, 60'000);
  const std::string second = RunNow(schedule.schedule_id());
  Scan second_done = WaitForScanEnd(*channel_, second, 60'000);
  (*client)->Stop();
  run.join();
  ASSERT_EQ(first_done.state(), v1::SCAN_DONE);
  ASSERT_EQ(second_done.state(), v1::SCAN_DONE);
  EXPECT_EQ(server_->coordinator().store().Results(second, "eu").value().size(), 4u);

  auto previous = server_->coordinator().store().PreviousRun(second);
  ASSERT_TRUE(previous.ok()) << previous.status();
  ASSERT_TRUE(previous->has_value());
  EXPECT_EQ(**previous, first);
  auto none = server_->coordinator().store().PreviousRun(first);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // What `tlsweep report` and the HTTP pages do without --against.
  auto db = coordinator::SqliteDb::Open(store_path());
  ASSERT_TRUE(db.ok());
  auto against = coordinator::PreviousScheduledRun(**db, second);
  ASSERT_TRUE(against.ok() && against->has_value());
  coordinator::report::ReportOptions options;
  options.scan_id = second;
  options.against_scan_id = **against;
  absl::StatusOr<coordinator::report::Report> report =
      coordinator::report::BuildReport(**db, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->diff.has_value());
  EXPECT_EQ(report->diff->against_scan_id, first);
  ASSERT_FALSE(report->diff->summaries.empty());
  EXPECT_EQ(report->diff->summaries[0].region, "eu");
  // Same servers, same verdicts: nothing changed between the runs.
  EXPECT_TRUE(report->diff->rows.empty());
}

}  // namespace
}  // namespace tlsweep::testing
