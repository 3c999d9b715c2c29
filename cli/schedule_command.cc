#include "cli/schedule_command.h"

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/proto_json.h"
#include "cli/remote_call.h"
#include "cli/remote_client.h"
#include "cli/remote_command.h"
#include "tlsweep/v1/schedule.grpc.pb.h"

namespace tlsweep::cli {
namespace {

struct ScheduleFlags {
  RemoteFlags remote;
  // add
  std::string name;
  std::string cron;
  std::string domains;
  ProfileFlags profile;
  std::vector<std::string> regions;
  uint32_t retention = 10;
  uint32_t shard_size = 0;
  uint32_t endpoint_shard_size = 0;
  uint32_t port = 0;
  uint32_t max_attempts = 0;
  bool reject_bad_lines = false;
  // list
  bool json = false;
  // remove, run
  std::string schedule_id;
  bool delete_runs = false;
};

int RunAdd(const ScheduleFlags& flags) {
  constexpr absl::string_view kCommand = "schedule add";
  absl::StatusOr<v1::ProbeProfile> profile = BuildProfile(flags.profile);
  if (!profile.ok()) return ReportCommandError(kCommand, profile.status());
  const std::vector<std::string> regions = SplitRegions(flags.regions);
  if (regions.empty()) {
    return ReportCommandError(kCommand, absl::InvalidArgumentError("give --regions"));
  }
  if (absl::Status list = CheckListFile(flags.domains); !list.ok()) {
    return ReportCommandError(kCommand, list);
  }
  return WithStub<v1::ScheduleService>(
      kCommand, flags.remote,
      [&](v1::ScheduleService::Stub& stub, const RemoteConnection& connection) {
        v1::AddScheduleRequest request;
        v1::ScheduleHeader* header = request.mutable_header();
        header->set_name(flags.name);
        header->set_cron(flags.cron);
        *header->mutable_profile() = *std::move(profile);
        for (const std::string& region : regions) header->add_regions(region);
        header->set_retention(flags.retention);
        header->set_shard_size(flags.shard_size);
        header->set_endpoint_shard_size(flags.endpoint_shard_size);
        header->set_default_port(flags.port);
        header->set_max_attempts(flags.max_attempts);
        header->set_reject_bad_lines(flags.reject_bad_lines);
        v1::Schedule schedule;
        const int uploaded = UploadList(
            kCommand, connection, request, flags.domains,
            [&](grpc::ClientContext* context, v1::Schedule* response) {
              return stub.AddSchedule(context, response);
            },
            &schedule);
        if (uploaded != 0) return uploaded;
        if (flags.json) {
          std::cout << ToJson(schedule, true) << "\n";
          return 0;
        }
        std::cout << "schedule " << schedule.schedule_id() << " '" << schedule.name()
                  << "': " << schedule.targets() << " targets, cron '" << schedule.cron()
                  << "', next run " << FormatUnixMs(schedule.next_run_unix_ms()) << ", keeps "
                  << schedule.retention() << " runs\n";
        for (const v1::LineError& bad : schedule.bad_lines()) {
          std::cerr << flags.domains << ":" << bad.line_number() << ": " << bad.reason() << ": "
                    << bad.text() << "\n";
        }
        if (schedule.bad_line_count() > 0) {
          std::cerr << schedule.bad_line_count() << " bad line(s) skipped\n";
        }
        return 0;
      });
}

void PrintSchedules(const v1::ListSchedulesResponse& response) {
  if (response.schedules().empty()) {
    std::cout << "no schedules\n";
    return;
  }
  std::cout << absl::StrFormat("%-18s %-20s %-16s %-21s %5s %9s  %s\n", "SCHEDULE", "NAME", "CRON",
                               "NEXT RUN", "KEEP", "TARGETS", "LAST RUNS");
  for (const v1::Schedule& schedule : response.schedules()) {
    std::vector<std::string> runs;
    for (int i = 0; i < schedule.runs_size() && i < 3; ++i) {
      runs.push_back(
          absl::StrCat(schedule.runs(i).scan_id(), " ", ScanStateText(schedule.runs(i).state())));
    }
    std::cout << absl::StrFormat(
        "%-18s %-20s %-16s %-21s %5d %9d  %s\n", schedule.schedule_id(), schedule.name(),
        schedule.cron(), FormatUnixMs(schedule.next_run_unix_ms()), schedule.retention(),
        schedule.targets(), runs.empty() ? "-" : absl::StrJoin(runs, ", "));
  }
}

int RunList(const ScheduleFlags& flags) {
  return CallAndPrint<v1::ScheduleService, v1::ListSchedulesResponse>(
      "schedule list", flags.remote, flags.json,
      [](v1::ScheduleService::Stub& stub, grpc::ClientContext* context,
         v1::ListSchedulesResponse* response) {
        return stub.ListSchedules(context, v1::ListSchedulesRequest(), response);
      },
      PrintSchedules);
}

int RunRemove(const ScheduleFlags& flags) {
  v1::RemoveScheduleRequest request;
  request.set_schedule_id(flags.schedule_id);
  request.set_delete_runs(flags.delete_runs);
  return CallAndPrint<v1::ScheduleService, v1::RemoveScheduleResponse>(
      "schedule remove", flags.remote, /*json=*/false,
      [&](v1::ScheduleService::Stub& stub, grpc::ClientContext* context,
          v1::RemoveScheduleResponse* response) {
        return stub.RemoveSchedule(context, request, response);
      },
      [&](const v1::RemoveScheduleResponse&) {
        std::cout << "removed " << flags.schedule_id << "\n";
      });
}

int RunNow(const ScheduleFlags& flags) {
  v1::RunScheduleNowRequest request;
  request.set_schedule_id(flags.schedule_id);
  return CallAndPrint<v1::ScheduleService, v1::Scan>(
      "schedule run", flags.remote, /*json=*/false,
      [&](v1::ScheduleService::Stub& stub, grpc::ClientContext* context, v1::Scan* scan) {
        return stub.RunScheduleNow(context, request, scan);
      },
      [](const v1::Scan& scan) { std::cout << scan.scan_id() << "\n"; });
}

}  // namespace

void AddScheduleCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  (void)global;
  auto flags = std::make_shared<ScheduleFlags>();
  CLI::App* schedule = app.add_subcommand(
      "schedule",
      "Recurring scans kept by a coordinator: a list, candidates and regions run on a cron "
      "schedule; each run's report diffs against the previous run");
  schedule->require_subcommand(1);

