// The agent's HTTP side for operators and orchestrators: /healthz (the process runs),
// /readyz (it has reached its coordinator) and Prometheus /metrics (results by outcome, probe
// durations, shards, batches, leases; all labelled with the region), on --metrics-listen.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "agent/client/agent_client.h"
#include "backends/metrics_histogram.h"
#include "tlsweep/v1/probe.pb.h"

namespace httplib {
class Server;
}

namespace tlsweep::agent {

// Results by probe kind and outcome, and how long each probe took, fed by the shard runner
// from any thread.
class ResultCounters {
 public:
  void Count(const tlsweep::v1::ProbeResult& result);
  std::map<std::string, int64_t> Snapshot() const;
  // tlsweep_agent_results_total and tlsweep_agent_probe_duration_seconds, every sample labelled
  // with `region` (one agent serves one region; dashboards aggregate agents by it).
  void AppendMetrics(std::string& out, const std::string& region) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int64_t> by_outcome_;                    // "kind|outcome"
  std::map<std::string, std::unique_ptr<Histogram>> durations_;  // By probe kind.
};

class AgentMetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<AgentMetricsServer>> Start(
      const std::string& listen, const std::string& region, const agent::AgentClientStats* stats,
      const ResultCounters* results);
  ~AgentMetricsServer();

 private:
  AgentMetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace tlsweep::agent
