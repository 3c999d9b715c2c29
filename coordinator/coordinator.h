// The coordinator's core, shared by its two gRPC services: the store, lease timing, the
// connected agents (to tell them about cancelled leases), a worker pool that runs store work
// off gRPC's reaction threads, and a change counter that WatchScan waits on.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/store/store.h"
#include "tlsweep/v1/agent_stream.pb.h"

namespace tlsweep::coordinator {

struct CoordinatorOptions {
  int64_t lease_ms = 60'000;            // A lease lives this long without a heartbeat.
  int64_t heartbeat_ms = 15'000;        // What agents are told to use.
  int64_t expiry_check_ms = 1'000;      // How often expired leases are looked for.
  int64_t restart_grace_ms = 60'000;    // Leases get at least this after a restart.
  uint32_t default_shard_size = 1'000;  // Targets per shard.
  uint32_t max_shard_size = 100'000;
  // Unique endpoints per probe unit. Smaller than a target shard: an endpoint costs a
  // handshake per candidate (and an enumeration), a target only a few DNS queries.
  uint32_t default_endpoint_shard_size = 100;
  uint32_t default_max_attempts = 3;
  // Input limits of the scan API: scans submitting or running at once (CreateScan is refused
  // with RESOURCE_EXHAUSTED beyond it; scheduled runs are not counted), and lines in one list.
  int64_t max_active_scans = 20;
  uint64_t max_list_lines = 50'000'000;
  int64_t upload_idle_ms = 30'000;  // An upload silent this long is dropped.
  int workers = 2;                  // Threads running store work for agent streams.
  // Scheduled scans: the scheduler wakes at the earliest next run, and at least this often.
  int64_t schedule_check_ms = 5'000;
  bool run_scheduler = true;
  std::string coordinator_id = "tlsweep-coordinator";
};

// Runs closures on a few threads, in order of posting.
class WorkQueue {
 public:
  explicit WorkQueue(int threads);
  ~WorkQueue();  // Stop().
  void Post(std::function<void()> work);
  // Runs what is queued, including work that queued work posts, then joins. Work posted after
  // the last thread has left runs at once on the caller's thread, so that nothing is lost and
  // the queue stays usable while the coordinator shuts down.
  void Stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  int running_ ABSL_GUARDED_BY(mutex_) = 0;  // Threads that have not left.
  std::vector<std::thread> threads_;
};

// Something that can deliver a message to one connected agent (its stream's reactor).
class AgentConnection {
 public:
  virtual ~AgentConnection() = default;
  virtual void Send(tlsweep::v1::CoordinatorMessage message) = 0;
};

class Coordinator {
 public:
  Coordinator(std::unique_ptr<Store> store, CoordinatorOptions options);
  ~Coordinator();

  // Recovers the store after a restart and starts the lease expiry loop.
  absl::Status Start();
  // Stops the expiry loop and the workers (call after the gRPC server has shut down).
  void Stop();

  Store& store() { return *store_; }
  const CoordinatorOptions& options() const { return options_; }
  WorkQueue& workers() { return *workers_; }
  CoordinatorMetrics& metrics() { return metrics_; }

  // Connected agents by id; a newer connection with the same id replaces the older one.
  void Register(const std::string& agent_id, AgentConnection* connection);
  void Unregister(const std::string& agent_id, AgentConnection* connection);
  // Tells the agents holding these leases to stop working on them.
  void CancelLeases(const std::vector<LeaseRef>& leases, const std::string& reason);

  // Something about a scan changed (results, shards, state).
  void NotifyChanged();
  // Waits until the change counter differs from `seen` or `timeout_ms` passes; returns it.
  uint64_t WaitForChange(uint64_t seen, int64_t timeout_ms);
  uint64_t change_count();

 private:
  void ExpiryLoop();
  // Logs one structured line per scan state change (scan_state_log.h).
  void ScanStateLoop();

  std::unique_ptr<Store> store_;
  const CoordinatorOptions options_;
  std::unique_ptr<WorkQueue> workers_;
  CoordinatorMetrics metrics_;

  std::mutex agents_mutex_;
  absl::flat_hash_map<std::string, AgentConnection*> agents_ ABSL_GUARDED_BY(agents_mutex_);

  std::mutex change_mutex_;
  std::condition_variable changed_;
  uint64_t changes_ ABSL_GUARDED_BY(change_mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(change_mutex_) = false;
  std::thread expiry_thread_;
  std::thread state_log_thread_;
};

int64_t NowUnixMs();

}  // namespace tlsweep::coordinator
