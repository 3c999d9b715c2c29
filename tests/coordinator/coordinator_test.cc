// The coordinator over real gRPC with mutual TLS on 127.0.0.1: the scan API and its
// authentication, the agent stream with hand-driven (misbehaving) agents, and whole scans run
// by the real agent client.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/hostile_smtp_server.h"

namespace tlsweep::testing {
namespace {

using ::tlsweep::v1::AgentMessage;
using ::tlsweep::v1::CoordinatorMessage;
using ::tlsweep::v1::Scan;
using ::tlsweep::v1::ScanHeader;

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory("tlsweep-coordinator-test");
    Start();
  }

  void Start(int64_t lease_ms = 10'000, int64_t max_active_scans = 20,
             uint64_t max_list_lines = 1'000'000, int64_t upload_idle_ms = 30'000) {
    server_.reset();
    coordinator::ServerOptions options = TlsServerOptions(directory_ + "/store.db");
    options.coordinator.lease_ms = lease_ms;
    options.coordinator.max_active_scans = max_active_scans;
    options.coordinator.max_list_lines = max_list_lines;
    options.coordinator.upload_idle_ms = upload_idle_ms;
    options.coordinator.heartbeat_ms = 200;
    absl::StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> server =
        coordinator::CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = TlsChannel(server_->port(), nullptr);
    agent_channel_ = TlsChannel(server_->port(), &SharedCoordinatorPki().agent);
  }

  Scan SubmitOk(const std::string& list, uint32_t shard_size = 10, uint32_t max_attempts = 3) {
    ScanHeader header;
    header.set_name("test");
    header.add_regions("eu");
    header.set_shard_size(shard_size);
    header.set_max_attempts(max_attempts);
    Scan scan;
    grpc::Status status = Submit(*channel_, header, list, &scan);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return scan;
  }

  std::string directory_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<grpc::Channel> agent_channel_;
};

