#include "coordinator/report/report_builder.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "backends/status_macros.h"
#include "coordinator/report/advice.h"
#include "coordinator/report/result_index.h"
#include "coordinator/report/verdict.h"
#include "coordinator/report/weak_dependence.h"
#include "coordinator/store/scan_reader.h"
#include "tlsweep/v1/scan.pb.h"

namespace tlsweep::coordinator::report {
namespace {

// "candidate IN (...)" for the candidate filter; SQL-quoted.
std::string CandidateFilter(const std::vector<std::string>& candidates, absl::string_view column) {
  if (candidates.empty()) return "1";
  std::vector<std::string> quoted;
  for (const std::string& name : candidates) {
    std::string q = "'";
    for (char c : name) {
      if (c == '\'') q += '\'';
      q += c;
    }
    quoted.push_back(q + "'");
  }
  return absl::StrCat(column, " IN (", absl::StrJoin(quoted, ","), ")");
}

bool Wanted(const ReportOptions& options, const std::string& candidate) {
  return options.candidates.empty() ||
         std::find(options.candidates.begin(), options.candidates.end(), candidate) !=
             options.candidates.end();
}

std::string VerdictOf(int failure) { return FailureName(failure); }

// A side of a diff that negotiated no TLS shows "-".
std::string DiffVersion(int64_t version) {
  return version == v1::TLS_VERSION_UNSPECIFIED ? "-" : VersionName(static_cast<int>(version));
}

// Reused enumerations listed per region in a report (the count covers them all).
constexpr int64_t kMaxReusedListed = 200;

// The load the scan put on the servers, from the endpoint phase's tables (a store of the
// coordinator; report-only databases have none of them).
absl::Status ReadLoad(SqliteDb& db, const std::string& scan_id, ScanInfo& scan) {
  ASSIGN_OR_RETURN(SqliteStatement has_phase,
                   db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                              "name='endpoint_names'"));
  ASSIGN_OR_RETURN(bool phase, has_phase.Step());
  if (!phase) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      SqliteStatement totals,
      db.Prepare("SELECT (SELECT COALESCE(SUM(names), 0) "
                 "FROM phase_counts WHERE scan_id=?1 AND region=?2), COUNT(*), "
                 "COALESCE(SUM(sni=3), 0), COALESCE(SUM(connections), 0), (SELECT "
                 "COALESCE(SUM(probes), 0) FROM phase_counts WHERE scan_id=?1 AND region=?2) "
                 "FROM endpoints WHERE scan_id=?1 AND region=?2"));
  ASSIGN_OR_RETURN(
      SqliteStatement providers,
      db.Prepare("SELECT e.provider, COUNT(*), SUM((SELECT COUNT(*) FROM endpoint_names n WHERE "
                 "n.scan_id=e.scan_id AND n.region=e.region AND n.key=e.key)), "
                 "SUM(e.connections) FROM endpoints e WHERE e.scan_id=?1 AND e.region=?2 GROUP "
                 "BY e.provider ORDER BY 4 DESC, 1 LIMIT 20"));
  ASSIGN_OR_RETURN(SqliteStatement has_reuse,
                   db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                              "name='endpoint_enumerations'"));
  ASSIGN_OR_RETURN(const bool reuse, has_reuse.Step());
  std::optional<SqliteStatement> enumerations, reused;
  if (reuse) {
    ASSIGN_OR_RETURN(
        enumerations,
        db.Prepare("SELECT COALESCE(SUM(reused=0), 0), COALESCE(SUM(reused=1), 0), "
                   "MIN(CASE WHEN reused=1 THEN enumerated_ms END) FROM endpoint_enumerations "
                   "WHERE scan_id=? AND region=?"));
    ASSIGN_OR_RETURN(reused, db.Prepare("SELECT endpoint, from_scan, enumerated_ms FROM "
                                        "endpoint_enumerations WHERE scan_id=? AND region=? AND "
                                        "reused=1 ORDER BY enumerated_ms, endpoint LIMIT ?"));
  }
  const auto age_s = [&scan](int64_t made_ms) {
    return std::max<int64_t>(0, (scan.created_unix_ms - made_ms) / 1000);
  };
  // Targets whose routes are known, per region.
  ASSIGN_OR_RETURN(std::unique_ptr<ScanReader> reader, OpenSqliteScanReader(db));
  ASSIGN_OR_RETURN(std::vector<RegionUnits> units, reader->Units(scan_id));
  std::map<std::string, int64_t> resolved;
  for (const RegionUnits& region : units) resolved[region.region] = region.targets_resolved;
  for (const std::string& region : scan.regions) {
    RegionLoad load;
    load.region = region;
    totals.Bind(1, scan_id).Bind(2, region);
    ASSIGN_OR_RETURN(bool row, totals.Step());
    if (row) {
      load.domains = resolved[region];
      load.names = totals.Int(0);
      load.addresses = totals.Int(1);
      load.sni_dependent = totals.Int(2);
      load.connections = totals.Int(3);
      load.probes = totals.Int(4);
    }
    totals.Reset();
    providers.Bind(1, scan_id).Bind(2, region);
    for (;;) {
      ASSIGN_OR_RETURN(bool provider_row, providers.Step());
      if (!provider_row) break;
      load.providers.push_back(
          {providers.Text(0), providers.Int(1), providers.Int(2), providers.Int(3)});
    }
    providers.Reset();
    if (reuse) {
      enumerations->Bind(1, scan_id).Bind(2, region);
      ASSIGN_OR_RETURN(bool counted, enumerations->Step());
      if (counted) {
        load.enumerations_made = enumerations->Int(0);
        load.enumerations_reused = enumerations->Int(1);
        if (!enumerations->IsNull(2)) load.oldest_reused_age_s = age_s(enumerations->Int(2));
      }
      enumerations->Reset();
      reused->Bind(1, scan_id).Bind(2, region).Bind(3, int64_t{kMaxReusedListed});
      for (;;) {
        ASSIGN_OR_RETURN(bool reused_row, reused->Step());
        if (!reused_row) break;
        load.reused.push_back({reused->Text(0), reused->Text(1), age_s(reused->Int(2))});
      }
      reused->Reset();
    }
    scan.load.push_back(std::move(load));
  }
  return absl::OkStatus();
}

