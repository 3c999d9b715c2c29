#include "coordinator/store/shard_results.h"

#include <algorithm>
#include <tuple>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "backends/certificate_name.h"
#include "backends/probe_kind.h"
#include "backends/route_identity.h"
#include "backends/status_macros.h"
#include "coordinator/store/certificate_store.h"
#include "coordinator/store/store_rows.h"

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::backends::ProbeKindOf;
using ::tlsweep::v1::ProbeResult;

// What identifies one probe's answer among an address's results: its kind and candidate.
std::string ProbeSlot(const ProbeResult& result) {
  return absl::StrCat(backends::ProbeKindName(ProbeKindOf(result)), "|",
                      result.tls_settings().name());
}

}  // namespace

absl::StatusOr<ShardResultReader> ShardResultReader::Open(SqliteDb& db) {
  ShardResultReader reader(db);
  RETURN_IF_ERROR(reader.Prepare());
  return reader;
}

absl::Status ShardResultReader::Prepare() {
  ASSIGN_OR_RETURN(state_, db_->Prepare("SELECT state FROM units WHERE scan_id=? AND region=? "
                                        "AND kind=? AND shard=?"));
  ASSIGN_OR_RETURN(own_, db_->Prepare("SELECT seq, idx, result FROM results WHERE scan_id=? AND "
                                      "region=? AND shard=? ORDER BY seq, idx"));
  ASSIGN_OR_RETURN(shards_, db_->Prepare("SELECT shard FROM units WHERE scan_id=? AND region=? "
                                         "AND kind=? ORDER BY shard"));
  // A database without the endpoint phase's tables (not written by a coordinator) has only
  // the targets' own rows.
  ASSIGN_OR_RETURN(SqliteStatement phase,
                   db_->Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                "name='endpoint_results'"));
  ASSIGN_OR_RETURN(has_routes_, phase.Step());
  phase.Reset();
  ASSIGN_OR_RETURN(SqliteStatement has_certificates,
                   db_->Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                "name='certificates'"));
  ASSIGN_OR_RETURN(bool certificates, has_certificates.Step());
  if (certificates) {
    ASSIGN_OR_RETURN(CertificateStore opened, CertificateStore::Open(*db_));
    certificates_.emplace(std::move(opened));
  }
  if (!has_routes_) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      routes_,
      db_->Prepare("SELECT r.route, r.endpoint, r.name, COALESCE(NULLIF(e.ref_name, ''), "
                   "e.mx_host), r.line, r.preference, r.implicit, n.provider FROM routes r JOIN "
                   "endpoints e ON e.scan_id=r.scan_id AND e.region=r.region AND "
                   "e.key=r.endpoint LEFT JOIN endpoint_names n ON n.scan_id=r.scan_id AND "
                   "n.region=r.region AND n.key=r.endpoint AND n.name=r.name WHERE r.scan_id=? "
                   "AND r.region=? AND r.shard=? ORDER BY r.seq, r.idx"));
  // A target shard is a range of ordinals: its targets' text and domain, for its routes.
  ASSIGN_OR_RETURN(targets_,
                   db_->Prepare("SELECT line_number, input, domain FROM targets WHERE "
                                "scan_id=?1 AND ordinal >= ?2 * (SELECT shard_size FROM scans "
                                "WHERE scan_id=?1) AND ordinal < (?2 + 1) * (SELECT shard_size "
                                "FROM scans WHERE scan_id=?1)"));
  // INDEXED BY: without it SQLite walks the region's results by primary key (scan_id, region)
  // for every route (measured 47 ms a route at 200k rows, against 0.02 ms).
  ASSIGN_OR_RETURN(
      probed_,
      db_->Prepare("SELECT x.result, n.first_shard, n.first_line FROM endpoint_results x INDEXED "
                   "BY endpoint_results_key JOIN endpoint_names n ON n.scan_id=x.scan_id AND "
                   "n.region=x.region AND n.key=x.endpoint AND n.name=x.name WHERE "
                   "x.scan_id=? AND x.region=? AND x.endpoint=? AND x.name=? ORDER BY "
                   "x.probe_shard, x.seq, x.idx"));
  ASSIGN_OR_RETURN(claim_, db_->Prepare("UPDATE endpoint_names SET first_shard=?, first_line=? "
                                        "WHERE scan_id=? AND region=? AND key=? AND name=? AND "
                                        "first_shard IS NULL"));
  return absl::OkStatus();
}

absl::Status ShardResultReader::RestoreCertificates(ProbeResult& result) {
  return certificates_.has_value() ? certificates_->Restore(result) : absl::OkStatus();
}