TEST_F(CoordinatorTest, ScanApiNeedsTokenOrClientCertificate) {
  ScanHeader header;
  header.add_regions("eu");
  Scan scan;
  EXPECT_EQ(Submit(*channel_, header, "a.example\n", &scan, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Submit(*channel_, header, "a.example\n", &scan, "wrong-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status with_token = Submit(*channel_, header, "a.example\n", &scan);
  EXPECT_TRUE(with_token.ok()) << with_token.error_message();
  auto api_channel = TlsChannel(server_->port(), &SharedCoordinatorPki().api);
  grpc::Status with_certificate = Submit(*api_channel, header, "b.example\n", &scan, "");
  EXPECT_TRUE(with_certificate.ok()) << with_certificate.error_message();
  EXPECT_EQ(scan.targets(), 1u);
}

// An agent's certificate is not an operator's: it may not submit, list or cancel scans.
TEST_F(CoordinatorTest, AgentCertificateIsNotAScanApiCredential) {
  ScanHeader header;
  header.add_regions("eu");
  Scan scan;
  grpc::Status submitted = Submit(*agent_channel_, header, "a.example\n", &scan, "");
  EXPECT_EQ(submitted.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(submitted.error_message(), "agent certificate"))
      << submitted.error_message();
  Scan target = SubmitOk("b.example\n");
  auto stub = v1::ScanService::NewStub(agent_channel_);
  grpc::ClientContext context;
  v1::CancelScanRequest cancel;
  cancel.set_scan_id(target.scan_id());
  Scan cancelled;
  EXPECT_EQ(stub->CancelScan(&context, cancel, &cancelled).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_->coordinator().store().GetScan(target.scan_id(), false)->state(),
            v1::SCAN_RUNNING);
  // Nor is a certificate with no tlsweep name.
  auto unnamed_channel = TlsChannel(server_->port(), &SharedCoordinatorPki().unnamed);
  EXPECT_EQ(Submit(*unnamed_channel, header, "c.example\n", &scan, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// The certificate names the region (and maybe the id) an agent may speak for.
TEST_F(CoordinatorTest, AgentCertificateBindsRegionAndId) {
  const CoordinatorPki& pki = SharedCoordinatorPki();
  auto refused = [&](const IssuedCertificate& cert, const std::string& id,
                     const std::string& region) {
    RawAgent agent(TlsChannel(server_->port(), &cert), id, region);
    agent.Hello();
    return agent.Finish();
  };
  grpc::Status other_region = refused(pki.agent_eu, "agent-eu", "us");
  EXPECT_EQ(other_region.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(other_region.error_message(), "agent 'agent-eu' of region 'eu'"))
      << other_region.error_message();
  EXPECT_EQ(refused(pki.agent_eu, "agent-2", "eu").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status unnamed = refused(pki.unnamed, "agent-1", "eu");
  EXPECT_EQ(unnamed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(unnamed.error_message(), "spiffe://tlsweep/agent/"))
      << unnamed.error_message();
  EXPECT_EQ(refused(pki.api, "ops", "eu").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused(pki.agent, "agent-1", "ap").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  RawAgent bound(TlsChannel(server_->port(), &pki.agent_eu), "agent-eu", "eu");
  EXPECT_TRUE(bound.Hello());
  RawAgent any_id(agent_channel_, "agent-7", "us");
  EXPECT_TRUE(any_id.Hello());
  // Leases are keyed by id: a certificate of another region may not take a live agent's id
  // (and with it its leases and cancellations).
  grpc::Status taken = refused(pki.agent, "agent-7", "eu");
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(taken.error_message(), "is in use in region 'us'"))
      << taken.error_message();
}

TEST_F(CoordinatorTest, LinesAreValidatedNormalisedAndDeduplicated) {
  const std::string list =
      "# targets\n"
      "Example.COM.\n"
      "bad..name\n"
      "example.com,5\n"
      "b\xC3\xBC"
      "cher.example,2.5\n"
      "xn--bcher-kva.example\n"
      "mx.example.net:99999\n"
      "[192.0.2.1]:587\n";
  Scan scan = SubmitOk(list, 2);
  EXPECT_EQ(scan.state(), v1::SCAN_RUNNING);
  EXPECT_EQ(scan.targets(), 3u);  // example.com, bücher (A-label), [192.0.2.1]:587.
  EXPECT_EQ(scan.duplicate_count(), 2u);
  EXPECT_EQ(scan.lines(), 8u);
  EXPECT_EQ(scan.shards(), 2u);
  ASSERT_EQ(scan.bad_lines_size(), 2);
  EXPECT_EQ(scan.bad_lines(0).line_number(), 3u);
  EXPECT_EQ(scan.bad_lines(0).text(), "bad..name");
  EXPECT_EQ(scan.bad_lines(1).line_number(), 7u);
  EXPECT_NE(scan.bad_lines(1).reason(), "");

  ScanHeader strict;
  strict.add_regions("eu");
  strict.set_reject_bad_lines(true);
  Scan rejected;
  grpc::Status status = Submit(*channel_, strict, list, &rejected);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "list:3:")) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "list:7:")) << status.error_message();
}

// Bytes that are not UTF-8, NUL and terminal escapes: bad lines, reported escaped (proto3
// strings must be valid UTF-8, or the call breaks), and the rest of the list goes on.
TEST_F(CoordinatorTest, BinaryAndLatin1LinesAreBadLinesAndTheScanGoesOn) {
  using namespace std::string_literals;
  const std::string list =
      "ok1.example\n"
      "m\xfcnchen.lab.test\n"
      "b\xc3\xbc"
      "cher.lab.test\0\xff\xfe\n"s
      "\x1b]0;owned\x07\n"
      "\x89PNG\r\n\x1a\n"
      "ok2.example\n";
  Scan scan = SubmitOk(list, 10);
  EXPECT_EQ(scan.targets(), 2u);
  ASSERT_EQ(scan.bad_lines_size(), 5);  // The PNG signature's CRLF splits it in two lines.
  EXPECT_EQ(scan.bad_lines(0).line_number(), 2u);
  EXPECT_EQ(scan.bad_lines(0).text(), "m\\xfcnchen.lab.test");
  EXPECT_EQ(scan.bad_lines(1).text(),
            "b\xc3\xbc"
            "cher.lab.test\\x00\\xff\\xfe");
  EXPECT_EQ(scan.bad_lines(2).text(), "\\x1b]0;owned\\x07");
  for (const v1::LineError& bad : scan.bad_lines()) {
    EXPECT_FALSE(bad.reason().empty()) << bad.text();
  }
  Scan again;
  ASSERT_TRUE(GetScan(*channel_, scan.scan_id(), &again).ok()) << "the stored scan reads back";
  EXPECT_EQ(again.bad_lines_size(), 5);
}

// A client that sends a header and goes silent must not hold a place of --max-active-scans.
TEST_F(CoordinatorTest, ASilentUploadIsDroppedAndFreesItsPlace) {
  Start(10'000, /*max_active_scans=*/1, 1'000'000, /*upload_idle_ms=*/500);
  auto stub = v1::ScanService::NewStub(channel_);
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  Scan silent;
  auto writer = stub->CreateScan(&context, &silent);
  v1::CreateScanRequest header;
  header.mutable_header()->add_regions("eu");
  ASSERT_TRUE(writer->Write(header));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Scan next;
  ScanHeader next_header;
  next_header.add_regions("eu");
  grpc::Status status = Submit(*channel_, next_header, "a.example\n", &next);
  EXPECT_TRUE(status.ok()) << status.error_message();
  writer->WritesDone();
  grpc::Status dropped = writer->Finish();
  EXPECT_FALSE(dropped.ok());
}

TEST_F(CoordinatorTest, AListWithoutAnyValidTargetIsRefused) {
  ScanHeader header;
  header.add_regions("eu");
  Scan scan;
  grpc::Status empty = Submit(*channel_, header, "# only a comment\n\n", &scan);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(empty.error_message(), "no valid target")) << empty.error_message();
  grpc::Status bad = Submit(*channel_, header, "bad..name\n", &scan);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CoordinatorTest, InputLimitsAreRefusedWithAClearStatus) {
  Start(10'000, /*max_active_scans=*/1, /*max_list_lines=*/5);
  ScanHeader header;
  header.add_regions("eu");
  Scan first;
  ASSERT_TRUE(Submit(*channel_, header, "a.example\nb.example\n", &first).ok());
  // A second running scan is one too many.
  Scan second;
  grpc::Status busy = Submit(*channel_, header, "c.example\n", &second);
  EXPECT_EQ(busy.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(busy.error_message(), "--max-active-scans"))
      << busy.error_message();
  // Once it ends, there is room again; a list over the line limit is refused and not kept.
  ASSERT_TRUE(server_->coordinator().store().CancelScan(first.scan_id(), 1).ok());
  grpc::Status too_long =
      Submit(*channel_, header,
             "a.example\nb.example\nc.example\nd.example\ne.example\nf.example\n", &second);
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(too_long.error_message(), "more than 5 lines"))
      << too_long.error_message();
  std::vector<Scan> scans = server_->coordinator().store().ListScans(10).value();
  ASSERT_EQ(scans.size(), 2u);
  EXPECT_EQ(scans[0].state(), v1::SCAN_FAILED) << "the refused list is not left running";
  ASSERT_TRUE(Submit(*channel_, header, "a.example\n# five lines\n\n\nb.example\n", &second).ok());
  EXPECT_EQ(second.targets(), 2u);
}

TEST_F(CoordinatorTest, AgentWithoutClientCertificateIsRefused) {
  {
    RawAgent agent(channel_, "no-cert", "eu");
    EXPECT_FALSE(agent.Hello());
    EXPECT_EQ(agent.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    RawAgent agent(TlsChannel(server_->port(), &SharedCoordinatorPki().stranger), "stranger", "eu");
    EXPECT_FALSE(agent.Hello());
    EXPECT_NE(agent.Finish().error_code(), grpc::StatusCode::OK);
  }
  RawAgent agent(agent_channel_, "agent-1", "eu");
  EXPECT_TRUE(agent.Hello());
}

TEST_F(CoordinatorTest, DuplicateBatchIsCountedOnce) {
  Scan scan = SubmitOk(RefusedTargets(30001, 3));
  RawAgent agent(agent_channel_, "agent-1", "eu");
  ASSERT_TRUE(agent.Hello());
  ASSERT_TRUE(agent.RequestLease(1));
  CoordinatorMessage message;
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kAssignment, &message));
  const v1::ShardAssignment assignment = message.assignment();
  ASSERT_EQ(assignment.targets_size(), 3);
  AgentMessage batch;
  batch.mutable_results()->set_lease_id(assignment.lease_id());
  batch.mutable_results()->set_seq(0);
  for (const v1::ShardTarget& target : assignment.targets()) {
    v1::ProbeResult* result = batch.mutable_results()->add_results();
    result->set_target(target.input());
    result->set_line_number(target.line_number());
    result->set_failure(v1::TCP_REFUSED);
  }
  ASSERT_TRUE(agent.Send(batch));
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kAck, &message));
  EXPECT_EQ(message.ack().status(), v1::BatchAck::ACCEPTED);
  ASSERT_TRUE(agent.Send(batch));  // As after a lost ack.
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kAck, &message));
  EXPECT_EQ(message.ack().status(), v1::BatchAck::DUPLICATE);
  AgentMessage complete;
  complete.mutable_shard_complete()->set_lease_id(assignment.lease_id());
  complete.mutable_shard_complete()->set_batches(1);
  ASSERT_TRUE(agent.Send(complete));
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kCompleteAck, &message));
  EXPECT_TRUE(message.complete_ack().accepted()) << message.complete_ack().detail();

  Scan done = WaitForScanEnd(*channel_, scan.scan_id(), 5'000);
  EXPECT_EQ(done.state(), v1::SCAN_DONE);
  EXPECT_EQ(done.progress(0).results(), 3u);
  std::vector<v1::ProbeResult> results =
      server_->coordinator().store().Results(scan.scan_id(), "eu").value();
  EXPECT_EQ(results.size(), 3u);
}

