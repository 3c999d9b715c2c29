// Report aggregates over known results (report_fixture.h) against hand-counted totals.
#include "coordinator/report/report_builder.h"

#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/candidate/captured_hello.h"
#include "coordinator/report/render.h"
#include "coordinator/report/result_index.h"
#include "tests/coordinator/report/report_fixture.h"

namespace tlsweep::coordinator::report {
namespace {

using ::tlsweep::testing::For;

using ::tlsweep::testing::MakeReportStore;
using ::tlsweep::testing::ReportStore;

const Headline& Find(const Report& report, const std::string& candidate,
                     const std::string& region) {
  for (const Headline& h : report.headlines) {
    if (h.candidate == candidate && h.region == region) return h;
  }
  static const Headline kNone;
  ADD_FAILURE() << "no headline " << candidate << " " << region;
  return kNone;
}

int64_t DistributionDomains(const Report& report, const std::string& dimension,
                            const std::string& candidate, const std::string& region,
                            const std::string& key) {
  for (const Distribution& d : report.distributions) {
    if (d.dimension != dimension || d.candidate != candidate || d.region != region) continue;
    for (const DistributionRow& row : d.rows) {
      if (row.key == key) return row.count.domains;
    }
  }
  return 0;
}

void ExpectCount(const Count& count, int64_t domains, double weight, const std::string& what) {
  EXPECT_EQ(count.domains, domains) << what;
  EXPECT_DOUBLE_EQ(count.weight, weight) << what;
}

class ReportBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = MakeReportStore(/*complete_us=*/true);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto db = SqliteDb::Open(store_.path);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  Report Build(ReportOptions options) {
    auto report = BuildReport(*db_, options);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : Report{};
  }

