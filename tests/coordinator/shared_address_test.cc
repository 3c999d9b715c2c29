// One probe per shared address, through the store: hosted customers each have their own MX
// name on one address; the address is cut into a probe unit once with its names, names found
// later are covered by the stored answer or compared with it, an SNI-dependent address keeps
// every name's own answer, and a region never leases two units sharing an address at once.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coordinator/store/store.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::ProbeResult;
using ::tlsweep::v1::ResultBatch;
using ::tlsweep::v1::ShardAssignment;
using ::tlsweep::v1::SniSharing;

constexpr const char* kAddress = "127.0.0.20";

// Target N (tN.example) sends its mail to cN.hosted.example on kAddress, unless `names` says
// otherwise.
std::string NameOf(uint64_t line, const std::map<uint64_t, std::string>& names) {
  auto it = names.find(line);
  return it != names.end() ? it->second : absl::StrCat("c", line, ".hosted.example");
}

// The certificate of the hosted address names c1..c3 only: c4 and c5 do not match it.
void AddCertificate(ProbeResult& result, const std::string& probed_name) {
  v1::CertificateSummary* leaf = result.mutable_tls()->add_peer_chain();
  for (const char* name : {"c1.hosted.example", "c2.hosted.example", "c3.hosted.example"}) {
    leaf->add_dns_names(name);
  }
  leaf->set_sha256_fingerprint("aa11");
  leaf->set_der("certificate bytes");
  v1::CertificateVerification* verification = result.mutable_tls()->mutable_verification();
  verification->set_performed(true);
  verification->set_trusted(true);
  verification->set_verified_name(probed_name);
  verification->set_hostname_match(probed_name != "c4.hosted.example" &&
                                   probed_name != "c5.hosted.example");
}

ProbeResult Probed(const v1::ShardEndpoint& endpoint, const std::string& name,
                   const std::string& candidate, SniSharing::Status status) {
  ProbeResult result;
  result.set_mx_host(name);
  result.set_address(endpoint.address());
  result.set_port(endpoint.port());
  result.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  result.set_attempts(1);
  result.mutable_tls_settings()->set_name(candidate);
  result.mutable_tls()->set_success(true);
  result.mutable_tls()->set_version(v1::TLSV1_3);
  AddCertificate(result, name);
  result.mutable_sni()->set_status(status);
  return result;
}

class SharedAddressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::MakeTempDirectory("tlsweep-shared-address") + "/store.db";
    store_ = OpenSqliteStore(path_).value();
  }

  // `targets` domains, two per target shard.
  std::string MakeScan(int targets, uint32_t endpoint_shard_size,
                       std::vector<std::string> regions = {"eu"}) {
    ScanSpec spec;
    spec.regions = std::move(regions);
    spec.shard_size = 2;
    spec.endpoint_shard_size = endpoint_shard_size;
    spec.max_attempts = 3;
    auto writer = store_->BeginScan(spec, 1000).value();
    for (int i = 1; i <= targets; ++i) {
      const std::string name = absl::StrCat("t", i, ".example");
      EXPECT_TRUE(
          writer->AddTarget({static_cast<uint64_t>(i), name, "domain " + name, name, 1}).value());
    }
    SubmissionStats stats;
    stats.lines = targets;
    EXPECT_TRUE(writer->Finish(stats, 1000).ok());
    return writer->scan_id();
  }

  std::vector<ShardAssignment> Lease(int max, const std::string& region = "eu",
                                     const std::string& agent = "agent-1") {
    return store_->LeaseShards(agent, region, max, 2000, 10'000, /*probe_units=*/true).value();
  }

  void Complete(const ShardAssignment& assignment, ResultBatch batch,
                const std::string& agent = "agent-1") {
    batch.set_lease_id(assignment.lease_id());
    ASSERT_EQ(store_->IngestBatch(agent, batch).value(), BatchOutcome::kAccepted);
    std::string detail;
    ASSERT_TRUE(store_->CompleteLease(agent, assignment.lease_id(), 1, 3000, &detail).value())
        << detail;
  }

  void Resolve(const ShardAssignment& shard, const std::string& agent = "agent-1") {
    ASSERT_EQ(shard.kind(), v1::UNIT_RESOLVE);
    ResultBatch batch;
    for (const v1::ShardTarget& target : shard.targets()) {
      ProbeResult* route = batch.add_results();
      route->set_target(target.input());
      route->set_domain(target.input());
      route->set_line_number(target.line_number());
      route->set_probe_kind(tlsweep::v1::PROBE_KIND_ROUTE);
      route->set_mx_host(NameOf(target.line_number(), names_));
      route->set_mx_preference(10);
      route->set_address(kAddress);
      route->set_port(25);
    }
    Complete(shard, batch, agent);
  }

  // What a real agent reports for an SNI-independent address: the first name with candidates
  // a and b (a is the reference), and the check under the second name with a.
  static ResultBatch SharedAnswer(const ShardAssignment& unit) {
    ResultBatch batch;
    for (const v1::ShardEndpoint& endpoint : unit.endpoints()) {
      const bool checked = endpoint.names_size() >= 2;
      const SniSharing::Status status =
          checked ? SniSharing::SNI_SHARED : SniSharing::SNI_UNCHECKED;
      for (const char* candidate : {"a", "b"}) {
        ProbeResult result = Probed(endpoint, endpoint.names(0), candidate, status);
        if (std::string(candidate) == "a") {
          result.mutable_sni()->set_reference(true);
          result.mutable_sni()->set_fingerprint("fp-shared");
        }
        *batch.add_results() = result;
      }
      if (checked) *batch.add_results() = Probed(endpoint, endpoint.names(1), "a", status);
    }
    return batch;
  }

  // Every target's results, by line number.
  std::map<uint64_t, std::vector<ProbeResult>> ResultsByLine(const std::string& scan_id) {
    std::map<uint64_t, std::vector<ProbeResult>> by_line;
    absl::StatusOr<std::vector<ProbeResult>> results = store_->Results(scan_id, "eu");
    EXPECT_TRUE(results.ok()) << results.status();
    if (!results.ok()) return by_line;
    for (const ProbeResult& result : *results) {
      by_line[result.line_number()].push_back(result);
    }
    return by_line;
  }

  std::map<uint64_t, std::string> names_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(SharedAddressTest, HostedNamesShareOneProbeAndKeepTheirOwnNameCheck) {
  const std::string scan_id = MakeScan(5, /*endpoint_shard_size=*/10);
  for (const ShardAssignment& shard : Lease(5)) Resolve(shard);

  std::vector<ShardAssignment> units = Lease(5);
  ASSERT_EQ(units.size(), 1u);
  ASSERT_EQ(units[0].kind(), v1::UNIT_PROBE_ENDPOINTS);
  ASSERT_EQ(units[0].endpoints_size(), 1) << "one entry per address, not per MX name";
  const v1::ShardEndpoint& endpoint = units[0].endpoints(0);
  EXPECT_EQ(endpoint.address(), kAddress);
  ASSERT_EQ(endpoint.names_size(), 5);
  EXPECT_EQ(endpoint.names(0), endpoint.mx_host());
  EXPECT_TRUE(endpoint.reference_fingerprint().empty());
  Complete(units[0], SharedAnswer(units[0]));

  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  ASSERT_EQ(scan.progress_size(), 1);
  EXPECT_EQ(scan.progress(0).endpoints(), 1u);
  EXPECT_EQ(scan.progress(0).names(), 5u);
  EXPECT_EQ(scan.progress(0).probes(), 3u);
  EXPECT_EQ(scan.progress(0).connections(), 3u);
  EXPECT_EQ(scan.progress(0).sni_dependent(), 0u);

  std::map<uint64_t, std::vector<ProbeResult>> by_line = ResultsByLine(scan_id);
  ASSERT_EQ(by_line.size(), 5u);
  int full_copies = 0;
  for (const auto& [line, results] : by_line) {
    ASSERT_EQ(results.size(), 2u) << "line " << line << ": one result per candidate";
    for (const ProbeResult& result : results) {
      const std::string own = NameOf(line, names_);
      EXPECT_EQ(result.mx_host(), own);
      EXPECT_EQ(result.tls().verification().verified_name(), own);
      EXPECT_EQ(result.tls().verification().hostname_match(), line <= 3) << own;
      if (!result.reused()) ++full_copies;
    }
  }
  EXPECT_EQ(full_copies, 3) << "each of the three probes is kept whole once";
}

TEST_F(SharedAddressTest, NamesFoundAfterAnSniIndependentProbeNeedNoOtherUnit) {
  const std::string scan_id = MakeScan(6, /*endpoint_shard_size=*/1);
  std::vector<ShardAssignment> shards = Lease(1);
  ASSERT_EQ(shards.size(), 1u);
  Resolve(shards[0]);  // c1, c2: the address is cut at once (a full unit of one address).
  std::vector<ShardAssignment> first = Lease(1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].kind(), v1::UNIT_PROBE_ENDPOINTS);
  ASSERT_EQ(first[0].endpoints(0).names_size(), 2);

  // Names found while the unit runs wait for it; then the SNI-independent answer covers them.
  std::vector<ShardAssignment> second = Lease(1);
  ASSERT_EQ(second.size(), 1u);
  Resolve(second[0]);  // c3, c4
  Complete(first[0], SharedAnswer(first[0]));
  for (const ShardAssignment& shard : Lease(5)) {
    EXPECT_EQ(shard.kind(), v1::UNIT_RESOLVE) << "no probe unit for names already covered";
    Resolve(shard);  // c5, c6
  }
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  EXPECT_EQ(scan.progress(0).endpoint_shards(), 1u);
  EXPECT_EQ(scan.progress(0).connections(), 3u);
  std::map<uint64_t, std::vector<ProbeResult>> by_line = ResultsByLine(scan_id);
  ASSERT_EQ(by_line.size(), 6u);
  for (const auto& [line, results] : by_line) {
    EXPECT_EQ(results.size(), 2u) << line;
  }
}