// One batch is one store transaction under the store's mutex: a batch above 10,000 results
// would stall every other agent, so the coordinator refuses it.
TEST_F(CoordinatorTest, ABatchAboveTheCapIsRefused) {
  SubmitOk(RefusedTargets(30201, 2));
  RawAgent agent(agent_channel_, "agent-1", "eu");
  ASSERT_TRUE(agent.Hello());
  ASSERT_TRUE(agent.RequestLease(1));
  CoordinatorMessage message;
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kAssignment, &message));
  AgentMessage batch;
  batch.mutable_results()->set_lease_id(message.assignment().lease_id());
  for (int i = 0; i < 10'001; ++i) {
    v1::ProbeResult* result = batch.mutable_results()->add_results();
    result->set_line_number(message.assignment().targets(0).line_number());
    result->set_failure(v1::TCP_REFUSED);
  }
  ASSERT_TRUE(agent.Send(batch));
  while (agent.Read(&message)) {
    EXPECT_NE(message.body_case(), CoordinatorMessage::kAck) << "the batch was not acknowledged";
  }
  grpc::Status status = agent.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "above the coordinator's 10000"))
      << status.error_message();
}

// A batch with another shard's line is not stored: the agent is told its lease is stale (so it
// stops, instead of resending for ever) and the shard goes to the next agent.
TEST_F(CoordinatorTest, ABatchOutsideItsLeaseIsRefusedAndTheShardLeasedAgain) {
  Scan scan = SubmitOk(RefusedTargets(30101, 4), /*shard_size=*/2);
  RawAgent agent(agent_channel_, "agent-1", "eu");
  ASSERT_TRUE(agent.Hello());
  ASSERT_TRUE(agent.RequestLease(1));
  CoordinatorMessage message;
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kAssignment, &message));
  const v1::ShardAssignment assignment = message.assignment();
  AgentMessage batch;
  batch.mutable_results()->set_lease_id(assignment.lease_id());
  v1::ProbeResult* result = batch.mutable_results()->add_results();
  result->set_line_number(assignment.targets(0).line_number() == 1 ? 3 : 1);
  result->set_failure(v1::TCP_REFUSED);
  ASSERT_TRUE(agent.Send(batch));
  ASSERT_TRUE(agent.ReadUntil(CoordinatorMessage::kAck, &message));
  EXPECT_EQ(message.ack().status(), v1::BatchAck::STALE);
  EXPECT_TRUE(server_->coordinator().store().Results(scan.scan_id(), "eu").value().empty());

  RawAgent next(agent_channel_, "agent-2", "eu");
  ASSERT_TRUE(next.Hello(2));
  ASSERT_TRUE(next.RequestLease(2));
  std::set<uint64_t> shards;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(next.ReadUntil(CoordinatorMessage::kAssignment, &message));
    shards.insert(message.assignment().shard());
  }
  EXPECT_TRUE(shards.contains(assignment.shard())) << "the refused shard is leased again";
}

