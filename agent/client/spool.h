// The agent's local spool: result batches not yet acknowledged by the coordinator, and shard
// completions not yet accepted, kept in a small SQLite file so that they survive a lost
// connection, a coordinator restart and an agent restart. SQLite rather than a hand-written log:
// a torn write at a crash is its problem, not ours.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tlsweep/v1/agent_stream.pb.h"

namespace tlsweep::agent {

class Spool {
 public:
  // `path` is created if missing; ":memory:" keeps nothing across restarts (tests).
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& path);
  ~Spool();

  absl::Status AddBatch(const tlsweep::v1::ResultBatch& batch);
  absl::Status RemoveBatch(uint64_t lease_id, uint64_t seq);
  // The lease's work is done: `batches` batches were produced.
  absl::Status AddCompletion(uint64_t lease_id, uint64_t batches);
  // Forgets everything about a lease (completion accepted, or the lease is stale).
  absl::Status RemoveLease(uint64_t lease_id);

  // Everything pending, in (lease, seq) order.
  absl::StatusOr<std::vector<tlsweep::v1::ResultBatch>> PendingBatches();
  // lease id -> batch count of completions not yet accepted.
  absl::StatusOr<std::map<uint64_t, uint64_t>> PendingCompletions();
  // Lease ids with anything pending.
  absl::StatusOr<std::vector<uint64_t>> Leases();

 private:
  explicit Spool(sqlite3* db) : db_(db) {}
  absl::Status Exec(const std::string& sql);
  absl::Status Run(const char* sql, uint64_t a, uint64_t b, const std::string* blob = nullptr);

  std::mutex mutex_;
  sqlite3* db_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace tlsweep::agent