  ReportStore store_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(ReportBuilderTest, HeadlinesMatchHandCountedTotals) {
  const Report report = Build(For(store_.current_id));
  EXPECT_TRUE(report.complete);
  EXPECT_TRUE(report.weighted);
  EXPECT_EQ(report.scan.state, "done");
  ASSERT_EQ(report.headlines.size(), 4u);  // 2 candidates x 2 regions.

  const Headline& em = Find(report, "modern", "eu");
  EXPECT_TRUE(em.tls_required);
  ExpectCount(em.total, 5, 200, "eu modern total");
  ExpectCount(em.ok, 0, 0, "eu modern ok");
  ExpectCount(em.degraded, 1, 100, "eu modern degraded (alpha)");
  ExpectCount(em.fails, 3, 95, "eu modern fails (beta, gamma, delta)");
  ExpectCount(em.unreachable, 1, 5, "eu modern unreachable (epsilon)");
  ExpectCount(em.cleartext, 4, 195, "eu modern cleartext");
  EXPECT_EQ(em.endpoints, 4);
  EXPECT_EQ(em.failing_endpoints, 3);
  ASSERT_EQ(em.fail_classes.size(), 2u);
  EXPECT_EQ(em.fail_classes[0].first, "tls_protocol_version");
  ExpectCount(em.fail_classes[0].second, 2, 80, "protocol version");
  EXPECT_EQ(em.fail_classes[1].first, "starttls_not_offered");
  ExpectCount(em.fail_classes[1].second, 1, 15, "starttls");

  const Headline& ec = Find(report, "compat", "eu");
  EXPECT_FALSE(ec.tls_required);
  ExpectCount(ec.ok, 3, 180, "eu compat ok");
  ExpectCount(ec.degraded, 0, 0, "eu compat degraded");
  ExpectCount(ec.fails, 1, 15, "eu compat fails (delta)");
  ExpectCount(ec.cleartext, 1, 15, "eu compat cleartext");
  EXPECT_EQ(ec.failing_endpoints, 1);

  const Headline& um = Find(report, "modern", "us");
  ExpectCount(um.degraded, 1, 100, "us modern degraded");
  ExpectCount(um.fails, 2, 80, "us modern fails");
  ExpectCount(um.unreachable, 2, 20, "us modern unreachable (delta filtered, epsilon)");
  ExpectCount(um.cleartext, 3, 180, "us modern cleartext");
  EXPECT_EQ(um.endpoints, 4);
  EXPECT_EQ(um.failing_endpoints, 2);

  const Headline& uc = Find(report, "compat", "us");
  ExpectCount(uc.ok, 3, 180, "us compat ok");
  ExpectCount(uc.fails, 0, 0, "us compat fails");
  ExpectCount(uc.unreachable, 2, 20, "us compat unreachable");
}

TEST_F(ReportBuilderTest, FailingDomainsWorstFirstByVolume) {
  const Report report = Build(For(store_.current_id));
  EXPECT_EQ(report.failing_domains_total, 8);
  ASSERT_EQ(report.failing_domains.size(), 8u);
  EXPECT_EQ(report.failing_domains[0].domain, "alpha.example");
  EXPECT_EQ(report.failing_domains[0].required, "degraded");
  EXPECT_EQ(report.failing_domains[0].opportunistic, "cleartext");
  EXPECT_EQ(report.failing_domains[0].failure, "tls_no_shared_cipher");
  EXPECT_EQ(report.failing_domains[0].mx_host, "mx1.alpha.example");
  EXPECT_EQ(report.failing_domains[2].domain, "beta.example");
  EXPECT_EQ(report.failing_domains[2].required, "fails");
  EXPECT_EQ(report.failing_domains[2].cause, "protocol version");
  for (size_t i = 1; i < report.failing_domains.size(); ++i) {
    EXPECT_GE(report.failing_domains[i - 1].weight, report.failing_domains[i].weight);
  }
  EXPECT_EQ(report.failing_domains.back().domain, "delta.example");

  const Report only_compat = Build(For(store_.current_id, "", {"compat"}));
  EXPECT_EQ(only_compat.headlines.size(), 2u);
  EXPECT_EQ(only_compat.failing_domains.size(), 1u);
  EXPECT_EQ(only_compat.failing_domains_total, 1);
}

TEST_F(ReportBuilderTest, Distributions) {
  const Report report = Build(For(store_.current_id));
  EXPECT_EQ(DistributionDomains(report, "version", "compat", "eu", "TLSv1.0"), 2);
  EXPECT_EQ(DistributionDomains(report, "version", "compat", "eu", "TLSv1.2"), 1);
  EXPECT_EQ(DistributionDomains(report, "version", "modern", "eu", "TLSv1.3"), 1);
  EXPECT_EQ(DistributionDomains(report, "starttls", "compat", "eu", "offered"), 3);
  EXPECT_EQ(DistributionDomains(report, "starttls", "compat", "eu", "not offered"), 1);
  EXPECT_EQ(DistributionDomains(report, "hostname_match", "compat", "eu", "no"), 2);
  EXPECT_EQ(DistributionDomains(report, "hostname_match", "compat", "eu", "yes"), 1);
  EXPECT_EQ(DistributionDomains(report, "trusted", "compat", "eu", "yes"), 3);
  EXPECT_EQ(DistributionDomains(report, "expiry", "compat", "eu", "expires within 30 days"), 2);
  EXPECT_EQ(DistributionDomains(report, "key", "compat", "eu", "RSA 2048"), 3);
  EXPECT_EQ(DistributionDomains(report, "group", "compat", "eu", "secp256r1"), 3);
  EXPECT_EQ(
      DistributionDomains(report, "suite", "compat", "eu", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
      2);
  EXPECT_EQ(DistributionDomains(report, "failure_group", "modern", "eu", "tls"), 3);
  EXPECT_EQ(DistributionDomains(report, "failure_group", "modern", "eu", "starttls"), 1);
  EXPECT_EQ(DistributionDomains(report, "failure_group", "modern", "eu", "dns"), 1);
  EXPECT_EQ(DistributionDomains(report, "failure_group", "modern", "us", "tcp"), 1);
}

TEST_F(ReportBuilderTest, BackendDifferentialAndRegionDivergence) {
  const Report report = Build(For(store_.current_id));
  ASSERT_EQ(report.backend_differentials.size(), 1u);
  const BackendDifferential& d = report.backend_differentials[0];
  EXPECT_EQ(d.backend_a, "openssl");
  EXPECT_EQ(d.backend_b, "gnutls");
  // Reached the handshake with both: mx1.alpha, mx2.alpha, mx.shared in each region (mx.delta
  // has no STARTTLS, or is filtered: not a library difference).
  EXPECT_EQ(d.endpoints, 6);
  EXPECT_EQ(d.differing, 4);  // mx1.alpha and mx.shared, in each region.
  std::map<std::string, int64_t> causes(d.causes.begin(), d.causes.end());
  EXPECT_EQ(causes["no shared suite"], 2);
  EXPECT_EQ(causes["protocol version"], 2);
  ASSERT_FALSE(report.backend_differences.empty());
  EXPECT_EQ(report.backend_differences[0].endpoint.mx_host, "mx1.alpha.example");

  EXPECT_EQ(report.region_differences_total, 2);  // mx.delta, both candidates.
  ASSERT_EQ(report.region_differences.size(), 2u);
  const RegionDifference& r = report.region_differences[0];
  EXPECT_EQ(r.endpoint.mx_host, "mx.delta.example");
  EXPECT_EQ(r.region_a, "eu");
  EXPECT_EQ(r.verdict_a, "starttls_not_offered");
  EXPECT_EQ(r.verdict_b, "tcp_timeout");
  EXPECT_DOUBLE_EQ(r.count.weight, 15);
}

const DeltaSummary& FindDelta(const Report& report, const std::string& candidate,
                              const std::string& region) {
  static const DeltaSummary kNone;
  if (!report.delta.has_value()) {
    ADD_FAILURE() << "no delta";
    return kNone;
  }
  for (const DeltaSummary& d : report.delta->summaries) {
    if (d.candidate == candidate && d.region == region) return d;
  }
  ADD_FAILURE() << "no delta row " << candidate << " " << region;
  return kNone;
}

// The delta reads the same domain verdicts as the headlines: with compat as the baseline,
// modern newly fails beta and gamma (protocol version), degrades alpha, and sends alpha, beta
// and gamma in clear text; delta.example fails under both and is no change.
TEST_F(ReportBuilderTest, DeltaAgainstTheBaseline) {
  ReportOptions options = For(store_.current_id);
  options.baseline = "compat";
  const Report report = Build(options);
  ASSERT_TRUE(report.delta.has_value());
  EXPECT_EQ(report.delta->baseline, "compat");
  const DeltaSummary& eu = FindDelta(report, "modern", "eu");
  ExpectCount(eu.compared, 4, 195, "eu compared (epsilon unreachable)");
  ExpectCount(eu.newly_failing, 2, 80, "beta and gamma");
  ExpectCount(eu.newly_degraded, 1, 100, "alpha");
  ExpectCount(eu.newly_cleartext, 3, 180, "alpha, beta, gamma");
  ExpectCount(eu.newly_fixed, 0, 0, "nothing fixed");
  EXPECT_TRUE(eu.tls_required);
  // One row per (domain, change), heaviest first; each names why it fails now.
  EXPECT_EQ(report.delta->rows_total, 12);  // 6 per region.
  ASSERT_FALSE(report.delta->rows.empty());
  EXPECT_EQ(report.delta->rows.front().domain, "alpha.example");
  bool saw_beta = false;
  for (const DeltaRow& row : report.delta->rows) {
    if (row.domain != "beta.example" || row.change != "newly_failing" || row.region != "eu") {
      continue;
    }
    saw_beta = true;
    EXPECT_EQ(row.before, "ok");
    EXPECT_EQ(row.after, "fails");
    EXPECT_EQ(row.cause_code, "version") << row.cause_text;
    EXPECT_TRUE(absl::StrContains(row.cause_text, "modern")) << row.cause_text;
  }
  EXPECT_TRUE(saw_beta);
  ASSERT_FALSE(report.delta->providers.empty());

  // The default baseline is the scan's first candidate: then compat fixes what modern breaks.
  const Report by_default = Build(For(store_.current_id));
  ASSERT_TRUE(by_default.delta.has_value());
  EXPECT_EQ(by_default.delta->baseline, "modern");
  ExpectCount(FindDelta(by_default, "compat", "eu").newly_fixed, 3, 180, "alpha, beta, gamma");
  ExpectCount(FindDelta(by_default, "compat", "eu").newly_failing, 0, 0, "nothing breaks");

  ReportOptions unknown = For(store_.current_id);
  unknown.baseline = "nope";
  EXPECT_EQ(BuildReport(*db_, unknown).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ReportBuilderTest, AScanThatReachedAlmostNothingIsInconclusive) {
  // us: 2 of 5 unreachable is not most; the fixture's regions are both conclusive.
  EXPECT_TRUE(Build(For(store_.current_id)).inconclusive.empty());
}

TEST_F(ReportBuilderTest, DiffAgainstEarlierScan) {
  const Report report = Build(For(store_.current_id, store_.before_id));
  ASSERT_TRUE(report.diff.has_value());
  std::map<std::string, DiffSummary> by_candidate;
  for (const DiffSummary& s : report.diff->summaries) {
    if (s.region == "eu") by_candidate[s.candidate] = s;
  }
  ExpectCount(by_candidate["modern"].newly_failing, 1, 50, "beta newly failing");
  ExpectCount(by_candidate["modern"].newly_fixed, 0, 0, "modern fixed");
  ExpectCount(by_candidate["modern"].downgraded, 0, 0, "modern downgraded");
  ExpectCount(by_candidate["compat"].newly_fixed, 1, 50, "beta fixed");
  ExpectCount(by_candidate["compat"].downgraded, 1, 100, "alpha 1.3 -> 1.2");
  ExpectCount(by_candidate["compat"].newly_failing, 0, 0, "compat newly failing");
  ASSERT_EQ(report.diff->rows.size(), 3u);
  EXPECT_EQ(report.diff->rows[0].kind, "downgraded");
  EXPECT_EQ(report.diff->rows[0].domain, "alpha.example");
  EXPECT_EQ(report.diff->rows[0].before, "TLSv1.3 TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(report.diff->rows[0].after, "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

TEST_F(ReportBuilderTest, IndexingIsIncrementalAndIdempotent) {
  auto all = CatchUp(*db_, "");  // Both scans: 3 units.
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->units, 3);
  Report first = Build(For(store_.current_id));
  auto nothing = CatchUp(*db_, "");
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->units, 0);
  Report second = Build(For(store_.current_id));
  EXPECT_EQ(RenderJson(first).size(), RenderJson(second).size());
  EXPECT_EQ(Find(second, "modern", "eu").endpoints, 4);

  // Rebuilt from scratch, the same numbers.
  first.generated_unix_ms = 0;
  Report rebuilt = Build(For(store_.current_id));
  rebuilt.generated_unix_ms = 0;
  second.generated_unix_ms = 0;
  EXPECT_EQ(RenderJson(rebuilt), RenderJson(second));
}

TEST(ReportPartialTest, OnlyFinishedShardsAreReportedThenCaughtUp) {
  auto store = MakeReportStore(/*complete_us=*/false);
  ASSERT_TRUE(store.ok()) << store.status();
  auto db = SqliteDb::Open(store->path);
  ASSERT_TRUE(db.ok());
  auto partial = BuildReport(**db, For(store->current_id));
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_FALSE(partial->complete);
  EXPECT_EQ(partial->scan.state, "running");
  EXPECT_EQ(Find(*partial, "modern", "eu").total.domains, 5);
  EXPECT_EQ(Find(*partial, "modern", "us").total.domains, 0);

  ASSERT_TRUE(tlsweep::testing::CompleteUs(*store).ok());
  auto stats = CatchUp(**db, store->current_id);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->units, 1);  // Only the unit that just finished.
  EXPECT_EQ(stats->results, 12);
  auto full = BuildReport(**db, For(store->current_id));
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->complete);
  ExpectCount(Find(*full, "modern", "us").fails, 2, 80, "us modern fails");
}

TEST_F(ReportBuilderTest, UnknownScanIsNotFound) {
  auto report = BuildReport(*db_, For("nope"));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ReportBuilderTest, RenderersCarryTheNumbers) {
  Report report = Build(For(store_.current_id, store_.before_id));
  WhatIfRow what_if_row;
  what_if_row.candidate = "tls13-only";
  what_if_row.region = "eu";
  what_if_row.evaluated = {5, 200};
  what_if_row.fails = {2, 80};
  what_if_row.confidence = "3/3 samples agree";
  what_if_row.baseline = "modern";
  what_if_row.newly_failing = {1, 40};
  what_if_row.newly_failing_examples = {"gamma.example"};
  report.what_if = WhatIfSection{"evaluated from enumerations", {what_if_row}};
  const std::string text = RenderText(report);
  EXPECT_TRUE(absl::StrContains(text, "WHO WOULD FAIL")) << text;
  EXPECT_TRUE(absl::StrContains(text, "3 (47.5%)")) << text;  // eu modern fails: 95 of 200.
  EXPECT_TRUE(absl::StrContains(text, "tls13-only")) << text;
  EXPECT_TRUE(absl::StrContains(text, "against modern: newly failing 1")) << text;
  EXPECT_TRUE(absl::StrContains(text, "(gamma.example)")) << text;
  EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 71)
      << text;  // One screen, the delta first.

