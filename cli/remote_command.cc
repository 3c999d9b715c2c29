#include "cli/remote_command.h"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cli/exit_codes.h"
#include "cli/proto_json.h"
#include "cli/remote_call.h"
#include "cli/remote_client.h"
#include "cli/report_output.h"
#include "cli/scan_progress.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::cli {
namespace {

struct RemoteCommandFlags {
  RemoteFlags remote;
  // submit
  std::string domains;
  std::string name;
  ProfileFlags profile;
  std::vector<std::string> regions;
  uint32_t shard_size = 0;
  uint32_t endpoint_shard_size = 0;
  uint32_t port = 0;
  uint32_t max_attempts = 0;
  bool reject_bad_lines = false;
  bool watch = false;
  // list
  uint32_t limit = 20;
  // get, watch, cancel
  std::string scan_id;
  bool json = false;
  // watch (and submit --watch): the report and its gates once the scan is done.
  GateFlags gates;
  bool report = false;
};

bool IsTerminal(v1::ScanState state) {
  return state == v1::SCAN_DONE || state == v1::SCAN_CANCELLED || state == v1::SCAN_FAILED;
}

void PrintScan(const v1::Scan& scan) {
  std::cout << "scan " << scan.scan_id() << " '" << scan.name()
            << "': " << ScanStateText(scan.state());
  if (!scan.detail().empty()) std::cout << " (" << scan.detail() << ")";
  std::cout << "\n  " << scan.targets() << " targets (" << scan.lines() << " lines, "
            << scan.bad_line_count() << " bad, " << scan.duplicate_count() << " duplicates), "
            << scan.shards() << " shards of " << scan.shard_size() << " per region, probe units of "
            << scan.endpoint_shard_size() << " endpoints\n"
            << "  created " << FormatUnixMs(scan.created_unix_ms()) << ", finished "
            << FormatUnixMs(scan.finished_unix_ms()) << "\n";
  for (const v1::RegionProgress& p : scan.progress()) {
    std::cout << absl::StrFormat(
        "  %-8s %d/%d shards done (%d leased, %d pending, %d lost), %d targets, %d results, "
        "%s\n",
        p.region(), p.shards_done(), p.shards(), p.shards_leased(), p.shards_pending(),
        p.shards_lost(), p.targets_done(), p.results(),
        p.agents_connected() == 0 ? "NO AGENT CONNECTED"
                                  : absl::StrCat(p.agents_connected(), " agent(s) connected"));
  }
}

// Streams WatchScan: a progress bar per region, redrawn in place on a terminal, otherwise
// printed when the state changes and every 10 s. Exit 0 when done, 1 otherwise.
int Watch(v1::ScanService::Stub& stub, const RemoteConnection& connection,
          const std::string& scan_id) {
  grpc::ClientContext context;
  connection.Prepare(context, /*streaming=*/true);
  v1::WatchScanRequest request;
  request.set_scan_id(scan_id);
  std::unique_ptr<grpc::ClientReader<v1::Scan>> reader = stub.WatchScan(&context, request);
  const bool tty = isatty(STDOUT_FILENO) == 1;
  ScanProgressView view;
  v1::Scan scan;
  v1::ScanState last = v1::SCAN_STATE_UNSPECIFIED;
  int drawn = 0;
  ScanProgressView::Clock::time_point printed;
  while (reader->Read(&scan)) {
    const auto now = ScanProgressView::Clock::now();
    view.Update(scan, now);
    const std::string block = absl::StrCat(ScanProgressLine(scan), "\n", view.Render());
    if (tty) {
      if (drawn > 0) std::cout << "\033[" << drawn << "F\033[J";  // Up, then clear below.
      std::cout << block << std::flush;
      drawn = view.lines() + 1;
    } else if (scan.state() != last || IsTerminal(scan.state()) ||
               now - printed >= std::chrono::seconds(10)) {
      std::cout << block << std::flush;
      printed = now;
    }
    last = scan.state();
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError("remote watch", status);
  return last == v1::SCAN_DONE ? 0 : 1;
}

// Once the scan is done: its text report from the coordinator, and the exit status the gates
// give it (3 tripped, 4 inconclusive), so that `watch` can hold a config change in CI.
int ReportAndGate(v1::ScanService::Stub& stub, const RemoteConnection& connection,
                  const std::string& scan_id, const GateFlags& gates) {
  grpc::ClientContext context;
  connection.Prepare(context, /*streaming=*/true);
  v1::GetReportRequest request;
  request.set_scan_id(scan_id);
  request.set_format("text");
  request.set_baseline(gates.baseline);
  for (const std::string& gate : gates.fail_on) request.add_fail_on(gate);
  std::unique_ptr<grpc::ClientReader<v1::ReportChunk>> reader = stub.GetReport(&context, request);
  v1::ReportChunk chunk;
  std::vector<std::string> tripped, inconclusive;
  while (reader->Read(&chunk)) {
    std::cout << chunk.data();
    tripped.insert(tripped.end(), chunk.tripped().begin(), chunk.tripped().end());
    inconclusive.insert(inconclusive.end(), chunk.inconclusive().begin(),
                        chunk.inconclusive().end());
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError("remote watch", status);
  for (const std::string& line : tripped)
    std::cerr << "tlsweep: --fail-on tripped: " << line << "\n";
  for (const std::string& line : inconclusive)
    std::cerr << "tlsweep: inconclusive in " << line << "\n";
  if (!tripped.empty()) return kExitGateTripped;
  if (!inconclusive.empty()) return kExitInconclusive;
  return kExitOk;
}

int WatchThenGate(v1::ScanService::Stub& stub, const RemoteConnection& connection,
                  const RemoteCommandFlags& flags, const std::string& scan_id) {
  if (absl::StatusOr<std::vector<coordinator::report::FailOn>> gates = ParseGates(flags.gates);
      !gates.ok()) {
    return ReportCommandError("remote watch", gates.status());
  }
  const int watched = Watch(stub, connection, scan_id);
  if (watched != kExitOk || (!flags.report && flags.gates.fail_on.empty())) return watched;
  return ReportAndGate(stub, connection, scan_id, flags.gates);
}

int RunSubmit(const RemoteCommandFlags& flags) {
  constexpr absl::string_view kCommand = "remote submit";
  absl::StatusOr<v1::ProbeProfile> profile = BuildProfile(flags.profile);
  if (!profile.ok()) return ReportCommandError(kCommand, profile.status());
  const std::vector<std::string> regions = SplitRegions(flags.regions);
  if (regions.empty()) {
    return ReportCommandError(kCommand, absl::InvalidArgumentError("give --regions"));
  }
  if (absl::Status list = CheckListFile(flags.domains); !list.ok()) {
    return ReportCommandError(kCommand, list);
  }
  return WithStub<v1::ScanService>(
      kCommand, flags.remote, [&](v1::ScanService::Stub& stub, const RemoteConnection& connection) {
        v1::CreateScanRequest request;
        v1::ScanHeader* header = request.mutable_header();
        header->set_name(flags.name);
        *header->mutable_profile() = *std::move(profile);
        for (const std::string& region : regions) header->add_regions(region);
        header->set_shard_size(flags.shard_size);
        header->set_endpoint_shard_size(flags.endpoint_shard_size);
        header->set_default_port(flags.port);
        header->set_max_attempts(flags.max_attempts);
        header->set_reject_bad_lines(flags.reject_bad_lines);
        v1::Scan scan;
        const int uploaded = UploadList(
            kCommand, connection, request, flags.domains,
            [&](grpc::ClientContext* context, v1::Scan* response) {
              return stub.CreateScan(context, response);
            },
            &scan);
        if (uploaded != 0) return uploaded;
        for (const v1::LineError& bad : scan.bad_lines()) {
          std::cerr << flags.domains << ":" << bad.line_number() << ": " << bad.reason() << ": "
                    << bad.text() << "\n";
        }
        if (flags.json) {
          std::cout << ToJson(scan, true) << "\n";
        } else {
          std::cout << scan.scan_id() << "\n";
          std::cerr << scan.targets() << " targets, " << scan.bad_line_count() << " bad line(s), "
                    << scan.duplicate_count() << " duplicate(s), " << scan.shards()
                    << " shard(s) per region\n";
        }
        for (const v1::RegionProgress& p : scan.progress()) {
          if (p.agents_connected() == 0) {
            std::cerr << "tlsweep: warning: no agent of region '" << p.region()
                      << "' is connected; its shards wait until one connects\n";
          }
        }
        if (flags.watch) return WatchThenGate(stub, connection, flags, scan.scan_id());
        return 0;
      });
}

int RunList(const RemoteCommandFlags& flags) {
  v1::ListScansRequest request;
  request.set_limit(flags.limit);
  return CallAndPrint<v1::ScanService, v1::ListScansResponse>(
      "remote list", flags.remote, flags.json,
      [&](v1::ScanService::Stub& stub, grpc::ClientContext* context,
          v1::ListScansResponse* response) { return stub.ListScans(context, request, response); },
      [](const v1::ListScansResponse& response) {
        std::cout << absl::StrFormat("%-18s %-20s %-10s %9s %-21s  %s\n", "SCAN", "NAME", "STATE",
                                     "TARGETS", "CREATED", "PROGRESS");
        for (const v1::Scan& scan : response.scans()) {
          std::vector<std::string> progress;
          for (const v1::RegionProgress& p : scan.progress()) {
            progress.push_back(
                absl::StrCat(p.region(), " ", p.shards_done() + p.shards_lost(), "/", p.shards()));
          }
          std::cout << absl::StrFormat("%-18s %-20s %-10s %9d %-21s  %s\n", scan.scan_id(),
                                       scan.name(), ScanStateText(scan.state()), scan.targets(),
                                       FormatUnixMs(scan.created_unix_ms()),
                                       absl::StrJoin(progress, ", "));
        }
      });
}

int RunGet(const RemoteCommandFlags& flags) {
  v1::GetScanRequest request;
  request.set_scan_id(flags.scan_id);
  return CallAndPrint<v1::ScanService, v1::Scan>(
      "remote get", flags.remote, flags.json,
      [&](v1::ScanService::Stub& stub, grpc::ClientContext* context, v1::Scan* scan) {
        return stub.GetScan(context, request, scan);
      },
      PrintScan);
}

int RunWatch(const RemoteCommandFlags& flags) {
  return WithStub<v1::ScanService>(
      "remote watch", flags.remote,
      [&](v1::ScanService::Stub& stub, const RemoteConnection& connection) {
        return WatchThenGate(stub, connection, flags, flags.scan_id);
      });
}

int RunCancel(const RemoteCommandFlags& flags) {
  v1::CancelScanRequest request;
  request.set_scan_id(flags.scan_id);
  return CallAndPrint<v1::ScanService, v1::Scan>(
      "remote cancel", flags.remote, /*json=*/false,
      [&](v1::ScanService::Stub& stub, grpc::ClientContext* context, v1::Scan* scan) {
        return stub.CancelScan(context, request, scan);
      },
      [](const v1::Scan& scan) { std::cout << ScanProgressLine(scan) << "\n"; });
}

}  // namespace

std::string ScanStateText(v1::ScanState state) {
  std::string name = v1::ScanState_Name(state);
  absl::string_view view = name;
  absl::ConsumePrefix(&view, "SCAN_");
  return absl::AsciiStrToLower(view);
}

std::string ScanProgressLine(const v1::Scan& scan) {
  std::vector<std::string> regions;
  for (const v1::RegionProgress& p : scan.progress()) {
    regions.push_back(absl::StrCat(
        p.region(), " ", p.shards_done() + p.shards_lost(), "/", p.shards(), " shards, ",
        p.results(), " results",
        !IsTerminal(scan.state()) && p.agents_connected() == 0 ? " (no agent connected)" : ""));
  }
  std::string line = absl::StrCat(scan.scan_id(), "  ", ScanStateText(scan.state()), "  ",
                                  absl::StrJoin(regions, "; "));
  if (IsTerminal(scan.state()) && !scan.detail().empty()) {
    absl::StrAppend(&line, "  (", scan.detail(), ")");
  }
  return line;
}

namespace {

using Flags = std::shared_ptr<RemoteCommandFlags>;

void AddSubmit(CLI::App& parent, const Flags& flags, Action& action) {
  CLI::App* submit = parent.add_subcommand(
      "submit", "Submit a target list (domain[,weight] a line) as a scan; prints its id");
  submit->add_option("--domains", flags->domains, "Target list file ('-': standard input)")
      ->required();
  submit->add_option("--name", flags->name, "Name for people (need not be unique)");
  AddProfileFlags(*submit, flags->profile);
  submit->add_option("--regions", flags->regions, "Regions to scan from, e.g. eu,us")->required();
  submit->add_option("--shard-size", flags->shard_size, "Targets per shard (0: coordinator's)")
      ->check(CLI::Range(0, 1000000));
  submit
      ->add_option("--endpoint-shard-size", flags->endpoint_shard_size,
                   "Unique MX endpoints per probe unit (0: coordinator's)")
      ->check(CLI::Range(0, 100000));
  submit->add_option("--port", flags->port, "SMTP port for targets without one (0: 25)")
      ->check(CLI::Range(0, 65535));
  submit
      ->add_option("--lease-attempts", flags->max_attempts,
                   "Leases of a shard before agent_lost (0: coordinator's)")
      ->check(CLI::Range(0, 100));
  submit->add_flag("--reject-bad-lines", flags->reject_bad_lines,
                   "Refuse the whole list when any line is bad");
  submit->add_flag("--watch", flags->watch,
                   "Then show progress until the scan ends (and the report, with --report or "
                   "--fail-on)");
  submit->add_flag("--report", flags->report, "With --watch: print the text report at the end");
  AddGateFlags(*submit, flags->gates);
  submit->add_flag("--json", flags->json, "Print the created scan as JSON");
  AddRemoteFlags(*submit, flags->remote);
  submit->callback([flags, &action] { action = [flags] { return RunSubmit(*flags); }; });
}

void AddWatch(CLI::App& parent, const Flags& flags, Action& action) {
  CLI::App* watch = parent.add_subcommand(
      "watch",
      "A progress bar per region (shards and targets done, rate, ETA, endpoint phase) until "
      "the scan ends; exit 0 when done, 1 otherwise. With --report or --fail-on, then the "
      "text report, and exit 3 when a gate trips, 4 when the scan is inconclusive");
  watch->add_option("scan", flags->scan_id, "Scan id")->required();
  watch->add_flag("--report", flags->report, "Print the text report when the scan is done");
  AddGateFlags(*watch, flags->gates);
  watch->footer(kExitStatusHelp);
  AddRemoteFlags(*watch, flags->remote);
  watch->callback([flags, &action] { action = [flags] { return RunWatch(*flags); }; });
}

void AddCancel(CLI::App& parent, const Flags& flags, Action& action) {
  CLI::App* cancel = parent.add_subcommand("cancel", "Cancel a scan");
  cancel->add_option("scan", flags->scan_id, "Scan id")->required();
  AddRemoteFlags(*cancel, flags->remote);
  cancel->callback([flags, &action] { action = [flags] { return RunCancel(*flags); }; });
}

}  // namespace

void AddRemoteCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  (void)global;
  auto flags = std::make_shared<RemoteCommandFlags>();
  CLI::App* remote = app.add_subcommand(
      "remote", "Scans on a coordinator (tlsweep-coordinator) over its gRPC API");
  remote->require_subcommand(1);
  AddSubmit(*remote, flags, action);

  CLI::App* list = remote->add_subcommand("list", "Scans, newest first");
  list->add_option("--limit", flags->limit, "At most this many")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  list->add_flag("--json", flags->json, "JSON (ListScansResponse, proto field names)");
  AddRemoteFlags(*list, flags->remote);
  list->callback([flags, &action] { action = [flags] { return RunList(*flags); }; });

  CLI::App* get = remote->add_subcommand("get", "One scan: state, counts, progress per region");
  get->add_option("scan", flags->scan_id, "Scan id")->required();
  get->add_flag("--json", flags->json, "JSON (Scan, proto field names)");
  AddRemoteFlags(*get, flags->remote);
  get->callback([flags, &action] { action = [flags] { return RunGet(*flags); }; });

  AddWatch(*remote, flags, action);
  AddCancel(*remote, flags, action);

  // The same at the top level, as operators type them: tlsweep submit|status|watch|cancel.
  auto top = std::make_shared<RemoteCommandFlags>();
  AddSubmit(app, top, action);
  CLI::App* status = app.add_subcommand(
      "status", "Scans on a coordinator, newest first; with SCAN, that scan's progress");
  status->add_option("scan", top->scan_id, "Scan id (default: list the scans)");
  status->add_option("--limit", top->limit, "At most this many scans")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  status->add_flag("--json", top->json, "JSON (proto field names)");
  AddRemoteFlags(*status, top->remote);
  status->callback([top, &action] {
    action = [top] { return top->scan_id.empty() ? RunList(*top) : RunGet(*top); };
  });
  AddWatch(app, top, action);
  AddCancel(app, top, action);
}

}  // namespace tlsweep::cli