TEST_F(SharedAddressTest, LaterNamesOfAnUncheckedAddressAreComparedWithTheStoredAnswer) {
  // t1 and t2 share c1: the first unit knows one name only and cannot compare.
  names_ = {{1, "c1.hosted.example"}, {2, "c1.hosted.example"}};
  const std::string scan_id = MakeScan(4, /*endpoint_shard_size=*/1);
  std::vector<ShardAssignment> shards = Lease(1);
  Resolve(shards[0]);
  std::vector<ShardAssignment> first = Lease(1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].endpoints(0).names_size(), 1);
  Complete(first[0], SharedAnswer(first[0]));  // SNI_UNCHECKED, reference "fp-shared".

  for (const ShardAssignment& shard : Lease(5)) Resolve(shard);  // c3, c4
  std::vector<ShardAssignment> follow_up = Lease(5);
  ASSERT_EQ(follow_up.size(), 1u);
  ASSERT_EQ(follow_up[0].kind(), v1::UNIT_PROBE_ENDPOINTS);
  const v1::ShardEndpoint& endpoint = follow_up[0].endpoints(0);
  EXPECT_EQ(endpoint.address(), kAddress);
  EXPECT_EQ(endpoint.reference_name(), "c1.hosted.example");
  EXPECT_EQ(endpoint.reference_fingerprint(), "fp-shared");
  EXPECT_EQ(endpoint.reference_candidate(), "a");
  EXPECT_FALSE(endpoint.sni_dependent());
  ASSERT_EQ(endpoint.names_size(), 2);

  // The check differs: each new name is probed itself, with its own answer (b fails for c4).
  ResultBatch dependent;
  for (const std::string& name : endpoint.names()) {
    for (const char* candidate : {"a", "b"}) {
      ProbeResult result = Probed(endpoint, name, candidate, SniSharing::SNI_DEPENDENT);
      if (name == "c4.hosted.example" && std::string(candidate) == "b") {
        result.set_failure(v1::TLS_NO_SHARED_CIPHER);
      }
      *dependent.add_results() = result;
    }
  }
  Complete(follow_up[0], dependent);
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  EXPECT_EQ(scan.progress(0).sni_dependent(), 1u);
  std::map<uint64_t, std::vector<ProbeResult>> by_line = ResultsByLine(scan_id);
  ASSERT_EQ(by_line.size(), 4u);
  for (const auto& [line, results] : by_line) {
    ASSERT_EQ(results.size(), 2u) << line;
    for (const ProbeResult& result : results) {
      const bool fails = line == 4 && result.tls_settings().name() == "b";
      EXPECT_EQ(result.failure(), fails ? v1::TLS_NO_SHARED_CIPHER : v1::PROBE_OK)
          << "line " << line << " candidate " << result.tls_settings().name();
    }
  }
}

