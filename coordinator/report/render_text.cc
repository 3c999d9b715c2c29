// The terminal summary: one screen (about 50 lines of 100 columns), the headline first.
#include <algorithm>
#include <ctime>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/captured_hello.h"
#include "coordinator/report/render.h"

namespace tlsweep::coordinator::report {

std::string Percent(double part, double whole) {
  if (whole <= 0) return "-";
  return absl::StrFormat("%.1f%%", 100.0 * part / whole);
}

std::string Volume(double weight) {
  if (weight == static_cast<double>(static_cast<int64_t>(weight))) {
    return absl::StrCat(static_cast<int64_t>(weight));
  }
  return absl::StrFormat("%.1f", weight);
}

std::string UtcTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  const time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char buffer[40];
  strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M UTC", &parts);
  return buffer;
}

std::string Age(int64_t seconds) {
  seconds = std::max<int64_t>(seconds, 0);
  const int64_t days = seconds / 86400, hours = seconds % 86400 / 3600;
  const int64_t minutes = seconds % 3600 / 60;
  if (days > 0) return hours > 0 ? absl::StrCat(days, "d ", hours, "h") : absl::StrCat(days, "d");
  if (hours > 0) {
    return minutes > 0 ? absl::StrCat(hours, "h ", minutes, "m") : absl::StrCat(hours, "h");
  }
  if (minutes > 0) return absl::StrCat(minutes, "m");
  return absl::StrCat(seconds, "s");
}

std::string EnumerationReuse(const RegionLoad& load) {
  if (load.enumerations_made == 0 && load.enumerations_reused == 0) return "-";
  std::string text =
      absl::StrCat(load.enumerations_made, " made, ", load.enumerations_reused, " reused");
  if (load.enumerations_reused > 0) {
    absl::StrAppend(&text, " (oldest ", Age(load.oldest_reused_age_s), ")");
  }
  return text;
}

namespace {

std::string Clip(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width - 1) + "~";
}

// "12 (3.4%)": domains, and their share of the volume (or of domains without weights).
std::string CountShare(const Count& count, const Count& total, bool weighted) {
  return absl::StrCat(
      count.domains, " (",
      weighted ? Percent(count.weight, total.weight)
               : Percent(static_cast<double>(count.domains), static_cast<double>(total.domains)),
      ")");
}

const Distribution* FindDistribution(const Report& report, absl::string_view dimension,
                                     const std::string& candidate, const std::string& region) {
  for (const Distribution& d : report.distributions) {
    if (d.dimension == dimension && d.candidate == candidate && d.region == region) return &d;
  }
  return nullptr;
}

std::string DistributionLine(const Distribution& d, size_t max_rows) {
  int64_t total = 0;
  for (const DistributionRow& row : d.rows) total += row.count.domains;
  std::vector<std::string> parts;
  for (size_t i = 0; i < d.rows.size() && i < max_rows; ++i) {
    parts.push_back(absl::StrCat(
        d.rows[i].key, " ",
        Percent(static_cast<double>(d.rows[i].count.domains), static_cast<double>(total))));
  }
  if (d.rows.size() > max_rows) parts.push_back("...");
  return absl::StrJoin(parts, ", ");
}

}  // namespace

