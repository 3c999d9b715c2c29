// The results of a target shard, as every reader sees them (reports, CSV, the what-if,
// --against diffs, the web pages, Store::Results).
//
// Nothing is stored per (domain, endpoint): a shard keeps its routes (target -> MX name ->
// endpoint) and the rows only it has (a DNS failure, a target without endpoints, AGENT_LOST, the
// results of an agent that probes per target); the probed endpoints keep their own results
// once. Reading a shard joins each route to its endpoint's results: per probe (kind and
// candidate) the answer probed under the route's own MX name, else the one probed under its
// address's first name, with the certificate name check made for its own name. The first route
// that took an answer (the claim, written when the shard was settled) gets it whole; the
// others get it marked `reused`, without certificate DER.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/store/certificate_store.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator {

// One result of a shard as read. `seq` and `idx` name the row: a batch and its position, or
// kAgentLostSeq, or kJoinedSeq and the position among the shard's joined results.
struct ShardResult {
  int64_t seq = 0;
  int64_t idx = 0;
  bool readable = true;  // False: the stored bytes did not parse (`result` is empty).
  tlsweep::v1::ProbeResult result;
};

class ShardResultReader {
 public:
  // Prepares its statements on `db`; the reader must not outlive it.
  static absl::StatusOr<ShardResultReader> Open(SqliteDb& db);

  // Every result of the target shard: its own rows in (seq, idx) order, then the joined ones in
  // route order. Routes are joined only once the shard is done (a cancelled or lost shard's
  // routes stand for nothing). Stops at the first error `visit` returns.
  absl::Status Read(const std::string& scan_id, const std::string& region, int64_t shard,
                    absl::FunctionRef<absl::Status(ShardResult&)> visit);

  // Every result of a scan's region in target line order (then shard, seq, idx).
  absl::Status ReadRegion(const std::string& scan_id, const std::string& region,
                          absl::FunctionRef<absl::Status(ShardResult&)> visit);

  // Settling a shard whose routes are all covered: claims the answers no earlier shard took
  // (the routes that get them whole) and returns how many results the join makes.
  absl::StatusOr<int64_t> Settle(const std::string& scan_id, const std::string& region,
                                 int64_t shard);

 private:
  explicit ShardResultReader(SqliteDb& db) : db_(&db) {}
  absl::Status Prepare();
  // Joins the shard's routes. With `settle`, claims unclaimed answers and only counts.
  absl::StatusOr<int64_t> Join(const std::string& scan_id, const std::string& region, int64_t shard,
                               bool settle, absl::FunctionRef<absl::Status(ShardResult&)> visit);
  // An endpoint's results probed under `name` (parsed once per Join).
  struct Probed {
    struct Entry {
      bool readable = true;
      tlsweep::v1::ProbeResult result;
    };
    std::vector<Entry> results;
    int64_t first_shard = -1;  // The claim: -1 when none yet.
    int64_t first_line = 0;
  };
  absl::StatusOr<const Probed*> ProbedUnder(const std::string& scan_id, const std::string& region,
                                            const std::string& endpoint, const std::string& name);

  absl::Status RestoreCertificates(tlsweep::v1::ProbeResult& result);

  SqliteDb* db_;
  bool has_routes_ = false;
  std::optional<CertificateStore> certificates_;
  SqliteStatement state_, own_, routes_, targets_, probed_, claim_, shards_;
  std::map<std::pair<std::string, std::string>, Probed> probed_cache_;
};

}  // namespace tlsweep::coordinator