absl::Status LoadScan(SqliteDb& db, const ReportOptions& options, Report& report) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT name, profile, regions, state, targets, created_ms, "
                              "finished_ms FROM scans WHERE scan_id=?"));
  select.Bind(1, options.scan_id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no scan '", options.scan_id, "'"));
  ScanInfo& scan = report.scan;
  scan.scan_id = options.scan_id;
  scan.name = select.Text(0);
  v1::ProbeProfile profile;
  (void)profile.ParseFromString(select.Blob(1));
  for (absl::string_view region : absl::StrSplit(select.Text(2), ',', absl::SkipEmpty())) {
    scan.regions.emplace_back(region);
  }
  scan.state = ScanStateName(static_cast<int>(select.Int(3)));
  scan.targets = select.Int(4);
  scan.created_unix_ms = select.Int(5);
  scan.finished_unix_ms = select.Int(6);
  std::vector<std::string> names;
  for (const v1::TlsClientSettings& c : profile.candidates()) {
    if (!c.variant_of().empty()) continue;  // Probe-only: its results count for c's base.
    names.push_back(c.name().empty() ? "default" : c.name());
  }
  if (names.empty()) names.push_back("default");
  report.baseline = options.baseline.empty() ? names.front() : options.baseline;
  if (std::find(names.begin(), names.end(), report.baseline) == names.end()) {
    return absl::InvalidArgumentError(absl::StrCat("no candidate '", report.baseline,
                                                   "' in this scan to be the baseline; it has ",
                                                   absl::StrJoin(names, ", ")));
  }
  for (const v1::TlsClientSettings& c : profile.candidates()) {
    if (!c.variant_of().empty()) continue;
    CandidateInfo info;
    info.name = c.name().empty() ? "default" : c.name();
    if (!Wanted(options, info.name)) continue;
    info.backend = c.backend();
    info.tls_required = c.tls_required();
    std::vector<std::string> parts;
    if (!c.openssl_ciphers().empty())
      parts.push_back(absl::StrCat("ciphers ", c.openssl_ciphers()));
    if (!c.openssl_ciphersuites().empty()) {
      parts.push_back(absl::StrCat("ciphersuites ", c.openssl_ciphersuites()));
    }
    if (!c.gnutls_priority().empty())
      parts.push_back(absl::StrCat("priority ", c.gnutls_priority()));
    if (c.min_version() != v1::TLS_VERSION_UNSPECIFIED) {
      parts.push_back(absl::StrCat("min ", VersionName(c.min_version())));
    }
    if (c.max_version() != v1::TLS_VERSION_UNSPECIFIED) {
      parts.push_back(absl::StrCat("max ", VersionName(c.max_version())));
    }
    if (c.legacy()) parts.push_back("legacy");
    if (c.overrides_size() > 0) {
      parts.push_back(absl::StrCat(c.overrides_size(), " per-domain override(s)"));
    }
    info.config = absl::StrJoin(parts, ", ");
    report.candidates.push_back(std::move(info));
  }
  if (names.size() == 1 && names.front() == "default" && profile.candidates_size() == 0 &&
      Wanted(options, "default")) {
    report.candidates.push_back({"default", "", false, ""});
  }

  // Per region: shards finished, and indexed at their current signature (final, not stale).
  ASSIGN_OR_RETURN(std::unique_ptr<ScanReader> reader, OpenSqliteScanReader(db));
  ASSIGN_OR_RETURN(std::vector<RegionUnits> units, reader->Units(options.scan_id));
  ASSIGN_OR_RETURN(std::vector<FinalUnit> unindexed, UnindexedUnits(db, *reader, options.scan_id));
  std::map<std::string, RegionProgressInfo> by_region;
  for (const RegionUnits& region : units) {
    by_region[region.region].shards_indexed = static_cast<uint64_t>(region.shards_final);
  }
  for (const FinalUnit& unit : unindexed) --by_region[unit.region].shards_indexed;
  bool complete = true;
  for (const RegionUnits& region : units) {
    RegionProgressInfo& info = by_region[region.region];
    info.region = region.region;
    info.shards = region.shards;
    info.shards_done = region.shards_finished;
    info.targets_done = region.targets_finished;
    complete &= region.shards_final == region.shards && info.shards_indexed == info.shards;
  }
  for (const std::string& region : scan.regions) {
    RegionProgressInfo info = by_region[region];
    info.region = region;
    if (info.shards == 0) complete = false;
    scan.progress.push_back(info);
  }
  report.complete = complete && scan.state != "running" && scan.state != "submitting";
  ASSIGN_OR_RETURN(SqliteStatement unreadable,
                   db.Prepare("SELECT region, shard, seq, idx FROM report_unreadable WHERE "
                              "scan_id=? ORDER BY region, shard, seq, idx"));
  unreadable.Bind(1, options.scan_id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, unreadable.Step());
    if (!row) break;
    if (report.unreadable_examples.size() < 10) {
      report.unreadable_examples.push_back(absl::StrCat(unreadable.Text(0), "/", unreadable.Int(1),
                                                        "/", unreadable.Int(2), "/",
                                                        unreadable.Int(3)));
    }
    ++report.unreadable_rows;
  }
  return ReadLoad(db, options.scan_id, scan);
}

