// The endpoint phase through the store: resolve units report routes, each unique endpoint of a
// region is cut into a probe unit once and its results are stored once, then joined to every
// target that uses it when read; lost and skipped endpoints still give every target a final
// result.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coordinator/store/schema_migration.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/store.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::ProbeResult;
using ::tlsweep::v1::ResultBatch;
using ::tlsweep::v1::ShardAssignment;

// Where the test's domains send their mail: tN.example for N <= 4 uses mx.shared only; t5 uses
// mx.shared and mx.own; t6 does not resolve. No connection is ever made.
struct Route {
  const char* mx_host;
  const char* address;
};
const Route kShared{"mx.shared.example", "127.0.0.10"};
const Route kOwn{"mx.own.example", "127.0.0.11"};

class EndpointPhaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::MakeTempDirectory("tlsweep-endpoint-phase") + "/store.db";
    store_ = OpenSqliteStore(path_).value();
  }

  // Six targets t1..t6, two per target shard, two endpoints per probe unit.
  std::string MakeScan(uint32_t max_attempts = 3, uint32_t endpoint_shard_size = 2,
                       const v1::ProbeProfile& profile = {}) {
    ScanSpec spec;
    spec.profile = profile;
    spec.regions = {"eu"};
    spec.shard_size = 2;
    spec.endpoint_shard_size = endpoint_shard_size;
    spec.max_attempts = max_attempts;
    auto writer = store_->BeginScan(spec, 1000).value();
    for (int i = 1; i <= 6; ++i) {
      const std::string name = absl::StrCat("t", i, ".example");
      EXPECT_TRUE(
          writer->AddTarget({static_cast<uint64_t>(i), name, "domain " + name, name, 1}).value());
    }
    SubmissionStats stats;
    stats.lines = 6;
    EXPECT_TRUE(writer->Finish(stats, 1000).ok());
    return writer->scan_id();
  }

  // What an agent resolving the shard reports (t1's MX is `t1_route_`).
  ResultBatch ResolveBatch(const ShardAssignment& assignment) const {
    ResultBatch batch;
    batch.set_lease_id(assignment.lease_id());
    for (const v1::ShardTarget& target : assignment.targets()) {
      std::vector<Route> routes;
      if (target.line_number() <= 4) routes = {kShared};
      if (target.line_number() == 1) routes = {t1_route_};
      if (target.line_number() == 5) routes = {kShared, kOwn};
      ProbeResult base;
      base.set_target(target.input());
      base.set_domain(target.input());
      base.set_line_number(target.line_number());
      if (routes.empty()) {
        base.set_failure(v1::DNS_NXDOMAIN);
        *batch.add_results() = base;
      }
      uint32_t preference = 10;
      for (const Route& route : routes) {
        ProbeResult* result = batch.add_results();
        *result = base;
        result->set_probe_kind(tlsweep::v1::PROBE_KIND_ROUTE);
        result->set_mx_host(route.mx_host);
        result->set_mx_preference(preference);
        preference += 10;
        result->set_address(route.address);
        result->set_port(25);
        result->set_provider(absl::StrCat("provider of ", route.mx_host));
      }
    }
    return batch;
  }

  // What an agent probing the unit's endpoints with candidates "a" and "b" reports (or only
  // the first endpoint, with `skip_last`).
  static ResultBatch ProbeBatch(const ShardAssignment& assignment, bool skip_last = false) {
    ResultBatch batch;
    batch.set_lease_id(assignment.lease_id());
    for (int i = 0; i < assignment.endpoints_size(); ++i) {
      if (skip_last && i + 1 == assignment.endpoints_size()) break;
      const v1::ShardEndpoint& endpoint = assignment.endpoints(i);
      for (const char* candidate : {"a", "b"}) {
        ProbeResult* result = batch.add_results();
        result->set_target(endpoint.mx_host());
        result->set_mx_host(endpoint.mx_host());
        result->set_address(endpoint.address());
        result->set_port(endpoint.port());
        result->set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
        result->mutable_tls_settings()->set_name(candidate);
        result->set_failure(endpoint.mx_host() == kOwn.mx_host ? v1::TLS_NO_SHARED_CIPHER
                                                               : v1::PROBE_OK);
        result->mutable_tls()->add_peer_chain()->set_der("certificate bytes");
      }
    }
    return batch;
  }

  void Complete(const ShardAssignment& assignment, const ResultBatch& batch,
                const std::string& agent = "agent-1") {
    ASSERT_EQ(store_->IngestBatch(agent, batch).value(), BatchOutcome::kAccepted);
    std::string detail;
    ASSERT_TRUE(store_->CompleteLease(agent, assignment.lease_id(), 1, 3000, &detail).value())
        << detail;
  }

  // Resolves every target shard.
  void ResolveAll() {
    std::vector<ShardAssignment> shards = store_
                                              ->LeaseShards("agent-1", "eu", 5, 2000, 10'000,
                                                            /*probe_units=*/true)
                                              .value();
    ASSERT_EQ(shards.size(), 3u);
    for (const ShardAssignment& shard : shards) {
      EXPECT_EQ(shard.kind(), v1::UNIT_RESOLVE);
      for (const v1::ShardTarget& target : shard.targets()) {  // Parsed: agents never parse.
        EXPECT_EQ(target.kind(), v1::TARGET_DOMAIN);
        EXPECT_EQ(target.name(), target.input());
        EXPECT_EQ(target.port(), 25u) << "the scan's default port";
      }
      ResultBatch batch = ResolveBatch(shard);
      Complete(shard, batch);
    }
  }

  // Leases and completes the region's probe units, with the certificates' fingerprints set.
  void ProbeAll(const std::string& agent = "agent-2") {
    std::vector<ShardAssignment> probes =
        store_->LeaseShards(agent, "eu", 5, 3000, 10'000, true).value();
    ASSERT_FALSE(probes.empty());
    for (const ShardAssignment& unit : probes) {
      ResultBatch batch = ProbeBatch(unit);
      for (ProbeResult& result : *batch.mutable_results()) {
        result.mutable_tls()->mutable_peer_chain(0)->set_sha256_fingerprint("ab12");
      }
      Complete(unit, batch, agent);
    }
  }

  int64_t Count(const std::string& sql) {
    auto db = SqliteDb::Open(path_).value();
    SqliteStatement select = db->Prepare(sql).value();
    return select.Step().value() ? select.Int(0) : -1;
  }

  Route t1_route_ = kShared;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(EndpointPhaseTest, EachEndpointIsProbedOnceAndJoinedToEveryTarget) {
  const std::string scan_id = MakeScan();
  ResolveAll();
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  ASSERT_EQ(scan.state(), v1::SCAN_RUNNING);
  EXPECT_EQ(scan.progress(0).endpoints(), 2u) << "two unique endpoints for six targets";
  EXPECT_EQ(scan.progress(0).targets_resolved(), 6u);
  EXPECT_EQ(scan.progress(0).targets_done(), 0u) << "every shard uses mx.shared: all wait";
  EXPECT_EQ(scan.progress(0).endpoint_shards(), 1u);

  // An agent that cannot run probe units gets none.
  EXPECT_TRUE(store_->LeaseShards("agent-old", "eu", 5, 3000, 10'000, false).value().empty());
  std::vector<ShardAssignment> probes =
      store_->LeaseShards("agent-2", "eu", 5, 3000, 10'000, true).value();
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].kind(), v1::UNIT_PROBE_ENDPOINTS);
  EXPECT_EQ(probes[0].targets_size(), 0);
  ASSERT_EQ(probes[0].endpoints_size(), 2);
  EXPECT_EQ(probes[0].endpoints(0).mx_host(), kShared.mx_host);
  EXPECT_EQ(probes[0].endpoints(1).address(), kOwn.address);
  ResultBatch batch = ProbeBatch(probes[0]);
  Complete(probes[0], batch, "agent-2");

  scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  EXPECT_EQ(scan.progress(0).shards_done(), 3u);
  EXPECT_EQ(scan.progress(0).endpoint_results(), 4u) << "2 endpoints x 2 candidates, once";
  std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  // t1..t4: 2 results each; t5: 4 (two endpoints); t6: its DNS failure.
  ASSERT_EQ(results.size(), 4 * 2 + 4 + 1u);
  std::map<uint64_t, std::multiset<std::string>> by_line;
  int fresh = 0;
  for (const ProbeResult& result : results) {
    by_line[result.line_number()].insert(
        absl::StrCat(result.mx_host(), "/", result.tls_settings().name(), "/", result.failure()));
    if (result.line_number() <= 5) {
      EXPECT_EQ(result.domain(), absl::StrCat("t", result.line_number(), ".example"));
      EXPECT_EQ(result.target(), result.domain());
    }
    fresh += result.reused() ? 0 : 1;
    if (result.tls().peer_chain_size() > 0) {
      EXPECT_EQ(result.tls().peer_chain(0).der().empty(), result.reused())
          << "only the first copy keeps the DER";
    }
  }
  for (uint64_t line = 1; line <= 4; ++line) {
    EXPECT_EQ(by_line[line],
              (std::multiset<std::string>{"mx.shared.example/a/0", "mx.shared.example/b/0"}));
  }
  EXPECT_EQ(by_line[5].size(), 4u);
  EXPECT_EQ(by_line[5].count("mx.own.example/a/18"), 1u);
  EXPECT_EQ(by_line[6], (std::multiset<std::string>{"/"
                                                    "/1"}));
  EXPECT_EQ(fresh, 2 + 2 + 1) << "the first user of each endpoint (and t6) are not copies";
  // t5's results keep its own MX preferences.
  for (const ProbeResult& result : results) {
    if (result.line_number() == 5 && result.mx_host() == kOwn.mx_host) {
      EXPECT_EQ(result.mx_preference(), 20u);
    }
  }
}

TEST_F(EndpointPhaseTest, EachEndpointResultAndCertificateIsStoredOnce) {
  const std::string scan_id = MakeScan();
  ResolveAll();
  ProbeAll();
  ASSERT_EQ(store_->GetScan(scan_id, false).value().state(), v1::SCAN_DONE);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 1) << "t6's DNS failure, no per-target copy";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM endpoint_results"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM certificates"), 1) << "one chain, seen 4 times";
  auto db = SqliteDb::Open(path_).value();
  SqliteStatement blobs = db->Prepare("SELECT result FROM endpoint_results").value();
  while (blobs.Step().value()) {
    ProbeResult stored;
    ASSERT_TRUE(stored.ParseFromString(blobs.Blob(0)));
    EXPECT_TRUE(stored.tls().peer_chain(0).der().empty());
    EXPECT_EQ(stored.tls().peer_chain(0).sha256_fingerprint(), "ab12");
  }
  // Read whole where a target is the first to use an endpoint.
  int whole = 0;
  const std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  for (const ProbeResult& result : results) {
    if (result.tls().peer_chain_size() == 0) continue;
    EXPECT_EQ(result.tls().peer_chain(0).der().empty(), result.reused());
    whole += result.reused() ? 0 : 1;
  }
  EXPECT_EQ(whole, 4);
  // Deleting the scan takes its certificates when no other scan uses them.
  ASSERT_TRUE(store_->DeleteScan(scan_id).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM certificates"), 0);
}