TEST_F(CoordinatorTest, AgentThatCannotRunEndpointUnitsIsRefused) {
  RawAgent old(agent_channel_, "agent-old", "eu");
  AgentMessage hello;
  hello.mutable_hello()->set_agent_id("agent-old");
  hello.mutable_hello()->set_region("eu");
  hello.mutable_hello()->set_capacity(1);
  ASSERT_TRUE(old.Send(hello));
  CoordinatorMessage message;
  EXPECT_FALSE(old.Read(&message)) << "no welcome";
  grpc::Status status = old.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "upgrade tlsweep-agent"))
      << status.error_message();
}

// An agent of the previous version runs endpoint units but probes only each entry's first
// name: its answer would be given to every other name unchecked.
TEST_F(CoordinatorTest, AgentThatDoesNotShareAddressesIsRefused) {
  RawAgent old(agent_channel_, "agent-v1", "eu");
  AgentMessage hello;
  hello.mutable_hello()->set_agent_id("agent-v1");
  hello.mutable_hello()->set_region("eu");
  hello.mutable_hello()->set_capacity(1);
  hello.mutable_hello()->set_runs_endpoint_units(true);
  ASSERT_TRUE(old.Send(hello));
  CoordinatorMessage message;
  EXPECT_FALSE(old.Read(&message)) << "no welcome";
  grpc::Status status = old.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "each shared address once"))
      << status.error_message();
}