Count* HeadlineField(Headline& h, const std::string& dimension, const std::string& key) {
  if (dimension == "all") return &h.total;
  if (dimension == "required") {
    if (key == "ok") return &h.ok;
    if (key == "degraded") return &h.degraded;
    if (key == "fails") return &h.fails;
    if (key == "unreachable") return &h.unreachable;
  }
  if (dimension == "opportunistic" && key == "cleartext") return &h.cleartext;
  return nullptr;
}

absl::Status LoadRollups(SqliteDb& db, const ReportOptions& options, Report& report) {
  ASSIGN_OR_RETURN(SqliteStatement sum,
                   db.Prepare(absl::StrCat(
                       "SELECT region, candidate, dimension, key, SUM(domains), "
                       "SUM(weight) FROM report_rollup WHERE scan_id=? AND ",
                       CandidateFilter(options.candidates, "candidate"), " GROUP BY 1, 2, 3, 4")));
  sum.Bind(1, options.scan_id);
  std::map<std::pair<std::string, std::string>, Headline> headlines;
  std::map<std::tuple<std::string, std::string, std::string>, Distribution> distributions;
  for (const CandidateInfo& c : report.candidates) {
    for (const std::string& region : report.scan.regions) {
      Headline& h = headlines[{c.name, region}];
      h.candidate = c.name;
      h.region = region;
      h.tls_required = c.tls_required;
    }
  }
  for (;;) {
    ASSIGN_OR_RETURN(bool row, sum.Step());
    if (!row) break;
    const std::string region = sum.Text(0), candidate = sum.Text(1);
    const std::string dimension = sum.Text(2), key = sum.Text(3);
    const Count count{sum.Int(4), sum.Double(5)};
    if (dimension == "weighted") {
      report.weighted |= count.domains > 0;
      continue;
    }
    auto headline = headlines.find({candidate, region});
    if (headline == headlines.end()) continue;  // A candidate no longer in the profile.
    Headline& h = headline->second;
    if (Count* field = HeadlineField(h, dimension, key); field != nullptr) {
      *field = count;
      continue;
    }
    if (dimension == "fail_class") {
      h.fail_classes.emplace_back(key, count);
      continue;
    }
    if (dimension == "required" || dimension == "opportunistic") continue;
    Distribution& d = distributions[{candidate, region, dimension}];
    d.candidate = candidate;
    d.region = region;
    d.dimension = dimension;
    d.rows.push_back({key, count});
  }
  auto by_volume = [](const auto& a, const auto& b) {
    return std::make_tuple(-a.second.weight, -a.second.domains, a.first) <
           std::make_tuple(-b.second.weight, -b.second.domains, b.first);
  };
  // In the profile's candidate order (the first is usually the one under review), then regions.
  for (const CandidateInfo& c : report.candidates) {
    for (const std::string& region : report.scan.regions) {
      Headline& h = headlines[{c.name, region}];
      std::sort(h.fail_classes.begin(), h.fail_classes.end(), by_volume);
      report.headlines.push_back(std::move(h));
    }
  }
  static const std::vector<std::string> kOrder = {
      "starttls",       "version", "suite", "group",         "trusted",
      "hostname_match", "expiry",  "key",   "failure_group", "failure"};
  for (const std::string& dimension : kOrder) {
    for (const CandidateInfo& c : report.candidates) {
      for (const std::string& region : report.scan.regions) {
        auto it = distributions.find({c.name, region, dimension});
        if (it == distributions.end()) continue;
        Distribution d = std::move(it->second);
        std::sort(d.rows.begin(), d.rows.end(), [](const auto& a, const auto& b) {
          return std::make_tuple(-a.count.domains, a.key) <
                 std::make_tuple(-b.count.domains, b.key);
        });
        report.distributions.push_back(std::move(d));
      }
    }
  }
  // Endpoints per (candidate, region).
  ASSIGN_OR_RETURN(
      SqliteStatement endpoints,
      db.Prepare(absl::StrCat("SELECT region, candidate, COUNT(*), SUM(failure IN (14, 15) OR "
                              "(failure BETWEEN 16 AND 23)) FROM report_endpoints WHERE "
                              "scan_id=? AND domains>0 AND ",
                              CandidateFilter(options.candidates, "candidate"), " GROUP BY 1, 2")));
  endpoints.Bind(1, options.scan_id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, endpoints.Step());
    if (!row) break;
    for (Headline& h : report.headlines) {
      if (h.region == endpoints.Text(0) && h.candidate == endpoints.Text(1)) {
        h.endpoints = endpoints.Int(2);
        h.failing_endpoints = endpoints.Int(3);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status LoadFailingDomains(SqliteDb& db, const ReportOptions& options, Report& report) {
  for (const Headline& h : report.headlines) {
    report.failing_domains_total += h.fails.domains + h.degraded.domains;
  }
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare(absl::StrCat(
          "SELECT candidate, region, domain, line_number, weight, required, opportunistic, "
          "failure, cause, mx_host, endpoints, failing_endpoints, cause_code, cause_text, "
          "provider FROM report_domains "
          "WHERE scan_id=? AND required IN (1, 2) AND ",
          CandidateFilter(options.candidates, "candidate"),
          " ORDER BY weight DESC, required DESC, domain, candidate, region LIMIT ?")));
  select.Bind(1, options.scan_id).Bind(2, static_cast<int64_t>(options.max_domains));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    FailingDomain d;
    d.candidate = select.Text(0);
    d.region = select.Text(1);
    d.domain = select.Text(2);
    d.line_number = select.Int(3);
    d.weight = select.Double(4);
    d.required = std::string(RequiredName(static_cast<Required>(select.Int(5))));
    d.opportunistic = std::string(OpportunisticName(static_cast<Opportunistic>(select.Int(6))));
    d.failure = FailureName(static_cast<int>(select.Int(7)));
    d.cause = select.Text(8);
    d.mx_host = select.Text(9);
    d.endpoints = select.Int(10);
    d.failing_endpoints = select.Int(11);
    d.cause_code = select.Text(12);
    d.cause_text = select.Text(13);
    d.provider = select.Text(14);
    report.failing_domains.push_back(std::move(d));
  }
  return absl::OkStatus();
}

// Reached the TLS handshake (ok or a TLS failure): comparable between configs. STARTTLS and
// transport failures do not depend on the TLS library, so they are left out.
std::string Comparable(absl::string_view alias) {
  return absl::StrCat("(", alias, ".failure = 0 OR ", alias, ".failure BETWEEN 16 AND 23)");
}

absl::Status LoadBackendDifferential(SqliteDb& db, const ReportOptions& options, Report& report) {
  for (size_t i = 0; i < report.candidates.size(); ++i) {
    for (size_t j = i + 1; j < report.candidates.size(); ++j) {
      const CandidateInfo& a = report.candidates[i];
      const CandidateInfo& b = report.candidates[j];
      if (a.backend.empty() || b.backend.empty() || a.backend == b.backend) continue;
      BackendDifferential diff{a.name, a.backend, b.name, b.backend, 0, 0, {}};
      ASSIGN_OR_RETURN(
          SqliteStatement select,
          db.Prepare(absl::StrCat(
              "SELECT a.region, a.mx_host, a.address, a.port, a.failure, b.failure, a.cause, "
              "b.cause, a.domains, a.weight FROM report_endpoints a JOIN report_endpoints b ON "
              "b.scan_id=a.scan_id AND b.region=a.region AND b.mx_host=a.mx_host AND "
              "b.address=a.address AND b.port=a.port AND b.candidate=?3 WHERE a.scan_id=?1 AND "
              "a.candidate=?2 AND a.domains>0 AND ",
              Comparable("a"), " AND ", Comparable("b"))));
      select.Bind(1, options.scan_id).Bind(2, a.name).Bind(3, b.name);
      std::map<std::string, int64_t> causes;
      std::vector<BackendDifference> rows;
      for (;;) {
        ASSIGN_OR_RETURN(bool row, select.Step());
        if (!row) break;
        ++diff.endpoints;
        const int fa = static_cast<int>(select.Int(4)), fb = static_cast<int>(select.Int(5));
        if ((fa == 0) == (fb == 0)) continue;
        ++diff.differing;
        BackendDifference d;
        d.region = select.Text(0);
        d.endpoint = {select.Text(1), select.Text(2), static_cast<uint32_t>(select.Int(3))};
        d.candidate_a = a.name;
        d.backend_a = a.backend;
        d.verdict_a = VerdictOf(fa);
        d.candidate_b = b.name;
        d.backend_b = b.backend;
        d.verdict_b = VerdictOf(fb);
        d.cause = fa != 0 ? select.Text(6) : select.Text(7);
        d.count = {select.Int(8), select.Double(9)};
        ++causes[d.cause];
        rows.push_back(std::move(d));
      }
      for (const auto& [cause, n] : causes) diff.causes.emplace_back(cause, n);
      std::sort(diff.causes.begin(), diff.causes.end(),
                [](const auto& x, const auto& y) { return x.second > y.second; });
      std::sort(rows.begin(), rows.end(),
                [](const auto& x, const auto& y) { return x.count.weight > y.count.weight; });
      if (rows.size() > options.max_rows) rows.resize(options.max_rows);
      for (BackendDifference& d : rows) report.backend_differences.push_back(std::move(d));
      report.backend_differentials.push_back(std::move(diff));
    }
  }
  std::stable_sort(report.backend_differences.begin(), report.backend_differences.end(),
                   [](const auto& x, const auto& y) { return x.count.weight > y.count.weight; });
  if (report.backend_differences.size() > options.max_rows) {
    report.backend_differences.resize(options.max_rows);
  }
  return absl::OkStatus();
}

absl::Status LoadRegionDivergence(SqliteDb& db, const ReportOptions& options, Report& report) {
  if (report.scan.regions.size() < 2) return absl::OkStatus();
  // An endpoint's verdict in two regions: different failure groups (ok, TCP, TLS...) differ.
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare(absl::StrCat(
          "SELECT a.candidate, a.mx_host, a.address, a.port, a.region, a.failure, b.region, "
          "b.failure, MAX(a.domains, b.domains), MAX(a.weight, b.weight) FROM report_endpoints a "
          // CROSS JOIN and INDEXED BY: without statistics SQLite ranges over one side by region,
          // every endpoint of the other regions for each row (1.1 s at 8,000 endpoint rows).
          "CROSS JOIN report_endpoints b INDEXED BY report_endpoints_across ON "
          "b.scan_id=a.scan_id AND "
          "b.mx_host=a.mx_host AND "
          "b.address=a.address AND b.port=a.port AND b.candidate=a.candidate AND "
          "b.region > a.region WHERE a.scan_id=? AND a.domains>0 AND b.domains>0 AND "
          "a.failure != b.failure AND ",
          CandidateFilter(options.candidates, "a.candidate"))));
  select.Bind(1, options.scan_id);
  std::vector<RegionDifference> rows;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    const auto fa = static_cast<v1::ProbeFailure>(select.Int(5));
    const auto fb = static_cast<v1::ProbeFailure>(select.Int(7));
    if (GroupOf(fa) == GroupOf(fb) && (fa == v1::PROBE_OK) == (fb == v1::PROBE_OK)) continue;
    RegionDifference d;
    d.candidate = select.Text(0);
    d.endpoint = {select.Text(1), select.Text(2), static_cast<uint32_t>(select.Int(3))};
    d.region_a = select.Text(4);
    d.verdict_a = VerdictOf(fa);
    d.region_b = select.Text(6);
    d.verdict_b = VerdictOf(fb);
    d.count = {select.Int(8), select.Double(9)};
    rows.push_back(std::move(d));
  }
  report.region_differences_total = static_cast<int64_t>(rows.size());
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
    return std::make_tuple(-x.count.weight, x.endpoint.mx_host, x.candidate) <
           std::make_tuple(-y.count.weight, y.endpoint.mx_host, y.candidate);
  });
  if (rows.size() > options.max_rows) rows.resize(options.max_rows);
  report.region_differences = std::move(rows);
  return absl::OkStatus();
}