std::string RenderText(const Report& report) {
  std::string out;
  const ScanInfo& scan = report.scan;
  absl::StrAppend(&out, "tlsweep report: scan ", scan.scan_id,
                  scan.name.empty() ? "" : absl::StrCat(" \"", scan.name, "\""), ", ", scan.state,
                  ", ", scan.targets, " targets, created ", UtcTime(scan.created_unix_ms), "\n");
  std::vector<std::string> coverage;
  for (const RegionProgressInfo& p : scan.progress) {
    coverage.push_back(absl::StrCat(p.region, " ", p.shards_indexed, "/", p.shards, " shards"));
  }
  absl::StrAppend(&out, "Covers: ", absl::StrJoin(coverage, ", "),
                  report.complete ? " (complete)" : " (partial: finished shards only)",
                  report.weighted ? "; shares are of mail volume (list weights)"
                                  : "; no weights in the list: shares are of domains",
                  "\n");
  if (report.unreadable_rows > 0) {
    absl::StrAppend(&out, "WARNING: ", report.unreadable_rows,
                    " stored result row(s) did not parse and are left out (region/shard/seq/idx: ",
                    absl::StrJoin(report.unreadable_examples, ", "), ")\n");
  }
  for (const Inconclusive& i : report.inconclusive) {
    absl::StrAppend(&out, "INCONCLUSIVE in ", i.region, ": ", i.unreached.domains, " of ",
                    i.total.domains,
                    " domains were not reached at all, so this scan cannot say what a TLS change "
                    "does to them (",
                    i.why, ")\n");
  }
  for (const CandidateInfo& c : report.candidates) {
    if (c.backend != backends::kCapturedHelloBackend) continue;
    absl::StrAppend(&out, "NOTE: candidate ", c.name,
                    " is a captured ClientHello replayed by the raw backend: its ok verdicts rest "
                    "on the server's ServerHello (it chose from that offer); no handshake was "
                    "completed\n");
  }
  absl::StrAppend(&out, "\n");

  if (report.delta.has_value()) {
    const DeltaSection& delta = *report.delta;
    absl::StrAppend(&out, "WHAT CHANGES against the baseline \"", delta.baseline,
                    "\" (TLS required: failing, degraded; opportunistic: cleartext)\n");
    absl::StrAppendFormat(&out, "%-14s %-8s %-4s %8s %14s %14s %14s %14s\n", "candidate", "region",
                          "pol", "compared", "newly failing", "newly degraded", "newly cleartext",
                          "newly fixed");
    for (const DeltaSummary& d : delta.summaries) {
      absl::StrAppendFormat(&out, "%-14s %-8s %-4s %8d %14s %14s %14s %14s\n",
                            Clip(d.candidate, 14), Clip(d.region, 8),
                            d.tls_required ? "req" : "opp", d.compared.domains,
                            CountShare(d.newly_failing, d.compared, report.weighted),
                            CountShare(d.newly_degraded, d.compared, report.weighted),
                            CountShare(d.newly_cleartext, d.compared, report.weighted),
                            CountShare(d.newly_fixed, d.compared, report.weighted));
    }
    if (!delta.rows.empty()) {
      absl::StrAppend(&out, "  worst first by volume (", delta.rows_total, " changes in all):\n");
      for (size_t i = 0; i < delta.rows.size() && i < 5; ++i) {
        const DeltaRow& r = delta.rows[i];
        absl::StrAppendFormat(&out, "  %-15s %-26s %7s %-12s %-6s %s -> %s: %s\n", r.change,
                              Clip(r.domain, 26), Volume(r.weight), Clip(r.candidate, 12),
                              Clip(r.region, 6), r.before, r.after,
                              r.cause_text.empty() ? r.cause_code : r.cause_text);
      }
    }
    for (const AdviceStep& a : report.advice) {
      absl::StrAppend(&out, "  ADVICE ", a.candidate, " ", a.step, ": ", a.addition, " rescues ",
                      a.rescued.domains, " of ", a.newly_failing.domains, " newly failing",
                      report.weighted
                          ? absl::StrCat(" (", Percent(a.rescued.weight, a.newly_failing.weight),
                                         " of their volume)")
                          : "",
                      ": ", a.paste.size() > 1 ? a.paste[1] : a.spec, "\n");
    }
    if (!delta.providers.empty()) {
      absl::StrAppend(&out, "  newly failing by provider:");
      for (size_t i = 0; i < delta.providers.size() && i < 5; ++i) {
        const ProviderDelta& p = delta.providers[i];
        absl::StrAppend(&out, i == 0 ? " " : "; ", p.provider, " ", p.candidate, "/", p.region, " ",
                        p.newly_failing.domains, " failing, ", p.newly_cleartext.domains,
                        " cleartext");
      }
      absl::StrAppend(&out, "\n");
    }
    absl::StrAppend(&out, "\n");
  }

  absl::StrAppend(&out,
                  "WHO WOULD FAIL  (TLS required: fails = every MX fails, 451 4.7.5; "
                  "opportunistic: cleartext)\n");
  absl::StrAppendFormat(&out, "%-16s %-8s %-6s %9s %16s %14s %12s %16s %11s\n", "candidate",
                        "region", "policy", "domains", "fails", "degraded", "unreachable",
                        "cleartext", "failing MX");
  for (const Headline& h : report.headlines) {
    absl::StrAppendFormat(&out, "%-16s %-8s %-6s %9d %16s %14s %12d %16s %11s\n",
                          Clip(h.candidate, 16), Clip(h.region, 8), h.tls_required ? "req" : "opp",
                          h.total.domains, CountShare(h.fails, h.total, report.weighted),
                          CountShare(h.degraded, h.total, report.weighted), h.unreachable.domains,
                          CountShare(h.cleartext, h.total, report.weighted),
                          absl::StrCat(h.failing_endpoints, "/", h.endpoints));
    if (!h.fail_classes.empty()) {
      std::vector<std::string> classes;
      for (size_t i = 0; i < h.fail_classes.size() && i < 3; ++i) {
        classes.push_back(
            absl::StrCat(h.fail_classes[i].first, " ", h.fail_classes[i].second.domains));
      }
      absl::StrAppend(&out, "    fails with: ", absl::StrJoin(classes, ", "), "\n");
    }
  }
  if (report.headlines.empty()) absl::StrAppend(&out, "  (no results indexed yet)\n");

  if (!report.failing_domains.empty()) {
    absl::StrAppend(&out, "\nFAILING DOMAINS, worst first by volume (",
                    report.failing_domains_total, " in all; --format csv lists every domain)\n");
    absl::StrAppendFormat(&out, "%-28s %8s %-14s %-8s %-9s %s\n", "domain", "weight", "candidate",
                          "region", "verdict", "cause");
    for (size_t i = 0; i < report.failing_domains.size() && i < 10; ++i) {
      const FailingDomain& d = report.failing_domains[i];
      absl::StrAppendFormat(&out, "%-28s %8s %-14s %-8s %-9s %s\n", Clip(d.domain, 28),
                            Volume(d.weight), Clip(d.candidate, 14), Clip(d.region, 8), d.required,
                            d.cause_text.empty() ? d.cause : d.cause_text);
    }
  }

  if (!report.candidates.empty() && !scan.regions.empty()) {
    const std::string& candidate = report.candidates.front().name;
    const std::string& region = scan.regions.front();
    absl::StrAppend(&out, "\nDISTRIBUTIONS (", candidate, ", ", region, "; share of domains)\n");
    for (const auto& [dimension, label, rows] :
         std::vector<std::tuple<std::string, std::string, size_t>>{
             {"starttls", "STARTTLS", 3},
             {"version", "versions", 5},
             {"suite", "suites", 3},
             {"group", "groups", 4},
             {"trusted", "trusted", 3},
             {"hostname_match", "name match", 3},
             {"expiry", "expiry", 3},
             {"key", "keys", 4},
             {"failure_group", "failures", 7}}) {
      if (const Distribution* d = FindDistribution(report, dimension, candidate, region)) {
        absl::StrAppendFormat(&out, "  %-11s %s\n", label, Clip(DistributionLine(*d, rows), 86));
      }
    }
  }

  absl::StrAppend(&out, "\nBACKEND DIFFERENTIAL\n");
  if (report.backend_differentials.empty()) {
    absl::StrAppend(&out, "  (no pair of candidates with different backends)\n");
  }
  for (const BackendDifferential& d : report.backend_differentials) {
    std::vector<std::string> causes;
    for (const auto& [cause, n] : d.causes) causes.push_back(absl::StrCat(cause, " ", n));
    absl::StrAppend(&out, "  ", d.candidate_a, " (", d.backend_a, ") vs ", d.candidate_b, " (",
                    d.backend_b, "): ", d.differing, " of ", d.endpoints, " endpoints differ",
                    causes.empty() ? "" : absl::StrCat(": ", absl::StrJoin(causes, ", ")), "\n");
  }
  if (scan.regions.size() > 1) {
    absl::StrAppend(&out, "REGION DIVERGENCE: ", report.region_differences_total,
                    " endpoint verdicts differ between regions\n");
    for (size_t i = 0; i < report.region_differences.size() && i < 3; ++i) {
      const RegionDifference& d = report.region_differences[i];
      absl::StrAppend(&out, "  ", d.endpoint.mx_host, " [", d.endpoint.address, "] ", d.candidate,
                      ": ", d.region_a, " ", d.verdict_a, ", ", d.region_b, " ", d.verdict_b, "\n");
    }
  }
  if (report.diff.has_value()) {
    absl::StrAppend(&out, "DIFF against ", report.diff->against_scan_id, "\n");
    for (const DiffSummary& s : report.diff->summaries) {
      absl::StrAppendFormat(&out, "  %-16s %-8s newly failing %d, newly fixed %d, downgraded %d\n",
                            Clip(s.candidate, 16), Clip(s.region, 8), s.newly_failing.domains,
                            s.newly_fixed.domains, s.downgraded.domains);
    }
  }
  if (report.what_if.has_value()) {
    absl::StrAppend(&out, "WHAT-IF (from stored enumerations)\n");
    for (const WhatIfRow& row : report.what_if->rows) {
      absl::StrAppend(&out, "  ", row.candidate, " ", row.region, ": fails ",
                      CountShare(row.fails, row.evaluated, report.weighted), "; ", row.confidence,
                      "\n");
      if (!row.baseline.empty()) {
        absl::StrAppend(
            &out, "    against ", row.baseline, ": newly failing ",
            CountShare(row.newly_failing, row.evaluated, report.weighted), ", newly fixed ",
            CountShare(row.newly_fixed, row.evaluated, report.weighted),
            row.newly_failing_examples.empty()
                ? ""
                : absl::StrCat(" (", absl::StrJoin(row.newly_failing_examples, ", "),
                               row.newly_failing.domains >
                                       static_cast<int64_t>(row.newly_failing_examples.size())
                                   ? ", ..."
                                   : "",
                               ")"),
            "\n");
      }
    }
  }
  if (report.endpoint_findings_total > 0) {
    absl::StrAppend(&out, "SERVER FINDINGS (from enumerations): ", report.endpoint_findings_total,
                    " endpoints\n");
    for (const EndpointFinding& f : report.endpoint_findings) {
      absl::StrAppend(&out, "  ", f.endpoint.mx_host, " [", f.endpoint.address,
                      "]:", f.endpoint.port, " ", f.region, ": ", f.detail, " (", f.count.domains,
                      f.count.domains == 1 ? " domain" : " domains", ")\n");
    }
  }
  if (!report.weak_dependence.empty()) {
    absl::StrAppend(&out,
                    "\nWEAK SUITES AND OLD VERSIONS STILL NEEDED  (from enumerations: domains "
                    "whose every MX accepts nothing stronger)\n");
    for (const WeakDependence& d : report.weak_dependence) {
      std::vector<std::string> parts;
      for (const auto& [name, count] : d.by_class) {
        parts.push_back(absl::StrCat(CountShare(count, d.known, report.weighted), " only ", name,
                                     " or weaker"));
      }
      for (const auto& [name, count] : d.by_version) {
        parts.push_back(absl::StrCat(CountShare(count, d.known, report.weighted),
                                     " nothing newer than ", name));
      }
      absl::StrAppend(&out, "  ", d.region, ": ",
                      parts.empty()
                          ? "no domain depends on a weak suite or a version before TLSv1.2"
                          : absl::StrJoin(parts, "; "),
                      " (of ", d.known.domains, " domains judged");
      if (d.unknown.domains > 0) {
        absl::StrAppend(&out, "; ", d.unknown.domains,
                        " more unknown: an MX enumeration was cut short or accepted nothing");
      }
      absl::StrAppend(&out, ")\n");
    }
  }
  if (!report.scan.load.empty()) {
    absl::StrAppend(&out,
                    "\nLOAD ON THE SERVERS  (one probe per shared address unless its "
                    "answer depends on SNI)\n");
    absl::StrAppendFormat(&out, "%-8s %9s %9s %9s %13s %9s %11s\n", "region", "domains", "MX names",
                          "addresses", "SNI-dependent", "probes", "connections");
    for (const RegionLoad& load : report.scan.load) {
      absl::StrAppendFormat(&out, "%-8s %9d %9d %9d %13d %9d %11d\n", Clip(load.region, 8),
                            load.domains, load.names, load.addresses, load.sni_dependent,
                            load.probes, load.connections);
    }
    for (const RegionLoad& load : report.scan.load) {
      std::vector<std::string> providers;
      for (const ProviderLoad& provider : load.providers) {
        providers.push_back(absl::StrCat(provider.provider.empty() ? "(none)" : provider.provider,
                                         " ", provider.connections, " (", provider.addresses,
                                         " addr, ", provider.names, " names)"));
      }
      if (!providers.empty()) {
        absl::StrAppend(&out, "  connections per provider, ", load.region, ": ",
                        absl::StrJoin(providers, "; "), "\n");
      }
      if (load.enumerations_made + load.enumerations_reused > 0) {
        absl::StrAppend(&out, "  enumerations, ", load.region, ": ", EnumerationReuse(load),
                        load.enumerations_reused > 0
                            ? "; reused where the endpoint answered a handshake as when it was "
                              "enumerated (--fresh enumerates all again)"
                            : "",
                        "\n");
      }
    }
  }
  return out;
}

}  // namespace tlsweep::coordinator::report
