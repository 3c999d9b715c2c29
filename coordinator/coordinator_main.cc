// tlsweep-coordinator: the scan API, the store and the agent stream in one process.
//
//   tlsweep-coordinator --listen 0.0.0.0:7443 --store /var/lib/tlsweep/coordinator.db
//       --tls-cert coordinator.pem --tls-key coordinator-key.pem --client-ca ca.pem
//       --token-file tokens.txt
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/plugin_loader.h"
#include "coordinator/report/report_service.h"
#include "coordinator/report/stored_whatif.h"
#include "coordinator/server.h"

namespace {

// Blocks SIGINT/SIGTERM in every thread; a dedicated thread waits for them.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The served reports' what-if: candidates from --whatif, predicted from each scan's stored
// enumerations. The registry outlives the provider (its candidates point at its backends).
absl::StatusOr<tlsweep::coordinator::report::WhatIfProvider> ServedWhatIf(
    const std::vector<std::string>& specs,
    const std::optional<tlsweep::backends::BackendRegistry>& registry) {
  if (specs.empty()) return tlsweep::coordinator::report::WhatIfProvider();
  if (!registry.has_value()) {
    return absl::FailedPreconditionError("--whatif needs the backend plugins (--plugin-dir)");
  }
  std::vector<tlsweep::backends::TlsCandidate> candidates;
  for (const std::string& spec : specs) {
    absl::StatusOr<tlsweep::v1::TlsClientSettings> settings =
        tlsweep::backends::ParseCandidateSpec(spec);
    absl::StatusOr<tlsweep::backends::TlsCandidate> candidate =
        settings.ok() ? tlsweep::backends::BuildCandidate(*settings, *registry, "")
                      : absl::StatusOr<tlsweep::backends::TlsCandidate>(settings.status());
    if (!candidate.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--whatif '", spec, "': ", candidate.status().message()));
    }
    candidates.push_back(*std::move(candidate));
  }
  return tlsweep::coordinator::report::StoredWhatIf(std::move(candidates));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tlsweep-coordinator: takes scans (domain lists), cuts them into shards, leases them to "
      "tlsweep-agent processes by region and stores their results (SQLite)."};
  app.set_version_flag("--version", "tlsweep-coordinator " TLSWEEP_VERSION);
  tlsweep::coordinator::ServerOptions options;
  tlsweep::coordinator::CoordinatorOptions& core = options.coordinator;
  app.add_option("--listen", options.listen, "Address and port to listen on (port 0: any)")
      ->capture_default_str();
  app.add_option("--store", options.store_path, "SQLite store file (created if missing)")
      ->required();
  app.add_option("--tls-cert", options.tls_cert_file, "Coordinator certificate chain (PEM)");
  app.add_option("--tls-key", options.tls_key_file, "Coordinator private key (PEM)");
  app.add_option("--client-ca", options.client_ca_file,
                 "CA whose client certificates are accepted (agents must have one)");
  app.add_option("--token-file", options.token_file,
                 "Bearer tokens accepted by the scan API, one a line");
  app.add_flag("--dev", options.dev,
               "No TLS and no authentication (loopback addresses only; development)");
  std::string http_listen;
  app.add_option("--http-listen", http_listen,
                 "HOST:PORT for the web pages (scan list, reports, JSON/CSV downloads, same token "
                 "as the API), /healthz, /readyz and Prometheus /metrics; empty: off");
  std::vector<std::string> whatif_specs;
  app.add_option("--whatif", whatif_specs,
                 "Candidate spec ('name=proposed ciphers=ECDHE+AESGCM min=TLSv1.2') the served "
                 "reports predict from each scan's stored enumerations (scans with --enumerate); "
                 "repeatable");
  std::string plugin_dir;
  app.add_option(
      "--plugin-dir", plugin_dir,
      "Where the backend plugins are, for --whatif and report causes (default: beside the "
      "program, then "
      "the installed lib/tlsweep)");
  app.add_option("--lease-ms", core.lease_ms, "Lease lifetime without a heartbeat")
      ->check(CLI::Range(1000, 86400000))
      ->capture_default_str();
  app.add_option("--heartbeat-ms", core.heartbeat_ms, "Heartbeat interval agents are told")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  app.add_option("--endpoint-shard-size", core.default_endpoint_shard_size,
                 "Default unique MX endpoints per probe unit (each endpoint is probed once per "
                 "region and scan, however many domains use it)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  app.add_option("--shard-size", core.default_shard_size, "Default targets per shard")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--lease-attempts", core.default_max_attempts,
                 "Default leases of a shard before its targets are reported agent_lost")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--max-active-scans", core.max_active_scans,
                 "Scans submitting or running at once; more are refused (RESOURCE_EXHAUSTED)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--upload-idle-ms", core.upload_idle_ms,
                 "A list upload that sends nothing this long is dropped (frees its place)")
      ->check(CLI::Range(1000, 3600000))
      ->capture_default_str();
  app.add_option("--max-list-lines", core.max_list_lines,
                 "Lines in one submitted list; a longer list is refused")
      ->check(CLI::Range(1, 2000000000))
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  size_t grpc_memory_mb = options.grpc_memory_bytes >> 20;
  app.add_option("--grpc-memory-mb", grpc_memory_mb,
                 "Memory gRPC may use for connection buffers; past it, senders are slowed down")
      ->check(CLI::Range(16, 1048576))
      ->capture_default_str()
      ->check(CLI::Range(size_t{16}, size_t{1} << 20));
  app.add_option("--restart-grace-ms", core.restart_grace_ms,
                 "After a restart, leases live at least this long (agents reconnect)")
      ->check(CLI::Range(0, 86400000))
      ->capture_default_str();
  app.add_option("--schedule-check-ms", core.schedule_check_ms,
                 "Scheduled scans: look for due schedules at least this often")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11's own codes (105, 106, 109...) are not ours: a usage error exits 2, --help 0.
    return app.exit(error) == 0 ? 0 : 2;
  }
  options.grpc_memory_bytes = grpc_memory_mb << 20;
  if (!whatif_specs.empty() && http_listen.empty()) {
    std::cerr << "tlsweep-coordinator: --whatif needs --http-listen (it is for served reports)\n";
    return 2;
  }
  // The backends serve the what-if and let report causes come from the negotiation model. A
  // coordinator without them still runs; its reports read causes from live failures.
  std::optional<tlsweep::backends::BackendRegistry> registry;
  if (absl::StatusOr<tlsweep::backends::BackendRegistry> loaded =
          tlsweep::backends::BackendRegistry::LoadDirectory(
              tlsweep::backends::ResolvePluginDirectory(plugin_dir));
      loaded.ok()) {
    registry.emplace(*std::move(loaded));
    options.registry = &*registry;
  } else {
    std::cerr << "tlsweep-coordinator: warning: no backend plugins (" << loaded.status().message()
              << "); report causes come from live failures only\n";
  }
  absl::StatusOr<tlsweep::coordinator::report::WhatIfProvider> what_if =
      ServedWhatIf(whatif_specs, registry);
  if (!what_if.ok()) {
    std::cerr << "tlsweep-coordinator: " << what_if.status().message() << "\n";
    return 2;
  }
  sigset_t signals = BlockStopSignals();
  absl::StatusOr<std::unique_ptr<tlsweep::coordinator::CoordinatorServer>> server =
      tlsweep::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::cerr << "tlsweep-coordinator: " << server.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<tlsweep::coordinator::report::ReportService> http;
  if (!http_listen.empty()) {
    absl::StatusOr<std::unique_ptr<tlsweep::coordinator::report::ReportService>> started =
        tlsweep::coordinator::report::ReportService::Start(
            {.listen = http_listen,
             .store_path = options.store_path,
             .token_file = options.token_file,
             .dev = options.dev,
             .what_if = *std::move(what_if),
             .registry = options.registry,
             .process_metrics = [&server] { return (*server)->coordinator().metrics().Render(); }});
    if (!started.ok()) {
      std::cerr << "tlsweep-coordinator: --http-listen: " << started.status().message() << "\n";
      return 1;
    }
    http = *std::move(started);
  }
  // The bound address on stdout, for scripts that asked for port 0.
  std::cout << "listening on port " << (*server)->port() << "\n";
  if (http) std::cout << "http on port " << http->port() << "\n";
  std::cout << std::flush;
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    std::cerr << "tlsweep-coordinator: shutting down\n";
    (*server)->Shutdown();
  });
  (*server)->Wait();
  stopper.join();
  return 0;
}