absl::StatusOr<const ShardResultReader::Probed*> ShardResultReader::ProbedUnder(
    const std::string& scan_id, const std::string& region, const std::string& endpoint,
    const std::string& name) {
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  const auto emplaced = probed_cache_.try_emplace({endpoint, name});
  const auto cached = emplaced.first;
  Probed& probed = cached->second;
  if (!emplaced.second) return &probed;
  // Forgotten unless read to the end, so that an error is not cached as "no results".
  absl::Cleanup forget = [this, cached] { probed_cache_.erase(cached); };
  probed_.Bind(1, scan_id).Bind(2, region).Bind(3, endpoint).Bind(4, name);
  absl::Cleanup reset = [this] { probed_.Reset(); };
  for (;;) {
    ASSIGN_OR_RETURN(bool row, probed_.Step());
    if (!row) break;
    // A result that does not parse is kept empty: its readers count it as unreadable.
    Probed::Entry& entry = probed.results.emplace_back();
    entry.readable = entry.result.ParseFromString(probed_.Blob(0));
    if (!entry.readable) entry.result.Clear();
    if (!probed_.IsNull(1)) {
      probed.first_shard = probed_.Int(1);
      probed.first_line = probed_.Int(2);
    }
  }
  std::move(forget).Cancel();
  return &probed;
}

absl::StatusOr<int64_t> ShardResultReader::Join(
    const std::string& scan_id, const std::string& region, int64_t shard, bool settle,
    absl::FunctionRef<absl::Status(ShardResult&)> visit) {
  probed_cache_.clear();
  absl::Cleanup done = [this] {
    routes_.Reset();
    probed_cache_.clear();
  };
  // Settling: (endpoint, probed name) first taken by this shard, and the route that took it
  // (its ordinal in the shard and its line). Reading: the route that read each claim whole.
  absl::flat_hash_map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> claimed;
  absl::flat_hash_map<std::pair<std::string, std::string>, int64_t> given;
  int64_t count = 0;
  int64_t route_ordinal = 0;
  // An unreadable stored row is counted, and named to readers.
  const auto unreadable = [&]() -> absl::Status {
    ShardResult row{kJoinedSeq, count++, false, {}};
    return settle ? absl::OkStatus() : visit(row);
  };
  // One stored answer of `probed_name` for the current route.
  const auto take = [&](const ProbeResult& route, const std::string& key,
                        const std::string& probed_name, const Probed& probed,
                        const ProbeResult& stored) -> absl::Status {
    const auto slot_owner = std::make_pair(key, probed_name);
    if (settle) {
      // Claims are written once the shard is settled, and a shard is settled once: a claim
      // already stored belongs to an earlier shard.
      if (probed.first_shard < 0) {
        claimed.try_emplace(slot_owner,
                            std::make_pair(route_ordinal, int64_t(route.line_number())));
      }
      ++count;
      return absl::OkStatus();
    }
    // Whole for the route that claimed it: the first of the claiming line in this shard.
    const bool first = probed.first_shard == shard &&
                       probed.first_line == static_cast<int64_t>(route.line_number()) &&
                       given.try_emplace(slot_owner, route_ordinal).first->second == route_ordinal;
    ShardResult joined{kJoinedSeq, count++, true, stored};
    ProbeResult& result = joined.result;
    // Identity from the route, observations from the probe of the address.
    backends::TakeRouteIdentity(route, result);
    // Probed under another name of the address: the name check is this name's own.
    if (probed_name != route.mx_host()) {
      backends::RecheckHostname(*result.mutable_tls(), route.mx_host());
    }
    result.set_reused(result.reused() || !first);
    if (first) {
      RETURN_IF_ERROR(RestoreCertificates(result));
    } else {
      // Copies keep the certificate summaries but not the DER (as the agent's own endpoint
      // cache does): a provider's chain is read whole once, not once per domain.
      for (auto& certificate : *result.mutable_tls()->mutable_peer_chain()) {
        certificate.clear_der();
      }
    }
    return visit(joined);
  };

  // Reading: the shard's targets, whose text and domain its routes take.
  absl::flat_hash_map<int64_t, std::pair<std::string, std::string>> targets;
  if (!settle) {
    targets_.Bind(1, scan_id).Bind(2, shard);
    absl::Cleanup reset = [this] { targets_.Reset(); };
    for (;;) {
      ASSIGN_OR_RETURN(bool row, targets_.Step());
      if (!row) break;
      targets.try_emplace(targets_.Int(0), targets_.Text(1), targets_.Text(2));
    }
  }
  routes_.Bind(1, scan_id).Bind(2, region).Bind(3, shard);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, routes_.Step());
    if (!row) break;
    ++route_ordinal;
    ProbeResult route;
    if (!routes_.IsNull(0)) {  // Written by schema 4: the route as the agent sent it.
      if (!route.ParseFromString(routes_.Blob(0))) {
        RETURN_IF_ERROR(unreadable());
        continue;
      }
    } else {
      route.set_mx_host(routes_.Text(2));
      route.set_line_number(static_cast<uint64_t>(routes_.Int(4)));
      route.set_mx_preference(static_cast<uint32_t>(routes_.Int(5)));
      route.set_implicit_mx(routes_.Int(6) != 0);
      route.set_provider(routes_.Text(7));
      if (const auto target = targets.find(routes_.Int(4)); target != targets.end()) {
        route.set_target(target->second.first);
        route.set_domain(target->second.second);
      }
    }
    const std::string key = routes_.Text(1);
    const std::string name = routes_.Text(2);
    const std::string lead = routes_.Text(3);
    // One answer per probe slot: the name's own, else the address's. A final answer of the
    // name's own without a slot (AGENT_LOST, an address refused) takes no borrowed ones.
    absl::flat_hash_set<std::string> slots;
    bool own_final = false;
    for (const std::string* probed_name : {&name, &lead}) {
      if (probed_name == &lead && (lead == name || own_final)) break;
      ASSIGN_OR_RETURN(const Probed* probed, ProbedUnder(scan_id, region, key, *probed_name));
      for (const Probed::Entry& entry : probed->results) {
        if (!entry.readable) {
          RETURN_IF_ERROR(unreadable());
          continue;
        }
        if (probed_name == &name && ProbeKindOf(entry.result) == v1::PROBE_KIND_UNSPECIFIED) {
          own_final = true;
        }
        if (!slots.insert(ProbeSlot(entry.result)).second) continue;
        RETURN_IF_ERROR(take(route, key, *probed_name, *probed, entry.result));
      }
    }
  }
  for (const auto& [slot, by] : claimed) {
    claim_.Bind(1, shard).Bind(2, by.second).Bind(3, scan_id).Bind(4, region);
    RETURN_IF_ERROR(claim_.Bind(5, slot.first).Bind(6, slot.second).Run());
  }
  return count;
}

