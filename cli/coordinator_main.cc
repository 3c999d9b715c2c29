// tlsweep-coordinator: the scan API, the store and the agent stream in one process.
//
//   tlsweep-coordinator --listen 0.0.0.0:7443 --store /var/lib/tlsweep/coordinator.db
//       --tls-cert coordinator.pem --tls-key coordinator-key.pem --client-ca ca.pem
//       --token-file tokens.txt
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tlsweep-coordinator: takes scans (domain lists), cuts them into shards, leases them to "
      "tlsweep-agent processes by region and stores their results (SQLite)."};
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
  app.add_option("--lease-ms", core.lease_ms, "Lease lifetime without a heartbeat")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", core.heartbeat_ms, "Heartbeat interval agents are told")
      ->capture_default_str();
  app.add_option("--shard-size", core.default_shard_size, "Default targets per shard")
      ->capture_default_str();
  app.add_option("--max-attempts", core.default_max_attempts,
                 "Default leases of a shard before its targets are reported agent_lost")
      ->capture_default_str();
  app.add_option("--restart-grace-ms", core.restart_grace_ms,
                 "After a restart, leases live at least this long (agents reconnect)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  sigset_t signals = BlockStopSignals();
  absl::StatusOr<std::unique_ptr<tlsweep::coordinator::CoordinatorServer>> server =
      tlsweep::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::cerr << "tlsweep-coordinator: " << server.status().message() << "\n";
    return 1;
  }
  // The bound address on stdout, for scripts that asked for port 0.
  std::cout << "listening on port " << (*server)->port() << "\n" << std::flush;
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