absl::Status LoadDiff(SqliteDb& db, const ReportOptions& options, Report& report) {
  DiffSection diff;
  diff.against_scan_id = options.against_scan_id;
  ASSIGN_OR_RETURN(SqliteStatement exists, db.Prepare("SELECT 1 FROM scans WHERE scan_id=?"));
  exists.Bind(1, options.against_scan_id);
  ASSIGN_OR_RETURN(bool found, exists.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no scan '", options.against_scan_id, "'"));
  // Only the rows that changed come back; the join runs on the other scan's primary key.
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare(absl::StrCat(
          "SELECT n.candidate, n.region, n.domain, n.weight, o.required, n.required, "
          "o.version, n.version, o.suite, n.suite, o.suite_rank, n.suite_rank, o.failure, "
          "n.failure FROM report_domains n JOIN report_domains o ON o.scan_id=?2 AND "
          "o.candidate=n.candidate AND o.region=n.region AND o.domain=n.domain "
          "WHERE n.scan_id=?1 AND ",
          CandidateFilter(options.candidates, "n.candidate"),
          " AND ((o.required IN (0, 1) AND n.required = 2) OR (o.required = 2 AND n.required IN "
          "(0, 1)) OR (o.required IN (0, 1) AND n.required IN (0, 1) AND n.version > 0 AND "
          "o.version > 0 AND (n.version < o.version OR (n.version = o.version AND "
          "n.suite_rank < o.suite_rank))))")));
  select.Bind(1, options.scan_id).Bind(2, options.against_scan_id);
  std::map<std::pair<std::string, std::string>, DiffSummary> summaries;
  for (const Headline& h : report.headlines) {
    DiffSummary& s = summaries[{h.candidate, h.region}];
    s.candidate = h.candidate;
    s.region = h.region;
  }
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    DiffRow d;
    d.candidate = select.Text(0);
    d.region = select.Text(1);
    d.domain = select.Text(2);
    d.weight = select.Double(3);
    const auto before = static_cast<Required>(select.Int(4));
    const auto after = static_cast<Required>(select.Int(5));
    DiffSummary& s = summaries[{d.candidate, d.region}];
    s.candidate = d.candidate;
    s.region = d.region;
    Count* count;
    if (after == Required::kFails) {
      d.kind = "newly_failing";
      d.before = std::string(RequiredName(before));
      d.after = absl::StrCat("fails (", FailureName(static_cast<int>(select.Int(13))), ")");
      count = &s.newly_failing;
    } else if (before == Required::kFails) {
      d.kind = "newly_fixed";
      d.before = absl::StrCat("fails (", FailureName(static_cast<int>(select.Int(12))), ")");
      d.after = std::string(RequiredName(after));
      count = &s.newly_fixed;
    } else {
      d.kind = "downgraded";
      d.before = absl::StrCat(DiffVersion(select.Int(6)), " ", select.Text(8));
      d.after = absl::StrCat(DiffVersion(select.Int(7)), " ", select.Text(9));
      count = &s.downgraded;
    }
    ++count->domains;
    count->weight += d.weight;
    diff.rows.push_back(std::move(d));
  }
  for (const Headline& h : report.headlines) {  // The headline order.
    auto it = summaries.find({h.candidate, h.region});
    if (it == summaries.end()) continue;
    diff.summaries.push_back(std::move(it->second));
    summaries.erase(it);
  }
  std::sort(diff.rows.begin(), diff.rows.end(), [](const DiffRow& x, const DiffRow& y) {
    return std::make_tuple(-x.weight, x.kind, x.domain, x.candidate, x.region) <
           std::make_tuple(-y.weight, y.kind, y.domain, y.candidate, y.region);
  });
  if (diff.rows.size() > options.max_domains) diff.rows.resize(options.max_domains);
  report.diff = std::move(diff);
  return absl::OkStatus();
}