// The join is made when results are read: each scan reads its own routes, so a domain that
// moved to another MX between two scans is joined to the endpoint it used in each.
TEST_F(EndpointPhaseTest, ADomainWhoseMxSetChangedIsJoinedToTheRightEndpointsInEachScan) {
  const std::string first = MakeScan();
  ResolveAll();
  ProbeAll();
  t1_route_ = kOwn;
  const std::string second = MakeScan();
  ResolveAll();
  ProbeAll("agent-3");
  ASSERT_EQ(store_->GetScan(second, false).value().state(), v1::SCAN_DONE);
  auto hosts_of_t1 = [&](const std::string& scan_id) {
    std::multiset<std::string> hosts;
    const std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
    for (const ProbeResult& result : results) {
      if (result.line_number() == 1) {
        hosts.insert(absl::StrCat(result.mx_host(), "/", result.address(), "/",
                                  result.tls_settings().name(), "/", result.failure()));
      }
    }
    return hosts;
  };
  EXPECT_EQ(hosts_of_t1(first), (std::multiset<std::string>{"mx.shared.example/127.0.0.10/a/0",
                                                            "mx.shared.example/127.0.0.10/b/0"}));
  EXPECT_EQ(hosts_of_t1(second), (std::multiset<std::string>{"mx.own.example/127.0.0.11/a/18",
                                                             "mx.own.example/127.0.0.11/b/18"}));
}