  const std::string json = RenderJson(report);
  EXPECT_TRUE(absl::StrContains(json, "\"schema_version\": 1"));
  EXPECT_TRUE(absl::StrContains(json, "\"fails_share\": 0.475"));
  EXPECT_TRUE(absl::StrContains(json, "\"against_scan_id\": \"" + store_.before_id + "\""));
  EXPECT_TRUE(absl::StrContains(json, "\"confidence\": \"3/3 samples agree\""));
  EXPECT_TRUE(absl::StrContains(json, "\"newly_failing_examples\": [\n          \"gamma.example\""))
      << json;

  const std::string html = RenderHtml(report);
  EXPECT_TRUE(absl::StrContains(html, "<table id=\"summary\">"));
  EXPECT_FALSE(absl::StrContains(html, "<script"));
  EXPECT_FALSE(absl::StrContains(html, "http://"));
  EXPECT_FALSE(absl::StrContains(html, "https://"));

  std::ostringstream csv;
  ASSERT_TRUE(WriteDomainsCsv(*db_, For(store_.current_id), csv).ok());
  const std::vector<std::string> lines = absl::StrSplit(csv.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u + 5 * 2 * 2);  // Header + domains x regions x candidates.
  EXPECT_TRUE(absl::StartsWith(lines[0], "scan_id,candidate,region,domain"));
  int fails = 0;
  for (const std::string& line : lines) fails += absl::StrContains(line, ",fails,") ? 1 : 0;
  EXPECT_EQ(fails, 3 + 1 + 2 + 0);
}

}  // namespace
}  // namespace tlsweep::coordinator::report