// The largest shard the coordinator accepts (100,000 targets) with the longest names (253
// characters) reaches a real agent: gRPC's default 4 MB receive limit used to break the stream,
// and every target ended agent_lost with nothing probed.
TEST_F(CoordinatorTest, TheLargestShardReachesTheAgent) {
  constexpr int kTargets = 100'000;
  std::string list;
  const std::string tail = absl::StrCat(".", std::string(63, 'b'), ".", std::string(63, 'c'), ".",
                                        std::string(55, 'd'), ".example");
  for (int i = 0; i < kTargets; ++i) {
    std::string head = absl::StrCat("t", i);
    head.resize(61, 'a');
    absl::StrAppend(&list, head, tail, "\n");
  }
  ASSERT_EQ(list.find('\n'), 253u) << "the longest name";
  ScanHeader header;
  header.add_regions("eu");
  header.set_shard_size(kTargets);
  Scan scan;
  ASSERT_TRUE(Submit(*channel_, header, list, &scan, kToken, 1 << 20).ok());
  ASSERT_EQ(scan.targets(), static_cast<uint64_t>(kTargets));

  std::atomic<int> received{-1};
  agent::ShardRunner runner = [&](const v1::ShardAssignment& assignment,
                                  const std::function<void(v1::ProbeResult)>&,
                                  const std::atomic<bool>&) {
    received = assignment.targets_size();
    return absl::OkStatus();
  };
  auto client = agent::AgentClient::Create(TestAgentOptions(server_->port(), "agent-big"), runner);
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received < 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*client)->Stop();
  run.join();
  EXPECT_EQ(received.load(), kTargets);
}

TEST_F(CoordinatorTest, AgentNeverHoldsMoreThanTwiceItsCapacity) {
  Scan scan = SubmitOk(RefusedTargets(30101, 20), /*shard_size=*/2);
  ASSERT_EQ(scan.shards(), 10u);
  RawAgent agent(agent_channel_, "agent-greedy", "eu");
  ASSERT_TRUE(agent.Hello(/*capacity=*/2));
  // Asks for five three times without finishing anything; a heartbeat after each request marks
  // where its answer ends (one message is handled at a time, in order).
  std::vector<int> granted;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(agent.RequestLease(5));
    AgentMessage heartbeat;
    heartbeat.mutable_heartbeat();
    ASSERT_TRUE(agent.Send(heartbeat));
    int assignments = 0;
    CoordinatorMessage message;
    while (agent.Read(&message) && !message.has_heartbeat_ack()) {
      assignments += message.has_assignment() ? 1 : 0;
    }
    granted.push_back(assignments);
  }
  EXPECT_EQ(granted, (std::vector<int>{2, 2, 0}))
      << "capacity per request, and never more than twice the capacity held";
}