// A store of schema 3 kept a copy of each endpoint result per target: opening it drops them
// (the join reads the same results); a store of a newer schema is refused.
TEST_F(EndpointPhaseTest, ASchema3StoreIsMigratedAndANewerOneRefused) {
  const std::string scan_id = MakeScan();
  ResolveAll();
  ProbeAll();
  // Every reader's view of the scan, which no migration may change.
  const auto results = [&] {
    std::vector<std::string> serialized;
    const std::vector<ProbeResult> read = store_->Results(scan_id, "eu").value();
    for (const ProbeResult& result : read) {
      serialized.push_back(result.SerializeAsString());
    }
    std::sort(serialized.begin(), serialized.end());
    return serialized;
  };
  const std::vector<std::string> before = results();
  ASSERT_EQ(before.size(), 13u);
  store_.reset();
  {
    auto db = SqliteDb::Open(path_).value();
    ASSERT_TRUE(db->Exec("INSERT INTO results SELECT scan_id, region, shard, -2, 7, line_number, "
                         "target, domain, mx_host, address, port, candidate, probe, failure, "
                         "result FROM results")
                    .ok());
    ASSERT_TRUE(db->Exec("UPDATE meta SET value=3 WHERE key='schema_version'").ok());
  }
  store_ = OpenSqliteStore(path_).value();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results WHERE seq=-2"), 0);
  EXPECT_EQ(Count("SELECT value FROM meta WHERE key='schema_version'"), 5);
  EXPECT_EQ(results(), before);
  store_.reset();
  // Schema 4 had no enumerations known across scans: the migration adds their tables, and a
  // report reader that migrates (not the store) gets them too.
  // Nor parsed targets: the migration parses them once, so that agents never do.
  {
    auto db = SqliteDb::Open(path_).value();
    ASSERT_TRUE(db->Exec("INSERT INTO targets(scan_id, ordinal, line_number, input, key, domain, "
                         "weight) VALUES('old', 0, 1, '[mx.example]:587', 'h', '', 1), "
                         "('old', 1, 2, '192.0.2.1', 'a', '', 1), "
                         "('old', 2, 3, 'broken..example', 'b', '', 1)")
                    .ok());
    // Schema 4 kept each route as the agent's whole message, the provider in it.
    SqliteStatement routes =
        db->Prepare(
              "SELECT r.shard, r.seq, r.idx, r.name, r.line, r.preference, n.provider, "
              "t.input, t.domain FROM routes r JOIN endpoint_names n ON "
              "n.scan_id=r.scan_id AND n.region=r.region AND n.key=r.endpoint AND "
              "n.name=r.name JOIN targets t ON t.scan_id=r.scan_id AND "
              "t.line_number=r.line")
            .value();
    SqliteStatement as_blob =
        db->Prepare("UPDATE routes SET route=? WHERE region='eu' AND shard=? AND seq=? AND idx=?")
            .value();
    std::vector<std::tuple<int64_t, int64_t, int64_t, std::string>> blobs;
    while (routes.Step().value()) {
      ProbeResult route;
      route.set_probe_kind(v1::PROBE_KIND_ROUTE);
      route.set_mx_host(routes.Text(3));
      route.set_line_number(static_cast<uint64_t>(routes.Int(4)));
      route.set_mx_preference(static_cast<uint32_t>(routes.Int(5)));
      route.set_provider(routes.Text(6));
      route.set_target(routes.Text(7));
      route.set_domain(routes.Text(8));
      blobs.emplace_back(routes.Int(0), routes.Int(1), routes.Int(2), route.SerializeAsString());
    }
    routes.Reset();
    ASSERT_EQ(blobs.size(), 6u) << "t1..t4 one route each, t5 two";
    for (const auto& [shard, seq, idx, blob] : blobs) {
      as_blob.BindBlob(1, blob).Bind(2, shard).Bind(3, seq).Bind(4, idx);
      ASSERT_TRUE(as_blob.Run().ok());
    }
    ASSERT_TRUE(db->Exec("DROP TABLE known_enumerations; DROP TABLE endpoint_enumerations; "
                         "ALTER TABLE targets DROP COLUMN kind; ALTER TABLE targets DROP COLUMN "
                         "name; ALTER TABLE targets DROP COLUMN port; "
                         "ALTER TABLE routes DROP COLUMN line; ALTER TABLE routes DROP COLUMN "
                         "preference; ALTER TABLE routes DROP COLUMN implicit; "
                         "ALTER TABLE endpoint_names DROP COLUMN provider; "
                         "UPDATE meta SET value=4 WHERE key='schema_version'")
                    .ok());
    ASSERT_TRUE(MigrateStoreSchema(*db, path_).ok());
  }
  // A schema-4 store's routes are read from their messages, as before.
  store_ = OpenSqliteStore(path_).value();
  EXPECT_EQ(results(), before);
  store_.reset();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('known_enumerations', "
                  "'endpoint_enumerations')"),
            2);
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM targets WHERE scan_id='", scan_id,
                               "' AND kind=1 AND name='' AND port=0")),
            6)
      << "domains: their name is their domain, their port the scan's";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM targets WHERE scan_id='old' AND ordinal=0 AND kind=2 AND "
                  "name='mx.example' AND port=587"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM targets WHERE scan_id='old' AND ordinal=1 AND kind=3 AND "
                  "name='192.0.2.1' AND port=0"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM targets WHERE scan_id='old' AND ordinal=2 AND kind=0"), 1)
      << "a line that does not parse is left for its agent to report";
  EXPECT_EQ(Count("SELECT value FROM meta WHERE key='schema_version'"), 5);
  ASSERT_TRUE(SqliteDb::Open(path_)
                  .value()
                  ->Exec("UPDATE meta SET value=99 WHERE key='schema_version'")
                  .ok());
  absl::StatusOr<std::unique_ptr<Store>> newer = OpenSqliteStore(path_);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(newer.status().message(), "newer tlsweep")) << newer.status();
}

