// An agent that probes nothing: it speaks AgentService.Connect by its delivery contract (hello,
// lease requests, ResultBatch seq 0.. per lease with a window of unacknowledged batches,
// ShardComplete once every batch is acknowledged) and answers every target of every assignment
// at once with one synthetic STARTTLS result (or, in two-phase mode, a route per target and a
// result per endpoint of a probe unit), so the coordinator is the only thing measured.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "bench/synthetic_result.h"
#include "tlsweep/v1/agent_stream.grpc.pb.h"

namespace tlsweep::bench {

struct SyntheticAgentOptions {
  std::string agent_id;
  std::string region;
  int capacity = 2;         // Leases held at once (the next one waits while one finishes).
  size_t batch_size = 250;  // Results per ResultBatch.
  size_t window = 16;       // Unacknowledged batches before sending waits.
  // Answer resolve units with routes and probe units with endpoint results (the coordinator's
  // endpoint phase), rather than every target with a final result.
  bool two_phase = false;
};

struct SyntheticAgentStats {
  uint64_t leases = 0;     // Assignments received.
  uint64_t completed = 0;  // ShardComplete accepted.
  uint64_t batches = 0;    // Batches acknowledged ACCEPTED.
  uint64_t results = 0;    // Results in those batches.
  uint64_t refused = 0;    // Batches acknowledged DUPLICATE or STALE, completions refused.
  uint64_t bytes = 0;      // Serialized AgentMessage bytes of result batches sent.
  double cpu_s = 0;        // CPU time of the agent's two threads.
  std::string error;       // Why the stream ended early, if it did.
};

class SyntheticAgent {
 public:
  // `channel` should be the agent's own (a TCP connection of its own).
  SyntheticAgent(std::shared_ptr<grpc::Channel> channel, SyntheticAgentOptions options,
                 const SyntheticResults& results);
  ~SyntheticAgent();  // Stop().

  void Start();
  // Half-closes the stream and waits for the coordinator to end it.
  void Stop();
  SyntheticAgentStats stats();

 private:
  void Run();
  void ReadLoop();
  bool Write(const tlsweep::v1::AgentMessage& message);
  // Sends one assignment's results; returns the number of batches, or -1 when the stream broke.
  int64_t SendResults(const tlsweep::v1::ShardAssignment& assignment);
  // True when the stream is over for this agent (stopping, or ended by the coordinator).
  bool Over() const { return stopping_ || ended_; }

  std::shared_ptr<grpc::Channel> channel_;
  const SyntheticAgentOptions options_;
  const SyntheticResults& results_;
  std::unique_ptr<tlsweep::v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<tlsweep::v1::AgentMessage, tlsweep::v1::CoordinatorMessage>>
      stream_;
  std::thread writer_;
  std::thread reader_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool welcomed_ = false;
  bool ended_ = false;  // The coordinator's side of the stream ended.
  bool stopping_ = false;
  std::deque<tlsweep::v1::ShardAssignment> assignments_;
  uint64_t held_ = 0;   // Leases received and not yet completed.
  uint64_t asked_ = 0;  // Leases asked for and not yet received.
  // Unacknowledged batches: results per (lease, seq).
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, uint32_t> unacked_;
  absl::flat_hash_map<uint64_t, uint64_t> unacked_per_lease_;
  SyntheticAgentStats stats_;
};

}  // namespace tlsweep::bench