TEST_F(CoordinatorTest, ExpiredLeaseIsReassignedAndTheOldOneRefused) {
  server_.reset();
  Start(/*lease_ms=*/600);
  Scan scan = SubmitOk(RefusedTargets(30001, 2));
  RawAgent silent(agent_channel_, "agent-silent", "eu");
  ASSERT_TRUE(silent.Hello());
  ASSERT_TRUE(silent.RequestLease(1));
  CoordinatorMessage message;
  ASSERT_TRUE(silent.ReadUntil(CoordinatorMessage::kAssignment, &message));
  const uint64_t old_lease = message.assignment().lease_id();
  // No heartbeat: the lease expires, the agent is told, and the shard goes to another agent.
  ASSERT_TRUE(silent.ReadUntil(CoordinatorMessage::kCancelled, &message));
  EXPECT_EQ(message.cancelled().lease_id(), old_lease);

  RawAgent second(agent_channel_, "agent-2", "eu");
  ASSERT_TRUE(second.Hello());
  ASSERT_TRUE(second.RequestLease(1));
  ASSERT_TRUE(second.ReadUntil(CoordinatorMessage::kAssignment, &message));
  EXPECT_EQ(message.assignment().attempt(), 2u);
  EXPECT_NE(message.assignment().lease_id(), old_lease);

  AgentMessage late;
  late.mutable_results()->set_lease_id(old_lease);
  late.mutable_results()->set_seq(0);
  late.mutable_results()->add_results()->set_target("127.0.0.77:30001");
  ASSERT_TRUE(silent.Send(late));
  ASSERT_TRUE(silent.ReadUntil(CoordinatorMessage::kAck, &message));
  EXPECT_EQ(message.ack().status(), v1::BatchAck::STALE);
}

TEST_F(CoordinatorTest, LostShardGivesEveryTargetAgentLost) {
  server_.reset();
  Start(/*lease_ms=*/300);
  Scan scan = SubmitOk(RefusedTargets(30001, 3), 10, /*max_attempts=*/1);
  {
    RawAgent doomed(agent_channel_, "agent-doomed", "eu");
    ASSERT_TRUE(doomed.Hello());
    ASSERT_TRUE(doomed.RequestLease(1));
    CoordinatorMessage message;
    ASSERT_TRUE(doomed.ReadUntil(CoordinatorMessage::kAssignment, &message));
  }  // Disconnects without a word.
  Scan done = WaitForScanEnd(*channel_, scan.scan_id(), 10'000);
  EXPECT_EQ(done.state(), v1::SCAN_DONE);
  EXPECT_EQ(done.progress(0).shards_lost(), 1u);
  std::vector<v1::ProbeResult> results =
      server_->coordinator().store().Results(scan.scan_id(), "eu").value();
  ASSERT_EQ(results.size(), 3u);
  for (const v1::ProbeResult& result : results) EXPECT_EQ(result.failure(), v1::AGENT_LOST);
}

TEST_F(CoordinatorTest, RealAgentProbesAScanEndToEnd) {
  auto no_starttls = HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kNoStarttls);
  auto alert = HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kTlsAlert);
  ASSERT_TRUE(no_starttls.ok() && alert.ok());
  const std::string list = absl::StrCat((*no_starttls)->endpoint(), "\n", (*alert)->endpoint(),
                                        "\n", RefusedTargets(30001, 5));
  Scan scan = SubmitOk(list, /*shard_size=*/2);
  ASSERT_EQ(scan.targets(), 7u);

  const agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  auto client = agent::AgentClient::Create(TestAgentOptions(server_->port(), "agent-real"),
                                           agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  Scan done = WaitForScanEnd(*channel_, scan.scan_id(), 60'000);
  (*client)->Stop();
  run.join();
  EXPECT_EQ(done.state(), v1::SCAN_DONE);
  EXPECT_EQ(done.progress(0).shards_done(), 4u);
  std::vector<v1::ProbeResult> results =
      server_->coordinator().store().Results(scan.scan_id(), "eu").value();
  ASSERT_EQ(results.size(), 7u);
  std::map<uint64_t, int> per_line;
  for (const v1::ProbeResult& result : results) ++per_line[result.line_number()];
  EXPECT_EQ(per_line.size(), 7u);
  EXPECT_EQ(results[0].failure(), v1::STARTTLS_NOT_OFFERED) << results[0].failure_detail();
  EXPECT_EQ(results[1].failure(), v1::TLS_NO_SHARED_CIPHER)  // Alert 40.
      << results[1].failure_detail();
  for (size_t i = 2; i < results.size(); ++i) {
    EXPECT_EQ(results[i].failure(), v1::TCP_REFUSED) << results[i].target();
  }
  EXPECT_GE((*client)->stats().shards_completed.load(), 4);
}

}  // namespace
}  // namespace tlsweep::testing