TEST_F(EndpointPhaseTest, EndpointsAreCutAsSoonAsAUnitIsFull) {
  const std::string scan_id = MakeScan(3, /*endpoint_shard_size=*/1);
  ShardAssignment first = store_->LeaseShards("agent-1", "eu", 1, 2000, 10'000, true).value().at(0);
  ResultBatch batch = ResolveBatch(first);
  Complete(first, batch);
  // mx.shared fills a unit of one while two target shards are still pending: it goes out
  // first (probe units before target shards).
  std::vector<ShardAssignment> next =
      store_->LeaseShards("agent-1", "eu", 1, 2100, 10'000, true).value();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].kind(), v1::UNIT_PROBE_ENDPOINTS);
  EXPECT_EQ(next[0].endpoints_size(), 1);
  ResultBatch probe = ProbeBatch(next[0]);
  Complete(next[0], probe);
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.progress(0).shards_done(), 1u) << "t1 and t2 joined while others resolve";
  EXPECT_EQ(scan.progress(0).targets_done(), 2u);
}

TEST_F(EndpointPhaseTest, LostOrSkippedEndpointsGiveTheirTargetsAFinalResult) {
  const std::string scan_id = MakeScan(/*max_attempts=*/1);
  ResolveAll();
  ShardAssignment probe = store_->LeaseShards("agent-2", "eu", 1, 3000, 500, true).value().at(0);
  // The agent reports mx.shared only, then vanishes: with one attempt the unit is lost.
  ResultBatch partial = ProbeBatch(probe, /*skip_last=*/true);
  ASSERT_EQ(store_->IngestBatch("agent-2", partial).value(), BatchOutcome::kAccepted);
  ASSERT_EQ(store_->ExpireLeases(4000).value().size(), 1u);
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  ASSERT_EQ(results.size(), 7u) << "t1..t5: one per endpoint used; t6: its DNS failure";
  for (const ProbeResult& result : results) {
    if (result.line_number() == 6) continue;
    EXPECT_EQ(result.failure(), v1::AGENT_LOST) << result.mx_host();
    EXPECT_NE(result.failure_detail(), "");
  }
}

TEST_F(EndpointPhaseTest, AnEndpointTheAgentSkippedIsReportedNotDropped) {
  const std::string scan_id = MakeScan();
  ResolveAll();
  ShardAssignment probe = store_->LeaseShards("agent-2", "eu", 1, 3000, 500, true).value().at(0);
  ResultBatch partial = ProbeBatch(probe, /*skip_last=*/true);
  Complete(probe, partial, "agent-2");
  std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  int skipped = 0;
  for (const ProbeResult& result : results) {
    if (result.mx_host() == kOwn.mx_host) {
      EXPECT_EQ(result.failure(), v1::AGENT_LOST);
      EXPECT_EQ(result.line_number(), 5u);
      ++skipped;
    }
  }
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(store_->GetScan(scan_id, false).value().state(), v1::SCAN_DONE);
}

TEST_F(EndpointPhaseTest, AResolveUnitLeasedAgainForgetsItsEarlierRoutes) {
  const std::string scan_id = MakeScan();
  ShardAssignment first = store_->LeaseShards("agent-1", "eu", 1, 2000, 500, true).value().at(0);
  ResultBatch batch = ResolveBatch(first);
  ASSERT_EQ(store_->IngestBatch("agent-1", batch).value(), BatchOutcome::kAccepted);
  ASSERT_EQ(store_->ExpireLeases(3000).value().size(), 1u);
  ShardAssignment again = store_->LeaseShards("agent-2", "eu", 1, 3100, 10'000, true).value().at(0);
  ASSERT_EQ(again.shard(), first.shard());
  batch = ResolveBatch(again);
  Complete(again, batch, "agent-2");
  const std::vector<ShardAssignment> rest =
      store_->LeaseShards("agent-2", "eu", 5, 3200, 10'000, true).value();
  for (const ShardAssignment& shard : rest) {
    batch = shard.kind() == v1::UNIT_RESOLVE ? ResolveBatch(shard) : ProbeBatch(shard);
    Complete(shard, batch, "agent-2");
  }
  const std::vector<ShardAssignment> probes =
      store_->LeaseShards("agent-2", "eu", 5, 3300, 10'000, true).value();
  EXPECT_EQ(probes.size(), 1u);
  for (const ShardAssignment& shard : probes) {
    batch = ProbeBatch(shard);
    Complete(shard, batch, "agent-2");
  }
  ASSERT_EQ(store_->GetScan(scan_id, false).value().state(), v1::SCAN_DONE);
  std::map<uint64_t, int> per_line;
  const std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  for (const ProbeResult& result : results) {
    ++per_line[result.line_number()];
  }
  EXPECT_EQ(per_line, (std::map<uint64_t, int>{{1, 2}, {2, 2}, {3, 2}, {4, 2}, {5, 4}, {6, 1}}))
      << "nothing counted twice";
}

}  // namespace
}  // namespace tlsweep::coordinator

namespace tlsweep::coordinator {
namespace {

// An enumeration an agent made (with the fingerprint of candidate "a"'s handshake beside it),
// or one it reused because the fingerprint matched the known one.
ProbeResult EnumerationOf(const v1::ShardEndpoint& endpoint, const std::string& fingerprint,
                          bool reused, int64_t started_ms) {
  ProbeResult result;
  result.set_target(endpoint.mx_host());
  result.set_mx_host(endpoint.mx_host());
  result.set_address(endpoint.address());
  result.set_port(endpoint.port());
  result.set_probe_kind(v1::PROBE_KIND_ENUMERATE);
  result.set_started_unix_ms(started_ms);
  v1::Enumeration& enumeration = *result.mutable_enumeration();
  enumeration.set_fingerprint(fingerprint);
  enumeration.set_fingerprint_candidate("a");
  if (reused) {
    enumeration.set_reused(true);
  } else {
    result.set_attempts(9);
    enumeration.set_handshakes(9);
    v1::VersionEnumeration& version = *enumeration.add_versions();
    version.set_status(v1::VersionEnumeration::SUPPORTED);
    version.add_suites()->set_code_point(0xc02f);
  }
  return result;
}

class KnownEnumerationTest : public EndpointPhaseTest {
 protected:
  static v1::ProbeProfile Profile() {
    v1::ProbeProfile profile;
    profile.set_enumerate(true);
    profile.add_candidates()->set_name("a");
    return profile;
  }

  // Resolves the scan, then leases its probe units at `now_ms` and answers each endpoint with
  // `answer`; returns the endpoints as leased.
  std::vector<v1::ShardEndpoint> Run(
      int64_t now_ms, const std::function<ProbeResult(const v1::ShardEndpoint&)>& answer) {
    ResolveAll();
    std::vector<v1::ShardEndpoint> leased;
    const std::vector<ShardAssignment> units =
        store_->LeaseShards("agent-2", "eu", 5, now_ms, 10'000, true).value();
    for (const ShardAssignment& unit : units) {
      ResultBatch batch;
      batch.set_lease_id(unit.lease_id());
      for (const v1::ShardEndpoint& endpoint : unit.endpoints()) {
        leased.push_back(endpoint);
        *batch.add_results() = answer(endpoint);
      }
      Complete(unit, batch, "agent-2");
    }
    return leased;
  }

  static const v1::ShardEndpoint* Named(const std::vector<v1::ShardEndpoint>& endpoints,
                                        const Route& route) {
    for (const v1::ShardEndpoint& endpoint : endpoints) {
      if (endpoint.address() == route.address) return &endpoint;
    }
    return nullptr;
  }
};

TEST_F(KnownEnumerationTest, AKnownEnumerationIsOfferedReusedAndFilledIn) {
  // Scan 1 enumerates both endpoints. mx.own's handshake failed: no fingerprint, nothing known.
  const std::string first = MakeScan(3, 2, Profile());
  std::vector<v1::ShardEndpoint> leased = Run(5000, [](const v1::ShardEndpoint& endpoint) {
    return EnumerationOf(endpoint, endpoint.address() == kShared.address ? "fp-shared" : "", false,
                         4000);
  });
  ASSERT_NE(Named(leased, kShared), nullptr);
  EXPECT_TRUE(Named(leased, kShared)->known_fingerprint().empty()) << "nothing known yet";
  ASSERT_EQ(store_->GetScan(first, false).value().state(), v1::SCAN_DONE);

  // Scan 2 is told mx.shared's fingerprint; its agent's handshake matched, so it reused it.
  const std::string second = MakeScan(3, 2, Profile());
  leased = Run(6000, [](const v1::ShardEndpoint& endpoint) {
    return endpoint.known_fingerprint().empty()
               ? EnumerationOf(endpoint, "", false, 6000)
               : EnumerationOf(endpoint, endpoint.known_fingerprint(), true, 6000);
  });
  ASSERT_NE(Named(leased, kShared), nullptr);
  ASSERT_NE(Named(leased, kOwn), nullptr);
  EXPECT_EQ(Named(leased, kShared)->known_fingerprint(), "fp-shared");
  EXPECT_EQ(Named(leased, kShared)->known_fingerprint_candidate(), "a");
  EXPECT_TRUE(Named(leased, kOwn)->known_fingerprint().empty());
  ASSERT_EQ(store_->GetScan(second, false).value().state(), v1::SCAN_DONE);

  // Every reader gets the first scan's findings, marked reused, with their age and origin.
  int reused = 0;
  const std::vector<ProbeResult> results = store_->Results(second, "eu").value();
  for (const ProbeResult& result : results) {
    if (result.probe_kind() != v1::PROBE_KIND_ENUMERATE || result.address() != kShared.address) {
      continue;
    }
    ++reused;
    EXPECT_TRUE(result.enumeration().reused());
    EXPECT_EQ(result.enumeration().reused_scan_id(), first);
    EXPECT_EQ(result.enumeration().enumerated_unix_ms(), 4000);
    ASSERT_EQ(result.enumeration().versions_size(), 1);
    EXPECT_EQ(result.enumeration().versions(0).suites(0).code_point(), 0xc02fu);
    EXPECT_EQ(result.attempts(), 0u) << "no connection made for it in this scan";
    EXPECT_FALSE(result.domain().empty()) << "joined to the scan's own targets";
  }
  EXPECT_EQ(reused, 5) << "t1..t5 use mx.shared";
  EXPECT_EQ(
      Count(absl::StrCat("SELECT COUNT(*) FROM endpoint_enumerations WHERE scan_id='", second,
                         "' AND reused=1 AND from_scan='", first, "' AND enumerated_ms=4000")),
      1);
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM endpoint_enumerations WHERE scan_id='", second,
                               "' AND reused=0")),
            1);

  // --fresh, a max age of 0, or an enumeration older than the max age: nothing is offered.
  for (int variant = 0; variant < 3; ++variant) {
    v1::ProbeProfile profile = Profile();
    int64_t now_ms = 7000;
    if (variant == 0) profile.set_fresh_enumeration(true);
    if (variant == 1) profile.set_enumeration_max_age_s(0);
    if (variant == 2) {
      profile.set_enumeration_max_age_s(60);
      now_ms = 4000 + 61'000;
    }
    MakeScan(3, 2, profile);
    leased = Run(now_ms, [](const v1::ShardEndpoint& endpoint) {
      return EnumerationOf(endpoint, "", false, 7000);  // No fingerprint: known stays as it is.
    });
    ASSERT_NE(Named(leased, kShared), nullptr) << variant;
    EXPECT_TRUE(Named(leased, kShared)->known_fingerprint().empty()) << variant;
  }
}

TEST_F(KnownEnumerationTest, AChangedFingerprintReplacesTheKnownEnumeration) {
  MakeScan(3, 2, Profile());
  Run(5000, [](const v1::ShardEndpoint& endpoint) {
    return EnumerationOf(endpoint, "fp-1", false, 4000);
  });
  // The agent's handshake differed: it enumerated afresh, and that is what is known now.
  MakeScan(3, 2, Profile());
  Run(6000, [](const v1::ShardEndpoint& endpoint) {
    EXPECT_EQ(endpoint.known_fingerprint(), "fp-1");
    return EnumerationOf(endpoint, "fp-2", false, 5500);
  });
  EXPECT_EQ(Count("SELECT COUNT(*) FROM known_enumerations WHERE fingerprint='fp-2' AND "
                  "enumerated_ms=5500"),
            2);
  // A late answer of an older enumeration never replaces a newer one.
  const std::string third = MakeScan(3, 2, Profile());
  std::vector<v1::ShardEndpoint> leased = Run(7000, [](const v1::ShardEndpoint& endpoint) {
    return EnumerationOf(endpoint, "fp-old", false, 1000);
  });
  EXPECT_EQ(leased.front().known_fingerprint(), "fp-2");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM known_enumerations WHERE fingerprint='fp-2'"), 2);
  // Deleting a scan drops its records, not what the region knows.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM endpoint_enumerations"), 6);
  ASSERT_TRUE(store_->DeleteScan(third).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM endpoint_enumerations"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM known_enumerations"), 2);
}

}  // namespace
}  // namespace tlsweep::coordinator
