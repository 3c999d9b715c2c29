// tlsweep-agent: connects to a coordinator, leases shards for its region, probes them and
// streams the results back.
//
//   tlsweep-agent --coordinator coord.example.net:7443 --region eu-west --capacity 4
//       --tls-ca ca.pem --tls-cert agent.pem --tls-key agent-key.pem --spool
//       /var/lib/tlsweep/spool.db
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "agent/daemon/agent_metrics_server.h"
#include "agent/flags/probe_flags.h"
#include "backends/backend_info.h"
#include "backends/plugin_loader.h"

int main(int argc, char** argv) {
  CLI::App app{"tlsweep-agent: runs the shards a tlsweep-coordinator leases to its region."};
  app.set_version_flag("--version", "tlsweep-agent " TLSWEEP_VERSION);
  tlsweep::agent::AgentClientOptions options;
  tlsweep::agent::ProbeFlags flags;
  std::string plugin_dir;
  int threads = 1;
  app.add_option("--coordinator", options.coordinator, "Coordinator host:port")->required();
  app.add_option("--region", options.region, "Region this agent scans from")->required();
  app.add_option("--capacity", options.capacity, "Shards run at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--agent-id", options.agent_id, "Stable agent name (default: host-region)");
  app.add_option("--tls-ca", options.ca_file,
                 "CA that signed the coordinator's certificate (PEM; --ca-file is the probes')");
  app.add_option("--tls-cert", options.cert_file, "This agent's client certificate (PEM)");
  app.add_option("--tls-key", options.key_file, "This agent's private key (PEM)");
  app.add_option("--tls-server-name", options.server_name,
                 "Name expected in the coordinator's certificate (default: the host)");
  app.add_flag("--dev", options.insecure, "Plain text (a coordinator started with --dev)");
  app.add_flag("--insecure", options.insecure)->group("");  // The old name of --dev.
  app.add_option("--spool", options.spool_path,
                 "Spool file for unacknowledged results (default: memory only)");
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "HOST:PORT for /healthz, /readyz and Prometheus /metrics; empty: off");
  app.add_option("--batch-size", options.batch_size, "Results per batch")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--plugin-dir", plugin_dir, "Directory of TLS backend plugins");
  app.add_option("--threads", threads, "Event loops per shard")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  tlsweep::agent::PolitenessFlags politeness;
  tlsweep::agent::AddPolitenessFlags(app, politeness);
  tlsweep::agent::AddProbeFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11's own codes (105, 106, 109...) are not ours: a usage error exits 2, --help 0.
    return app.exit(error) == 0 ? 0 : 2;
  }
  if (options.agent_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    options.agent_id = absl::StrCat(host, "-", options.region);
  }
  absl::StatusOr<tlsweep::backends::BackendRegistry> registry =
      tlsweep::backends::BackendRegistry::LoadDirectory(
          tlsweep::backends::ResolvePluginDirectory(plugin_dir));
  if (!registry.ok()) {
    std::cerr << "tlsweep-agent: " << registry.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<tlsweep::agent::PreparedSweep> prepared =
      tlsweep::agent::PrepareSweep(flags, *registry);
  if (!prepared.ok()) {
    std::cerr << "tlsweep-agent: " << prepared.status().message() << "\n";
    return 2;
  }
  options.backends = tlsweep::backends::DescribeBackends(*registry);
  options.version = "tlsweep-agent " TLSWEEP_VERSION;
  tlsweep::agent::SweepRunnerOptions runner;
  runner.base = std::move(prepared->options);
  runner.base.threads = threads;
  tlsweep::agent::ApplyPoliteness(politeness, runner.base);
  runner.registry = &*registry;
  runner.ca_file = flags.ca_file;
  tlsweep::agent::ResultCounters result_counters;
  runner.observe = [&result_counters](const tlsweep::v1::ProbeResult& result) {
    result_counters.Count(result);
  };

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  options.runs_endpoint_units = true;  // MakeSweepRunner runs both unit kinds.
  absl::StatusOr<std::unique_ptr<tlsweep::agent::AgentClient>> client =
      tlsweep::agent::AgentClient::Create(options, tlsweep::agent::MakeSweepRunner(runner));
  if (!client.ok()) {
    std::cerr << "tlsweep-agent: " << client.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<tlsweep::agent::AgentMetricsServer> metrics;
  if (!metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<tlsweep::agent::AgentMetricsServer>> started =
        tlsweep::agent::AgentMetricsServer::Start(metrics_listen, options.region,
                                                  &(*client)->stats(), &result_counters);
    if (!started.ok()) {
      std::cerr << "tlsweep-agent: " << started.status().message() << "\n";
      return 1;
    }
    metrics = *std::move(started);
  }
  std::atomic<bool> ran{false};
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (ran.load()) return;  // The wake-up below: Run() is over.
    std::cerr << "tlsweep-agent: stopping\n";
    (*client)->Stop();
  });
  (*client)->Run();
  // The client must outlive a Stop() still cancelling its call (a detached stopper raced the
  // client's destruction and aborted one stop in a few hundred): wake the stopper if no signal
  // came, and wait for it.
  ran.store(true);
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return 0;
}