  CLI::App* add = schedule->add_subcommand("add", "Save a template and its schedule");
  add->add_option("--name", flags->name, "Name (each run's scan gets it)")->required();
  add->add_option("--cron", flags->cron,
                  "When, UTC: 'minute hour day month weekday' or @daily, @hourly, @weekly...")
      ->required();
  add->add_option("--domains", flags->domains, "Target list file ('-': standard input)")
      ->required();
  AddProfileFlags(*add, flags->profile);
  add->add_option("--regions", flags->regions, "Regions to scan from, e.g. eu,us")->required();
  add->add_option("--retention", flags->retention, "Runs kept (older runs' scans are deleted)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  add->add_option("--shard-size", flags->shard_size, "Targets per shard (0: coordinator's)")
      ->check(CLI::Range(0, 1000000));
  add->add_option("--endpoint-shard-size", flags->endpoint_shard_size,
                  "Unique MX endpoints per probe unit (0: coordinator's)")
      ->check(CLI::Range(0, 100000));
  add->add_option("--port", flags->port, "SMTP port for targets without one (0: 25)")
      ->check(CLI::Range(0, 65535));
  add->add_option("--lease-attempts", flags->max_attempts,
                  "Leases of a shard before agent_lost (0: coordinator's)")
      ->check(CLI::Range(0, 100));
  add->add_flag("--reject-bad-lines", flags->reject_bad_lines,
                "Refuse the whole list when any line is bad");
  add->add_flag("--json", flags->json, "Print the stored schedule as JSON");
  AddRemoteFlags(*add, flags->remote);
  add->callback([flags, &action] { action = [flags] { return RunAdd(*flags); }; });

  CLI::App* list = schedule->add_subcommand("list", "Schedules, next run times and last runs");
  list->add_flag("--json", flags->json, "JSON (ListSchedulesResponse, proto field names)");
  AddRemoteFlags(*list, flags->remote);
  list->callback([flags, &action] { action = [flags] { return RunList(*flags); }; });

  CLI::App* remove = schedule->add_subcommand("remove", "Forget a schedule (its scans stay)");
  remove->add_option("schedule", flags->schedule_id, "Schedule id")->required();
  remove->add_flag("--delete-runs", flags->delete_runs, "Also delete the scans of its runs");
  AddRemoteFlags(*remove, flags->remote);
  remove->callback([flags, &action] { action = [flags] { return RunRemove(*flags); }; });

  CLI::App* run = schedule->add_subcommand("run", "Start a run now (the schedule is unchanged)");
  run->add_option("schedule", flags->schedule_id, "Schedule id")->required();
  AddRemoteFlags(*run, flags->remote);
  run->callback([flags, &action] { action = [flags] { return RunNow(*flags); }; });
}

}  // namespace tlsweep::cli