absl::Status ShardResultReader::Read(const std::string& scan_id, const std::string& region,
                                     int64_t shard,
                                     absl::FunctionRef<absl::Status(ShardResult&)> visit) {
  {
    own_.Bind(1, scan_id).Bind(2, region).Bind(3, shard);
    absl::Cleanup reset = [this] { own_.Reset(); };
    for (;;) {
      ASSIGN_OR_RETURN(bool row, own_.Step());
      if (!row) break;
      ShardResult result{own_.Int(0), own_.Int(1), true, {}};
      // One damaged row must not make the whole scan unreadable: its readers skip and count it.
      result.readable = result.result.ParseFromString(own_.Blob(2));
      if (result.readable) {
        RETURN_IF_ERROR(RestoreCertificates(result.result));
      } else {
        result.result.Clear();
      }
      RETURN_IF_ERROR(visit(result));
    }
  }
  bool done = false;
  {
    state_.Bind(1, scan_id).Bind(2, region).Bind(3, int64_t{kTargetUnit}).Bind(4, shard);
    absl::Cleanup reset = [this] { state_.Reset(); };
    ASSIGN_OR_RETURN(bool row, state_.Step());
    done = row && state_.Int(0) == kDone;
  }
  if (!done || !has_routes_) return absl::OkStatus();
  return Join(scan_id, region, shard, /*settle=*/false, visit).status();
}

absl::Status ShardResultReader::ReadRegion(const std::string& scan_id, const std::string& region,
                                           absl::FunctionRef<absl::Status(ShardResult&)> visit) {
  std::vector<int64_t> shards;
  {
    shards_.Bind(1, scan_id).Bind(2, region).Bind(3, int64_t{kTargetUnit});
    absl::Cleanup reset = [this] { shards_.Reset(); };
    for (;;) {
      ASSIGN_OR_RETURN(bool row, shards_.Step());
      if (!row) break;
      shards.push_back(shards_.Int(0));
    }
  }
  // A shard is a range of targets in line order: shard by shard, each sorted by line.
  for (int64_t shard : shards) {
    std::vector<ShardResult> rows;
    RETURN_IF_ERROR(Read(scan_id, region, shard, [&](ShardResult& result) {
      rows.push_back(std::move(result));
      return absl::OkStatus();
    }));
    std::stable_sort(rows.begin(), rows.end(), [](const ShardResult& a, const ShardResult& b) {
      return std::make_tuple(a.result.line_number(), a.seq, a.idx) <
             std::make_tuple(b.result.line_number(), b.seq, b.idx);
    });
    for (ShardResult& result : rows) RETURN_IF_ERROR(visit(result));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ShardResultReader::Settle(const std::string& scan_id,
                                                  const std::string& region, int64_t shard) {
  return Join(scan_id, region, shard, /*settle=*/true,
              [](ShardResult&) { return absl::OkStatus(); });
}

}  // namespace tlsweep::coordinator