// Worse is larger: ok 0, degraded 1, fails 2 (TLS required); tls 0, cleartext 1.
int RequiredRank(int64_t verdict) { return verdict <= 2 ? static_cast<int>(verdict) : -1; }
int OpportunisticRank(int64_t verdict) { return verdict <= 1 ? static_cast<int>(verdict) : -1; }

absl::Status LoadDelta(SqliteDb& db, const ReportOptions& options, Report& report) {
  if (report.candidates.size() < 2 &&
      (report.candidates.empty() || report.candidates.front().name == report.baseline)) {
    return absl::OkStatus();  // Nothing to compare with the baseline.
  }
  DeltaSection delta;
  delta.baseline = report.baseline;
  // Only the domains whose verdict changed come back; the join runs on the primary key.
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT n.region, n.domain, n.line_number, n.weight, o.required, n.required, "
                 "o.opportunistic, n.opportunistic, n.cause_code, n.cause_text, o.cause_code, "
                 "o.cause_text, n.mx_host, o.mx_host, n.provider, o.provider "
                 "FROM report_domains o JOIN report_domains n ON n.scan_id=o.scan_id AND "
                 "n.candidate=?3 AND n.region=o.region AND n.domain=o.domain "
                 "WHERE o.scan_id=?1 AND o.candidate=?2 AND "
                 "(o.required != n.required OR o.opportunistic != n.opportunistic)"));
  std::map<std::tuple<std::string, std::string, std::string>, ProviderDelta> providers;
  for (const CandidateInfo& c : report.candidates) {
    const CandidateInfo* candidate = &c;
    if (candidate->name == delta.baseline) continue;
    std::map<std::string, DeltaSummary> by_region;
    for (const Headline& h : report.headlines) {
      if (h.candidate != delta.baseline) continue;
      DeltaSummary& summary = by_region[h.region];
      summary.candidate = candidate->name;
      summary.region = h.region;
      summary.tls_required = candidate->tls_required;
      summary.compared = {h.total.domains - h.unreachable.domains,
                          h.total.weight - h.unreachable.weight};
    }
    select.Bind(1, options.scan_id).Bind(2, delta.baseline).Bind(3, candidate->name);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      DeltaRow base;
      base.candidate = candidate->name;
      base.region = select.Text(0);
      base.domain = select.Text(1);
      base.line_number = static_cast<uint64_t>(select.Int(2));
      base.weight = select.Double(3);
      DeltaSummary& summary = by_region[base.region];
      summary.candidate = candidate->name;
      summary.region = base.region;
      const int req_before = RequiredRank(select.Int(4));
      const int req_after = RequiredRank(select.Int(5));
      const int opp_before = OpportunisticRank(select.Int(6));
      const int opp_after = OpportunisticRank(select.Int(7));
      auto add = [&](absl::string_view change, Count& count, std::string before, std::string after,
                     bool fixed) {
        ++count.domains;
        count.weight += base.weight;
        DeltaRow row = base;
        row.change = std::string(change);
        row.before = std::move(before);
        row.after = std::move(after);
        // A fix is explained by why the baseline failed; anything else by why it fails now.
        row.cause_code = select.Text(fixed ? 10 : 8);
        row.cause_text = select.Text(fixed ? 11 : 9);
        row.mx_host = select.Text(fixed ? 13 : 12);
        row.provider = select.Text(fixed ? 15 : 14);
        ++delta.rows_total;
        delta.rows.push_back(std::move(row));
        // Keep memory bounded for a candidate that breaks half the world: trim as we go.
        if (delta.rows.size() >= 4 * options.max_domains + 64) {
          std::sort(delta.rows.begin(), delta.rows.end(),
                    [](const DeltaRow& x, const DeltaRow& y) { return x.weight > y.weight; });
          delta.rows.resize(options.max_domains);
        }
      };
      const std::string req_b(RequiredName(static_cast<Required>(select.Int(4))));
      const std::string req_a(RequiredName(static_cast<Required>(select.Int(5))));
      const std::string opp_b(OpportunisticName(static_cast<Opportunistic>(select.Int(6))));
      const std::string opp_a(OpportunisticName(static_cast<Opportunistic>(select.Int(7))));
      bool fixed = false;
      if (req_before >= 0 && req_after >= 0 && req_before != req_after) {
        if (req_after == 2) {
          add("newly_failing", summary.newly_failing, req_b, req_a, false);
          ProviderDelta& p = providers[{candidate->name, base.region, select.Text(14)}];
          ++p.newly_failing.domains;
          p.newly_failing.weight += base.weight;
        } else if (req_after == 1 && req_before == 0) {
          add("newly_degraded", summary.newly_degraded, req_b, req_a, false);
        } else {
          fixed = true;
          add("newly_fixed", summary.newly_fixed, req_b, req_a, true);
        }
      }
      if (opp_before >= 0 && opp_after >= 0 && opp_before != opp_after) {
        if (opp_after == 1) {
          add("newly_cleartext", summary.newly_cleartext, opp_b, opp_a, false);
          ProviderDelta& p = providers[{candidate->name, base.region, select.Text(14)}];
          ++p.newly_cleartext.domains;
          p.newly_cleartext.weight += base.weight;
        } else if (!fixed) {  // A domain fixed in both readings counts and shows once.
          add("newly_fixed", summary.newly_fixed, opp_b, opp_a, true);
        }
      }
    }
    select.Reset();
    for (auto& [region, summary] : by_region) delta.summaries.push_back(std::move(summary));
  }
  std::sort(delta.rows.begin(), delta.rows.end(), [](const DeltaRow& x, const DeltaRow& y) {
    return std::make_tuple(-x.weight, x.change, x.domain, x.candidate, x.region) <
           std::make_tuple(-y.weight, y.change, y.domain, y.candidate, y.region);
  });
  if (delta.rows.size() > options.max_domains) delta.rows.resize(options.max_domains);
  for (auto& [key, p] : providers) {
    p.candidate = std::get<0>(key);
    p.region = std::get<1>(key);
    p.provider = std::get<2>(key).empty() ? "(none)" : std::get<2>(key);
    delta.providers.push_back(std::move(p));
  }
  std::sort(delta.providers.begin(), delta.providers.end(),
            [](const ProviderDelta& x, const ProviderDelta& y) {
              return std::make_tuple(-(x.newly_failing.weight + x.newly_cleartext.weight),
                                     x.provider, x.candidate, x.region) <
                     std::make_tuple(-(y.newly_failing.weight + y.newly_cleartext.weight),
                                     y.provider, y.candidate, y.region);
            });
  if (delta.providers.size() > options.max_rows) delta.providers.resize(options.max_rows);
  report.delta = std::move(delta);
  return absl::OkStatus();
}