// The follow-up unit of two late names comes back empty: they get AGENT_LOST of their own, not
// the first name's answer re-checked for them.
TEST_F(SharedAddressTest, ANameWhoseOwnProbeWasLostBorrowsNothing) {
  names_ = {{1, "c1.hosted.example"}, {2, "c1.hosted.example"}};
  const std::string scan_id = MakeScan(4, /*endpoint_shard_size=*/1);
  Resolve(Lease(1)[0]);
  std::vector<ShardAssignment> first = Lease(1);
  ASSERT_EQ(first.size(), 1u);
  Complete(first[0], SharedAnswer(first[0]));                    // c1 alone: SNI_UNCHECKED.
  for (const ShardAssignment& shard : Lease(5)) Resolve(shard);  // c3, c4
  std::vector<ShardAssignment> follow_up = Lease(5);
  ASSERT_EQ(follow_up.size(), 1u);
  Complete(follow_up[0], ResultBatch());  // The agent skipped the entry.
  std::map<uint64_t, std::vector<ProbeResult>> by_line = ResultsByLine(scan_id);
  ASSERT_EQ(by_line.size(), 4u);
  for (uint64_t line : {3u, 4u}) {
    ASSERT_EQ(by_line[line].size(), 1u) << "line " << line;
    EXPECT_EQ(by_line[line][0].failure(), v1::AGENT_LOST);
  }
  EXPECT_EQ(by_line[1].size(), 2u);
  EXPECT_EQ(by_line[1][0].failure(), v1::PROBE_OK);
}

TEST_F(SharedAddressTest, AnSniDependentAddressIsNeverMerged) {
  const std::string scan_id = MakeScan(3, /*endpoint_shard_size=*/10);
  for (const ShardAssignment& shard : Lease(5)) Resolve(shard);
  std::vector<ShardAssignment> units = Lease(5);
  ASSERT_EQ(units.size(), 1u);
  const v1::ShardEndpoint& endpoint = units[0].endpoints(0);
  ResultBatch batch;
  for (int i = 0; i < endpoint.names_size(); ++i) {
    for (const char* candidate : {"a", "b"}) {
      ProbeResult result =
          Probed(endpoint, endpoint.names(i), candidate, SniSharing::SNI_DEPENDENT);
      // Each name has its own certificate.
      result.mutable_tls()->mutable_peer_chain(0)->set_sha256_fingerprint(absl::StrCat("cert", i));
      *batch.add_results() = result;
    }
  }
  Complete(units[0], batch);
  for (const auto& [line, results] : ResultsByLine(scan_id)) {
    ASSERT_EQ(results.size(), 2u);
    for (const ProbeResult& result : results) {
      int index = 0;
      while (endpoint.names(index) != result.mx_host()) ++index;
      EXPECT_EQ(result.tls().peer_chain(0).sha256_fingerprint(), absl::StrCat("cert", index))
          << "line " << line << " got another name's certificate";
      EXPECT_FALSE(result.reused()) << "every name's answer is its own probe";
    }
  }
}

