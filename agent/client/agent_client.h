// The agent's side of the agent stream: connects to the coordinator (mutual TLS), says hello,
// leases shards for its region, runs them (ShardRunner), and streams results back in numbered
// batches that stay in the local spool until acknowledged. Reconnects with exponential backoff
// and jitter when the coordinator goes away; a restart resends what the spool holds.
//
// It uses gRPC's synchronous client stream on threads of its own rather than a
// ClientBidiReactor: an agent has exactly one stream, a blocking Write() is the back-pressure
// it wants (a slow coordinator stalls the probes instead of filling memory), and the reconnect
// loop reads top to bottom.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tlsweep/v1/agent_stream.pb.h"

namespace tlsweep::agent {

// Runs one shard: calls `emit` for every result (from any one thread at a time) and returns
// when every target has its results or `cancelled` becomes true.
using ShardRunner = std::function<absl::Status(
    const tlsweep::v1::ShardAssignment& assignment,
    const std::function<void(tlsweep::v1::ProbeResult)>& emit, const std::atomic<bool>& cancelled)>;

struct AgentClientOptions {
  std::string coordinator;  // host:port
  std::string agent_id;
  std::string region;
  int capacity = 1;  // Shards run at once.
  // Mutual TLS: the CA that signed the coordinator's certificate, and this agent's certificate.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // Expected name in the coordinator's certificate (default: host).
  bool insecure = false;    // Plain text (a coordinator in --dev mode).
  std::string spool_path;   // Default: ":memory:" (nothing survives a restart).
  size_t batch_size = 100;  // Results per batch.
  int flush_ms = 1'000;     // A partial batch goes out after this long.
  size_t max_unacked_batches = 64;  // Probing stalls beyond this.
  int poll_ms = 2'000;              // Ask for work this often while there is room.
  int connect_timeout_ms = 10'000;
  int backoff_min_ms = 250;
  int backoff_max_ms = 30'000;
  std::vector<tlsweep::v1::BackendInfo> backends;
  std::string version;
  // The runner handles UNIT_RESOLVE and UNIT_PROBE_ENDPOINTS (MakeSweepRunner does). The
  // coordinator refuses agents without it: a runner that ignored the unit kind would complete
  // probe units without probing anything.
  bool runs_endpoint_units = false;
};

struct AgentClientStats {
  std::atomic<int64_t> connects{0};
  std::atomic<int64_t> assignments{0};
  std::atomic<int64_t> shards_completed{0};
  std::atomic<int64_t> batches_sent{0};  // Resends included.
  std::atomic<int64_t> batches_acked{0};
  std::atomic<int64_t> batches_duplicate{0};
  std::atomic<int64_t> leases_cancelled{0};
};

class AgentClient {
 public:
  static absl::StatusOr<std::unique_ptr<AgentClient>> Create(AgentClientOptions options,
                                                             ShardRunner runner);
  ~AgentClient();  // Stop().

  // Connects and works until Stop(); reconnects whenever the stream breaks.
  void Run();
  // Makes Run() return: running shards are cancelled, unacknowledged batches stay spooled.
  void Stop();

  const AgentClientStats& stats() const;

 private:
  class Impl;
  explicit AgentClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tlsweep::agent