// More than half of a region's domains not reached at all (under the baseline, or the first
// candidate): the scan cannot answer the question, whatever the tables say.
absl::Status LoadInconclusive(const ReportOptions& options, Report& report) {
  // The baseline's reading, or the first candidate shown when the baseline is filtered out:
  // whether a domain is reached at all does not depend on the TLS settings.
  std::string reference = report.baseline;
  if (std::none_of(report.headlines.begin(), report.headlines.end(),
                   [&](const Headline& h) { return h.candidate == reference; }) &&
      !report.headlines.empty()) {
    reference = report.headlines.front().candidate;
  }
  (void)options;
  for (const Headline& h : report.headlines) {
    if (h.candidate != reference || h.total.domains == 0) continue;
    if (2 * h.unreachable.domains <= h.total.domains) continue;
    Inconclusive inconclusive;
    inconclusive.region = h.region;
    inconclusive.unreached = h.unreachable;
    inconclusive.total = h.total;
    std::vector<std::string> classes;
    for (const Distribution& d : report.distributions) {
      if (d.dimension != "failure" || d.candidate != h.candidate || d.region != h.region) continue;
      for (const DistributionRow& row : d.rows) {
        const bool reached = row.key == "ok" || absl::StartsWith(row.key, "tls_") ||
                             absl::StartsWith(row.key, "starttls_");
        if (!reached && classes.size() < 3) {
          classes.push_back(absl::StrCat(row.key, " ", row.count.domains));
        }
      }
    }
    inconclusive.why = classes.empty() ? "not reached" : absl::StrJoin(classes, ", ");
    report.inconclusive.push_back(std::move(inconclusive));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ScanStateName(int state) {
  if (state == v1::SCAN_STATE_UNSPECIFIED || !v1::ScanState_IsValid(state)) return "unknown";
  std::string name = v1::ScanState_Name(static_cast<v1::ScanState>(state));
  return absl::AsciiStrToLower(absl::StripPrefix(name, "SCAN_"));
}

absl::Status LoadEndpointFindings(SqliteDb& db, const ReportOptions& options, Report& report) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT region, mx_host, address, port, kind, MAX(detail), "
                              "SUM(domains), SUM(weight) FROM report_findings WHERE scan_id=? "
                              "GROUP BY region, mx_host, address, port, kind "
                              "ORDER BY SUM(weight) DESC, mx_host, region, kind"));
  select.Bind(1, options.scan_id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ++report.endpoint_findings_total;
    if (report.endpoint_findings.size() >= options.max_rows) continue;
    EndpointFinding finding;
    finding.region = select.Text(0);
    finding.endpoint = {select.Text(1), select.Text(2), static_cast<uint32_t>(select.Int(3))};
    finding.kind = select.Text(4);
    finding.detail = select.Text(5);
    finding.count = {select.Int(6), select.Double(7)};
    report.endpoint_findings.push_back(std::move(finding));
  }
  return absl::OkStatus();
}

