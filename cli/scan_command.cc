#include "cli/scan_command.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "agent/flags/probe_flags.h"
#include "backends/backend_info.h"
#include "cli/enumeration_reuse_flags.h"
#include "cli/exit_codes.h"
#include "cli/remote_client.h"
#include "cli/report_output.h"
#include "cli/scan_progress.h"
#include "coordinator/report/candidate_offers.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::cli {
namespace {

struct ScanCommandOptions {
  std::string domains_file;
  std::string name;
  std::string regions = "local";
  std::string state_dir = "tlsweep-state";
  std::string output = "report.html";
  std::string format;  // Empty: from the output's extension.
  size_t shard_size = 500;
  GateFlags gates;
  agent::PolitenessFlags politeness;
  agent::ProbeFlags flags;
  EnumerationReuseFlags reuse;
};

// The scan's profile: the candidates and the enumeration switch, as the agents will get them.
tlsweep::v1::ProbeProfile ProfileOf(const agent::SweepOptions& options, bool enumerate) {
  tlsweep::v1::ProbeProfile profile;
  for (const backends::TlsCandidate& candidate : options.candidates) {
    *profile.add_candidates() = candidate.settings;
  }
  profile.set_enumerate(enumerate);
  return profile;
}

absl::StatusOr<tlsweep::v1::Scan> Submit(tlsweep::v1::ScanService::Stub& stub,
                                         const std::string& file,
                                         const tlsweep::v1::ScanHeader& header) {
  if (absl::Status list = CheckListFile(file); !list.ok()) return list;
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read domain list '", file, "'"));
  grpc::ClientContext context;
  tlsweep::v1::Scan scan;
  std::unique_ptr<grpc::ClientWriter<tlsweep::v1::CreateScanRequest>> writer =
      stub.CreateScan(&context, &scan);
  tlsweep::v1::CreateScanRequest request;
  *request.mutable_header() = header;
  bool ok = writer->Write(request);
  std::string chunk(256 * 1024, '\0');
  while (ok && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (in.gcount() <= 0) break;
    request.mutable_chunk()->set_data(chunk.data(), static_cast<size_t>(in.gcount()));
    ok = writer->Write(request);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return scan;
}

int RunScan(const GlobalOptions& global, const ScanCommandOptions& options) {
  absl::StatusOr<std::vector<coordinator::report::FailOn>> gates = ParseGates(options.gates);
  if (!gates.ok()) {
    std::cerr << "tlsweep: " << gates.status().message() << "\n";
    return kExitUsage;
  }
  // The reuse flags are read before anything starts; the profile takes them at submission.
  tlsweep::v1::ProbeProfile reuse_fields;
  if (absl::Status reuse = ApplyEnumerationReuse(options.reuse, reuse_fields); !reuse.ok()) {
    std::cerr << "tlsweep: " << reuse.message() << "\n";
    return kExitUsage;
  }
  if (absl::Status input = CheckNotAnInput(options.output, {options.domains_file}); !input.ok()) {
    std::cerr << "tlsweep: " << input.message() << "\n";
    return kExitUsage;
  }
  std::optional<backends::BackendRegistry> registry = LoadRegistry(global);
  if (!registry) return kExitError;
  std::optional<agent::PreparedSweep> prepared =
      agent::PrepareSweepOrReport(options.flags, *registry);
  if (!prepared) return kExitUsage;
  std::error_code error;
  std::filesystem::create_directories(options.state_dir, error);
  if (error) {
    std::cerr << "tlsweep: cannot create state directory '" << options.state_dir
              << "': " << error.message() << "\n";
    return kExitUsage;
  }
  const std::string store_path = options.state_dir + "/store.db";

  // The coordinator, on a loopback port of its own (plain text: nothing leaves this process).
  coordinator::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.store_path = store_path;
  server_options.dev = true;
  server_options.registry = &*registry;
  absl::StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> server =
      coordinator::CoordinatorServer::Start(server_options);
  if (!server.ok()) {
    std::cerr << "tlsweep: " << server.status().message() << "\n";
    return kExitError;
  }
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  // One agent per region, in this process, on the same code path as tlsweep-agent.
  std::vector<std::string> regions = absl::StrSplit(options.regions, ',', absl::SkipWhitespace());
  agent::SweepRunnerOptions runner;
  runner.base = prepared->options;
  agent::ApplyPoliteness(options.politeness, runner.base);
  runner.registry = &*registry;
  runner.ca_file = options.flags.ca_file;
  // Every "region" of an embedded scan probes from this one machine: one gate for them all.
  runner.gate = std::make_shared<agent::PolitenessGate>(runner.base.politeness);
  // ... and one candidate cache: each candidate is expanded once, not once per region.
  runner.candidates = std::make_shared<backends::CandidateCache>(*registry, runner.ca_file);
  const std::vector<tlsweep::v1::BackendInfo> backend_infos = backends::DescribeBackends(*registry);
  std::vector<std::unique_ptr<agent::AgentClient>> agents;
  std::vector<std::thread> agent_threads;
  for (const std::string& region : regions) {
    agent::AgentClientOptions agent_options;
    agent_options.coordinator = address;
    agent_options.region = region;
    agent_options.insecure = true;
    agent_options.agent_id = absl::StrCat("embedded-", region);
    agent_options.spool_path = absl::StrCat(options.state_dir, "/spool-", region, ".db");
    agent_options.version = "tlsweep embedded";
    agent_options.capacity = 2;
    agent_options.runs_endpoint_units = true;  // MakeSweepRunner runs both unit kinds.
    agent_options.poll_ms = 250;               // One process: no reason to wait long for work.
    agent_options.flush_ms = 250;
    agent_options.backends = backend_infos;
    absl::StatusOr<std::unique_ptr<agent::AgentClient>> client =
        agent::AgentClient::Create(agent_options, agent::MakeSweepRunner(runner));
    if (!client.ok()) {
      std::cerr << "tlsweep: " << client.status().message() << "\n";
      return kExitError;
    }
    agents.push_back(*std::move(client));
  }
  for (auto& client : agents) agent_threads.emplace_back([&client] { client->Run(); });
  auto stop_all = [&] {
    for (auto& client : agents) client->Stop();
    for (std::thread& thread : agent_threads) thread.join();
    (*server)->Shutdown();
  };

  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  std::unique_ptr<tlsweep::v1::ScanService::Stub> stub = tlsweep::v1::ScanService::NewStub(channel);
  tlsweep::v1::ScanHeader header;
  header.set_name(options.name.empty()
                      ? std::filesystem::path(options.domains_file).filename().string()
                      : options.name);
  *header.mutable_profile() = ProfileOf(prepared->options, prepared->enumerate);
  header.mutable_profile()->MergeFrom(reuse_fields);
  for (const std::string& region : regions) header.add_regions(region);
  header.set_shard_size(static_cast<uint32_t>(options.shard_size));
  header.set_default_port(options.flags.port);
  absl::StatusOr<tlsweep::v1::Scan> scan = Submit(*stub, options.domains_file, header);
  if (!scan.ok()) {
    std::cerr << "tlsweep: " << scan.status().message() << "\n";
    stop_all();
    return kExitUsage;
  }
  for (const tlsweep::v1::LineError& bad : scan->bad_lines()) {
    std::cerr << "tlsweep: " << options.domains_file << ":" << bad.line_number() << ": "
              << bad.reason() << " ('" << bad.text() << "')\n";
  }
  std::cerr << "tlsweep: scan " << scan->scan_id() << ": " << scan->targets() << " targets ("
            << scan->bad_line_count() << " bad lines, " << scan->duplicate_count()
            << " duplicates), " << regions.size() << " region(s), state in " << options.state_dir
            << "\n";

  // Progress until the scan ends: bars redrawn in place on a terminal, else every 10 s.
  const bool tty = isatty(STDERR_FILENO) == 1;
  auto last_print = std::chrono::steady_clock::now();
  ScanProgressView view;
  int drawn = 0;
  tlsweep::v1::Scan current = *scan;
  while (current.state() == tlsweep::v1::SCAN_RUNNING ||
         current.state() == tlsweep::v1::SCAN_SUBMITTING) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    grpc::ClientContext context;
    tlsweep::v1::GetScanRequest request;
    request.set_scan_id(scan->scan_id());
    if (!stub->GetScan(&context, request, &current).ok()) continue;
    const auto now = std::chrono::steady_clock::now();
    view.Update(current, now);
    if (tty) {
      if (drawn > 0) std::cerr << "\033[" << drawn << "F\033[J";  // Up, then clear below.
      std::cerr << view.Render() << std::flush;
      drawn = view.lines();
    } else if (now - last_print > std::chrono::seconds(10)) {
      std::cerr << view.Render();
      last_print = now;
    }
  }
  if (!tty) std::cerr << view.Render();
  stop_all();

  // The report: the file asked for, and the terminal summary.
  absl::StatusOr<std::unique_ptr<coordinator::SqliteDb>> db =
      coordinator::SqliteDb::Open(store_path);
  if (!db.ok()) {
    std::cerr << "tlsweep: " << db.status().message() << "\n";
    return kExitError;
  }
  coordinator::report::ReportOptions report_options;
  report_options.scan_id = scan->scan_id();
  report_options.baseline = options.gates.baseline;
  coordinator::report::CandidateOffers offers(*registry);
  report_options.offers = &offers;
  absl::StatusOr<coordinator::report::Report> report =
      coordinator::report::BuildReport(**db, report_options);
  if (!report.ok()) {
    std::cerr << "tlsweep: " << report.status().message() << "\n";
    return kExitError;
  }
  if (!options.output.empty()) {
    std::ofstream out(options.output, std::ios::trunc);
    const std::string format = ReportFormatFor(options.output, options.format, "html");
    if (format == "json") {
      out << coordinator::report::RenderJson(*report);
    } else if (format == "text") {
      out << coordinator::report::RenderText(*report);
    } else if (format == "csv") {
      if (absl::Status csv = coordinator::report::WriteDomainsCsv(**db, report_options, out);
          !csv.ok()) {
        std::cerr << "tlsweep: " << csv.message() << "\n";
        return kExitError;
      }
    } else {
      out << coordinator::report::RenderHtml(*report);
    }
    if (!out) {
      std::cerr << "tlsweep: cannot write '" << options.output << "'\n";
      return kExitError;
    }
  }
  std::cout << coordinator::report::RenderText(*report);
  std::cerr << "tlsweep: report written to " << options.output << " (scan " << scan->scan_id()
            << "; `tlsweep report " << scan->scan_id() << " --store " << store_path
            << "` renders it again)\n";
  if (current.state() != tlsweep::v1::SCAN_DONE) return kExitError;
  return GateExitStatus(*report, *gates, std::cerr);
}

}  // namespace

void AddScanCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<ScanCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "scan",
      "Scan a domain list end to end in this process (embedded mode): a coordinator with its "
      "SQLite store in --state-dir, one agent per region, progress while it runs, then the "
      "compatibility report (-o, HTML by default) and a terminal summary. Same code paths as "
      "the distributed tlsweep-coordinator and tlsweep-agent.");
  command
      ->add_option("--domains", options->domains_file,
                   "Domain list: one domain a line, optional ',weight' (mail volume), '#' "
                   "comments")
      ->required();
  command->add_option("--name", options->name, "Scan name (default: the file name)");
  command
      ->add_option("--regions", options->regions,
                   "Region names, comma-separated; in embedded mode every region scans from "
                   "this machine")
      ->capture_default_str();
  command->add_option("--state-dir", options->state_dir, "Where the store and spools live")
      ->capture_default_str();
  command
      ->add_option("-o,--output", options->output,
                   "Report file: .html (default), .json, .csv (every domain) or .txt; empty: "
                   "none; never the domain list")
      ->capture_default_str();
  command->add_option("--format", options->format, "Report file format; default: from -o")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}));
  AddGateFlags(*command, options->gates);
  command->footer(kExitStatusHelp);
  command->add_option("--shard-size", options->shard_size, "Targets per shard")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  agent::AddPolitenessFlags(*command, options->politeness);
  agent::AddProbeFlags(*command, options->flags);
  AddEnumerationReuseFlags(*command, options->reuse);
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunScan(global, *options); };
  });
}

}  // namespace tlsweep::cli