TEST_F(SharedAddressTest, ARegionNeverLeasesTwoUnitsSharingAnAddressAtOnce) {
  const std::string first_scan = MakeScan(2, 10, {"eu", "us"});
  const std::string second_scan = MakeScan(2, 10, {"eu", "us"});
  for (const ShardAssignment& shard : Lease(5)) Resolve(shard);
  for (const ShardAssignment& shard : Lease(5, "us")) Resolve(shard, "agent-1");

  // Both scans have a probe unit on kAddress in each region.
  std::vector<ShardAssignment> eu = Lease(5, "eu", "agent-1");
  ASSERT_EQ(eu.size(), 1u) << "the second scan's unit shares the address: not leased now";
  // Both scans start at the same time: either may go first.
  const std::string leased_first = eu[0].scan_id();
  EXPECT_TRUE(leased_first == first_scan || leased_first == second_scan) << leased_first;
  EXPECT_TRUE(Lease(5, "eu", "agent-2").empty()) << "nor to another agent of the region";
  std::vector<ShardAssignment> us = Lease(5, "us", "agent-3");
  ASSERT_EQ(us.size(), 1u) << "another region probes from elsewhere";

  Complete(eu[0], SharedAnswer(eu[0]));
  std::vector<ShardAssignment> next = Lease(5, "eu", "agent-2");
  ASSERT_EQ(next.size(), 1u) << "leased once the first unit is done";
  EXPECT_EQ(next[0].scan_id(), leased_first == first_scan ? second_scan : first_scan);
}

}  // namespace
}  // namespace tlsweep::coordinator

namespace tlsweep::coordinator {
namespace {

// Results are keyed by line and endpoint, not by sender: an agent may only report on what its
// lease holds, or it could overwrite another shard's verdicts.
TEST_F(SharedAddressTest, ResultsOutsideTheLeaseAreRefused) {
  MakeScan(4, /*endpoint_shard_size=*/10);
  std::vector<ShardAssignment> shards = Lease(1);
  ASSERT_EQ(shards.size(), 1u);
  ASSERT_EQ(shards[0].targets_size(), 2);
  ResultBatch foreign;
  foreign.set_lease_id(shards[0].lease_id());
  ProbeResult* other_line = foreign.add_results();
  other_line->set_line_number(shards[0].targets(0).line_number());
  other_line->set_failure(v1::DNS_NXDOMAIN);
  other_line = foreign.add_results();
  other_line->set_line_number(3);  // The second shard's.
  other_line->set_target("t3.example");
  other_line->set_failure(v1::DNS_NXDOMAIN);
  absl::StatusOr<BatchOutcome> refused = store_->IngestBatch("agent-1", foreign);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "line 3 (t3.example)"))
      << refused.status();
  Resolve(shards[0]);  // The same batch number, now with its own lines: nothing was kept.
  for (const ShardAssignment& shard : Lease(1)) Resolve(shard);

  std::vector<ShardAssignment> units = Lease(1);
  ASSERT_EQ(units.size(), 1u);
  ASSERT_EQ(units[0].kind(), v1::UNIT_PROBE_ENDPOINTS);
  const v1::ShardEndpoint& endpoint = units[0].endpoints(0);
  for (auto [address, name] :
       {std::pair<std::string, std::string>{"127.0.0.99", endpoint.mx_host()},
        {kAddress, "someone.else.example"}}) {
    ResultBatch batch = SharedAnswer(units[0]);
    batch.set_lease_id(units[0].lease_id());
    ProbeResult* stray = batch.add_results();
    *stray = batch.results(0);
    stray->set_address(address);
    stray->set_mx_host(name);
    absl::StatusOr<BatchOutcome> outcome = store_->IngestBatch("agent-1", batch);
    EXPECT_EQ(outcome.status().code(), absl::StatusCode::kPermissionDenied)
        << address << " " << name;
    EXPECT_TRUE(absl::StrContains(outcome.status().message(), "not one of its endpoints"))
        << outcome.status();
  }
  Complete(units[0], SharedAnswer(units[0]));
  EXPECT_EQ(ResultsByLine(store_->ListScans(1).value()[0].scan_id()).size(), 4u);
}

}  // namespace
}  // namespace tlsweep::coordinator