absl::Status LoadWeakDependence(SqliteDb& db, const ReportOptions& options, Report& report) {
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT region, dimension, key, SUM(domains), SUM(weight) FROM report_rollup "
                 "WHERE scan_id=? AND candidate='' AND dimension IN (?, ?, ?) GROUP BY 1, 2, 3"));
  select.Bind(1, options.scan_id).Bind(2, kDependenceDimension).Bind(3, kSuiteClassDimension);
  select.Bind(4, kVersionDimension);
  std::map<std::string, std::map<std::pair<std::string, std::string>, Count>> rows;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    rows[select.Text(0)][{select.Text(1), select.Text(2)}] = {select.Int(3), select.Double(4)};
  }
  for (const std::string& region : report.scan.regions) {
    auto found = rows.find(region);
    if (found == rows.end()) continue;
    const auto& counts = found->second;
    auto count = [&](const std::string& dimension, absl::string_view key) {
      auto it = counts.find({dimension, std::string(key)});
      return it == counts.end() ? Count{} : it->second;
    };
    WeakDependence dependence;
    dependence.region = region;
    dependence.known = count(kDependenceDimension, kDependenceKnown);
    dependence.unknown = count(kDependenceDimension, kDependenceUnknown);
    for (int c = 0; c < static_cast<int>(backends::SuiteClass::kStrong); ++c) {
      const absl::string_view name = backends::SuiteClassName(static_cast<backends::SuiteClass>(c));
      const Count n = count(kSuiteClassDimension, name);
      if (n.domains > 0) dependence.by_class.emplace_back(std::string(name), n);
    }
    for (backends::TlsVersion version : backends::AllTlsVersions()) {
      if (version >= backends::TlsVersion::kTls1_2) break;
      const absl::string_view name = backends::TlsVersionName(version);
      const Count n = count(kVersionDimension, name);
      if (n.domains > 0) dependence.by_version.emplace_back(std::string(name), n);
    }
    report.weak_dependence.push_back(std::move(dependence));
  }
  return absl::OkStatus();
}