namespace tlsweep::coordinator::report {
namespace {

// A damaged stored row (disk fault, a bug of an older version) costs that row, not the report.
TEST_F(ReportBuilderTest, AnUnreadableRowIsSkippedCountedAndNamed) {
  ASSERT_TRUE(db_->Exec(absl::StrCat("UPDATE results SET result=X'ffffffff0f' WHERE scan_id='",
                                     store_.current_id,
                                     "' AND (region, shard, seq, idx) = (SELECT region, shard, "
                                     "seq, idx FROM results WHERE scan_id='",
                                     store_.current_id,
                                     "' ORDER BY region, shard, seq, idx "
                                     "LIMIT 1)"))
                  .ok());
  const Report report = Build(For(store_.current_id));
  EXPECT_EQ(report.unreadable_rows, 1);
  ASSERT_EQ(report.unreadable_examples.size(), 1u);
  EXPECT_FALSE(report.headlines.empty()) << "the other rows are still reported";
  EXPECT_TRUE(absl::StrContains(RenderText(report), "1 stored result row(s) did not parse"));
  EXPECT_TRUE(absl::StrContains(RenderJson(report), "\"unreadable_rows\": 1"));
}

TEST_F(ReportBuilderTest, AReplayedHelloCandidateIsMarkedAsServerHelloEvidence) {
  Report report = Build(For(store_.current_id));
  EXPECT_FALSE(absl::StrContains(RenderText(report), "captured ClientHello"));
  for (CandidateInfo& c : report.candidates) {
    if (c.name == "compat") c.backend = backends::kCapturedHelloBackend;
  }
  EXPECT_TRUE(absl::StrContains(RenderText(report),
                                "NOTE: candidate compat is a captured ClientHello replayed by the "
                                "raw backend"))
      << RenderText(report);
  EXPECT_TRUE(absl::StrContains(RenderHtml(report), "Candidate compat is a captured ClientHello"));
}

// The seed question, from enumerations: which domains still need a weak class or an old version
// because every MX they have accepts nothing stronger. alpha has one strong MX, so it does not;
// beta and gamma share a 3DES/RC4-at-best TLS 1.0 server; delta's enumeration was cut short.
TEST(ReportWeakDependenceTest, DomainsWhoseEveryMxAcceptsNothingStronger) {
  auto store = MakeReportStore(/*complete_us=*/true, /*with_enumerations=*/true);
  ASSERT_TRUE(store.ok()) << store.status();
  auto db = SqliteDb::Open(store->path);
  ASSERT_TRUE(db.ok()) << db.status();
  auto report = BuildReport(**db, For(store->current_id));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->weak_dependence.size(), 1u) << "only eu has enumerations";
  const WeakDependence& eu = report->weak_dependence[0];
  EXPECT_EQ(eu.region, "eu");
  ExpectCount(eu.known, 3, 180, "judged: alpha, beta, gamma");
  ExpectCount(eu.unknown, 1, 15, "delta, cut short");
  ASSERT_EQ(eu.by_class.size(), 1u);
  EXPECT_EQ(eu.by_class[0].first, "3DES");
  ExpectCount(eu.by_class[0].second, 2, 80, "beta and gamma");
  ASSERT_EQ(eu.by_version.size(), 1u);
  EXPECT_EQ(eu.by_version[0].first, "TLSv1");
  ExpectCount(eu.by_version[0].second, 2, 80, "beta and gamma");
  // Enumerations are no candidate: the headlines are those of the fixture without them.
  ExpectCount(Find(*report, "modern", "eu").total, 5, 200, "modern eu total");

  const std::string text = RenderText(*report);
  EXPECT_TRUE(absl::StrContains(text,
                                "eu: 2 (44.4%) only 3DES or weaker; 2 (44.4%) nothing "
                                "newer than TLSv1 (of 3 domains judged; 1 more unknown"))
      << text;
  const std::string json = RenderJson(*report);
  EXPECT_TRUE(absl::StrContains(json, "\"only_suite_class\": [")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"class\": \"3DES\"")) << json;
  EXPECT_TRUE(absl::StrContains(RenderHtml(*report), "<td>3DES or weaker</td>"));

  // Without enumerations there is no such section.
  auto without = MakeReportStore(/*complete_us=*/true);
  ASSERT_TRUE(without.ok());
  auto plain_db = SqliteDb::Open(without->path);
  ASSERT_TRUE(plain_db.ok());
  auto plain_report = BuildReport(**plain_db, For(without->current_id));
  ASSERT_TRUE(plain_report.ok());
  EXPECT_TRUE(plain_report->weak_dependence.empty());
  EXPECT_FALSE(absl::StrContains(RenderText(*plain_report), "WEAK SUITES"));
}

}  // namespace
}  // namespace tlsweep::coordinator::report