absl::StatusOr<Report> BuildReport(SqliteDb& db, const ReportOptions& options,
                                   const WhatIfProvider& what_if) {
  RETURN_IF_ERROR(EnsureReportSchema(db));
  if (options.catch_up) {
    ASSIGN_OR_RETURN(IndexStats stats, CatchUp(db, options.scan_id, options.offers));
    (void)stats;
    if (!options.against_scan_id.empty()) {
      ASSIGN_OR_RETURN(IndexStats other, CatchUp(db, options.against_scan_id, options.offers));
      (void)other;
    }
  }
  Report report;
  report.generated_unix_ms = options.now_ms != 0 ? options.now_ms : absl::ToUnixMillis(absl::Now());
  // One read transaction: every query sees the same snapshot.
  RETURN_IF_ERROR(db.Exec("BEGIN"));
  absl::Status status = LoadScan(db, options, report);
  if (status.ok()) status = LoadRollups(db, options, report);
  if (status.ok()) status = LoadFailingDomains(db, options, report);
  if (status.ok()) status = LoadBackendDifferential(db, options, report);
  if (status.ok()) status = LoadRegionDivergence(db, options, report);
  if (status.ok()) status = LoadEndpointFindings(db, options, report);
  if (status.ok()) status = LoadWeakDependence(db, options, report);
  if (status.ok()) status = LoadDelta(db, options, report);
  if (status.ok()) status = LoadInconclusive(options, report);
  if (status.ok() && options.offers != nullptr) {
    status = LoadAdvice(db, options, *options.offers, report);
  }
  if (status.ok() && !options.against_scan_id.empty()) status = LoadDiff(db, options, report);
  if (status.ok() && what_if) {
    absl::StatusOr<std::optional<WhatIfSection>> section = what_if(db, report);
    if (section.ok()) {
      report.what_if = std::move(*section);
    } else {
      status = section.status();
    }
  }
  (void)db.Exec("COMMIT");
  if (!status.ok()) return status;
  return report;
}

}  // namespace tlsweep::coordinator::report
