// The HTML report: one self-contained file (inline CSS, charts as inline SVG, no scripts, no
// fonts or images to fetch) that reads the same in a mail attachment, a browser and on paper.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/captured_hello.h"
#include "coordinator/report/render.h"

namespace tlsweep::coordinator::report {

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"css(
:root { --fail: #c0392b; --warn: #d68910; --ok: #1e8449; --muted: #5d6d7e; --line: #d5d8dc; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1c2833; margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid #1c2833; padding-bottom: 2px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.meta, .note { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #f2f3f4; font-weight: 600; }
th.group { text-align: center; border-bottom: 2px solid #1c2833; }
td small { color: var(--muted); font-weight: normal; }
td.classes { font-size: 12px; overflow-wrap: anywhere; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.fails { color: var(--fail); font-weight: 600; }
.degraded { color: var(--warn); font-weight: 600; }
.ok { color: var(--ok); }
.pill { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px;
  border: 1px solid currentColor; }
.grid { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure { margin: 0; width: 372px; break-inside: avoid; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 2px; }
.legend span { margin-right: 12px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
code { font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, figure, tr { break-inside: avoid; }
  th { background: none; }
  .noprint { display: none; }
}
)css";

std::string Share(const Count& count, const Count& total, bool weighted) {
  return weighted ? Percent(count.weight, total.weight)
                  : Percent(static_cast<double>(count.domains), static_cast<double>(total.domains));
}

// A horizontal stacked bar of a headline: ok, degraded, fails, unreachable.
std::string StackedBar(const Headline& h, bool weighted) {
  const double total = weighted ? h.total.weight : static_cast<double>(h.total.domains);
  if (total <= 0) return "";
  const double width = 120;
  std::string svg = absl::StrFormat(
      "<svg width=\"%d\" height=\"12\" viewBox=\"0 0 %d 12\" role=\"img\" "
      "aria-label=\"verdict shares\">",
      static_cast<int>(width), static_cast<int>(width));
  double x = 0;
  for (const auto& [count, color, label] :
       std::vector<std::tuple<const Count*, const char*, const char*>>{
           {&h.ok, "#1e8449", "ok"},
           {&h.degraded, "#d68910", "degraded"},
           {&h.fails, "#c0392b", "fails"},
           {&h.unreachable, "#aab7b8", "unreachable"}}) {
    const double part = weighted ? count->weight : static_cast<double>(count->domains);
    const double w = width * part / total;
    if (w <= 0) continue;
    absl::StrAppendFormat(&svg,
                          "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"12\" fill=\"%s\">"
                          "<title>%s %s</title></rect>",
                          x, w, color, label, Percent(part, total));
    x += w;
  }
  return svg + "</svg>";
}

// One distribution as a bar chart: up to `max_rows` bars, the rest summed as "other".
std::string BarChart(const Distribution& d, absl::string_view title, size_t max_rows) {
  std::vector<DistributionRow> rows;
  DistributionRow other{"other", {}};
  int64_t total = 0;
  for (size_t i = 0; i < d.rows.size(); ++i) {
    total += d.rows[i].count.domains;
    if (i < max_rows) {
      rows.push_back(d.rows[i]);
    } else {
      other.count.domains += d.rows[i].count.domains;
      other.count.weight += d.rows[i].count.weight;
    }
  }
  if (other.count.domains > 0) rows.push_back(other);
  int64_t largest = 1;
  for (const DistributionRow& row : rows) largest = std::max(largest, row.count.domains);
  const int row_height = 18, label_width = 190, bar_width = 120;
  const int height = row_height * static_cast<int>(rows.size()) + 2;
  std::string svg = absl::StrFormat(
      "<figure><figcaption>%s</figcaption><svg width=\"372\" height=\"%d\" viewBox=\"0 0 372 %d\" "
      "role=\"img\" aria-label=\"%s\" font-family=\"sans-serif\" font-size=\"11\">",
      HtmlEscape(title), height, height, HtmlEscape(title));
  for (size_t i = 0; i < rows.size(); ++i) {
    const int y = static_cast<int>(i) * row_height;
    std::string label = rows[i].key;
    if (label.size() > 30) label = label.substr(0, 29) + "\u2026";
    const double w = bar_width * static_cast<double>(rows[i].count.domains) / largest;
    absl::StrAppendFormat(
        &svg,
        "<text x=\"0\" y=\"%d\">%s</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"12\" "
        "fill=\"#2e86c1\"><title>%s: %d domains</title></rect><text x=\"%.1f\" y=\"%d\">%s"
        "</text>",
        y + 13, HtmlEscape(label), label_width, y + 3, std::max(w, 1.0), HtmlEscape(rows[i].key),
        rows[i].count.domains, label_width + std::max(w, 1.0) + 4, y + 13,
        Percent(static_cast<double>(rows[i].count.domains), static_cast<double>(total)));
  }
  return svg + "</svg></figure>";
}

std::string Endpoint(const EndpointRef& e) {
  return absl::StrCat(HtmlEscape(e.mx_host), " <span class=\"meta\">[", HtmlEscape(e.address),
                      "]:", e.port, "</span>");
}

std::string VerdictCell(absl::string_view verdict) {
  const char* css = verdict == "ok" || verdict == "tls" ? "ok"
                    : verdict == "degraded"             ? "degraded"
                                                        : "fails";
  return absl::StrCat("<span class=\"", css, "\">", HtmlEscape(verdict), "</span>");
}

}  // namespace

std::string RenderHtml(const Report& report) {
  const ScanInfo& scan = report.scan;
  const bool weighted = report.weighted;
  const char* share_of = weighted ? "of mail volume" : "of domains";
  std::string h;
  absl::StrAppend(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                  "<title>STARTTLS compatibility report: ",
                  HtmlEscape(scan.name.empty() ? scan.scan_id : scan.name), "</title><style>",
                  kStyle, "</style></head><body>\n");
  absl::StrAppend(&h, "<header><h1>STARTTLS compatibility report</h1><p class=\"meta\">Scan <b>",
                  HtmlEscape(scan.scan_id), "</b>",
                  scan.name.empty() ? "" : " \u201c" + HtmlEscape(scan.name) + "\u201d",
                  " &middot; ", HtmlEscape(scan.state), " &middot; ", scan.targets,
                  " targets &middot; created ", UtcTime(scan.created_unix_ms),
                  " &middot; report generated ", UtcTime(report.generated_unix_ms),
                  "<br>Regions: ");
  std::vector<std::string> coverage;
  for (const RegionProgressInfo& p : scan.progress) {
    coverage.push_back(
        absl::StrCat(HtmlEscape(p.region), " (", p.shards_indexed, "/", p.shards, " shards)"));
  }
  absl::StrAppend(
      &h, absl::StrJoin(coverage, ", "),
      report.complete ? " &middot; complete" : " &middot; <b>partial</b>: finished shards only",
      " &middot; shares are ", share_of, "</p>",
      report.unreadable_rows == 0
          ? std::string()
          : absl::StrCat("<p class=\"fails\"><b>Warning:</b> ", report.unreadable_rows,
                         " stored result row(s) did not parse and are left out (",
                         HtmlEscape(absl::StrJoin(report.unreadable_examples, ", ")), ")</p>"),
      "</header>\n");

  // 0. Inconclusive scans say so first, and the delta against the baseline leads.
  for (const Inconclusive& i : report.inconclusive) {
    absl::StrAppend(&h, "<section id=\"inconclusive\" class=\"fails\"><h2>Inconclusive in ",
                    HtmlEscape(i.region), "</h2><p>", i.unreached.domains, " of ", i.total.domains,
                    " domains were not reached at all, so this scan cannot say what a TLS change "
                    "does to them (",
                    HtmlEscape(i.why), ").</p></section>\n");
  }
  for (const CandidateInfo& c : report.candidates) {
    if (c.backend != backends::kCapturedHelloBackend) continue;
    absl::StrAppend(&h, "<p class=\"note\">Candidate ", HtmlEscape(c.name),
                    " is a captured ClientHello replayed by the raw backend: its ok verdicts rest "
                    "on the server's ServerHello (it chose from that offer); no handshake was "
                    "completed.</p>\n");
  }
  if (report.delta.has_value()) {
    const DeltaSection& delta = *report.delta;
    absl::StrAppend(
        &h, "<section><h2>What changes against the baseline \u201c", HtmlEscape(delta.baseline),
        "\u201d</h2><p class=\"note\">Each candidate against the configuration run today. "
        "<b>Newly failing</b> and <b>newly degraded</b>: the TLS required reading; <b>newly "
        "clear text</b>: the opportunistic one; <b>newly fixed</b>: either reading better.</p>"
        "<table id=\"delta\"><thead><tr><th>Candidate</th><th>Region</th><th>Policy</th>"
        "<th class=\"n\">Compared</th><th class=\"n\">Newly failing</th>"
        "<th class=\"n\">Newly degraded</th><th class=\"n\">Newly clear text</th>"
        "<th class=\"n\">Newly fixed</th></tr></thead><tbody>");
    for (const DeltaSummary& d : delta.summaries) {
      absl::StrAppend(
          &h, "<tr><td><b>", HtmlEscape(d.candidate), "</b></td><td>", HtmlEscape(d.region),
          "</td><td>", d.tls_required ? "required" : "opportunistic", "</td><td class=\"n\">",
          d.compared.domains, "</td><td class=\"n fails\">", d.newly_failing.domains, " <small>",
          Share(d.newly_failing, d.compared, weighted), "</small></td><td class=\"n degraded\">",
          d.newly_degraded.domains, " <small>", Share(d.newly_degraded, d.compared, weighted),
          "</small></td><td class=\"n\">", d.newly_cleartext.domains, " <small>",
          Share(d.newly_cleartext, d.compared, weighted), "</small></td><td class=\"n ok\">",
          d.newly_fixed.domains, " <small>", Share(d.newly_fixed, d.compared, weighted),
          "</small></td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table>");
    if (!delta.rows.empty()) {
      absl::StrAppend(&h, "<p class=\"note\">", delta.rows.size(), " of ", delta.rows_total,
                      " changes, worst first by volume; the CSV has every domain's change.</p>"
                      "<table id=\"delta-rows\"><thead><tr><th>Change</th><th>Domain</th>"
                      "<th class=\"n\">Weight</th><th>Candidate</th><th>Region</th>"
                      "<th>Before</th><th>After</th><th>Why</th><th>MX</th><th>Provider</th>"
                      "</tr></thead><tbody>");
      for (const DeltaRow& r : delta.rows) {
        absl::StrAppend(&h, "<tr><td>", HtmlEscape(r.change), "</td><td>", HtmlEscape(r.domain),
                        "</td><td class=\"n\">", Volume(r.weight), "</td><td>",
                        HtmlEscape(r.candidate), "</td><td>", HtmlEscape(r.region), "</td><td>",
                        VerdictCell(r.before), "</td><td>", VerdictCell(r.after), "</td><td><code>",
                        HtmlEscape(r.cause_code), "</code> ", HtmlEscape(r.cause_text), "</td><td>",
                        HtmlEscape(r.mx_host), "</td><td>", HtmlEscape(r.provider), "</td></tr>");
      }
      absl::StrAppend(&h, "</tbody></table>");
    }
    if (!report.advice.empty()) {
      absl::StrAppend(&h,
                      "<h3>Advice</h3><p class=\"note\">The smallest additions that rescue the "
                      "most newly failing volume, found from the stored enumerations and checked "
                      "by predicting every newly failing domain again with the advised "
                      "config.</p><table id=\"advice\"><thead><tr><th>Candidate</th>"
                      "<th>Step</th><th>Add</th><th class=\"n\">Rescues</th><th>Config</th>"
                      "</tr></thead><tbody>");
      for (const AdviceStep& a : report.advice) {
        std::vector<std::string> lines;
        for (const std::string& line : a.paste) lines.push_back(HtmlEscape(line));
        absl::StrAppend(&h, "<tr><td>", HtmlEscape(a.candidate), "</td><td class=\"n\">", a.step,
                        "</td><td>", HtmlEscape(a.addition), "</td><td class=\"n\">",
                        a.rescued.domains, " of ", a.newly_failing.domains, " <small>",
                        Share(a.rescued, a.newly_failing, weighted), "</small></td><td><code>",
                        absl::StrJoin(lines, "</code><br><code>"), "</code></td></tr>");
      }
      absl::StrAppend(&h, "</tbody></table>");
    }
    if (!delta.providers.empty()) {
      absl::StrAppend(&h,
                      "<table id=\"delta-providers\"><thead><tr><th>Provider</th>"
                      "<th>Candidate</th><th>Region</th><th class=\"n\">Newly failing</th>"
                      "<th class=\"n\">Volume</th><th class=\"n\">Newly clear text</th>"
                      "<th class=\"n\">Volume</th></tr></thead><tbody>");
      for (const ProviderDelta& p : delta.providers) {
        absl::StrAppend(&h, "<tr><td>", HtmlEscape(p.provider), "</td><td>",
                        HtmlEscape(p.candidate), "</td><td>", HtmlEscape(p.region),
                        "</td><td class=\"n fails\">", p.newly_failing.domains,
                        "</td><td class=\"n\">", Volume(p.newly_failing.weight),
                        "</td><td class=\"n\">", p.newly_cleartext.domains, "</td><td class=\"n\">",
                        Volume(p.newly_cleartext.weight), "</td></tr>");
      }
      absl::StrAppend(&h, "</tbody></table>");
    }
    absl::StrAppend(&h, "</section>\n");
  }

  // 1. The answer.
  absl::StrAppend(&h, "<section><h2>Who would fail</h2>",
                  "<p class=\"note\">Per candidate configuration and sending region. <b>TLS "
                  "required</b> (Momentum <code>tls = required</code>, Postfix "
                  "<code>encrypt</code>): a domain <span class=\"fails\">fails</span> "
                  "(<code>451 4.7.5 TLS negotiation failed</code>, deferred then bounced) when "
                  "every MX reached fails, and is <span class=\"degraded\">degraded</span> when "
                  "the primary MX fails but a backup works. <b>Opportunistic</b>: a failed "
                  "handshake or missing STARTTLS at the first MX reached sends the mail in "
                  "<b>clear text</b>. Both readings are shown for every candidate; its own policy "
                  "is in the third column.</p>",
                  "<table id=\"summary\"><thead><tr><th colspan=\"4\"></th>"
                  "<th colspan=\"2\" class=\"group\">TLS required</th>"
                  "<th class=\"group\">Opportunistic</th><th colspan=\"4\"></th></tr>"
                  "<tr><th>Candidate</th><th>Region</th><th>Policy</th>"
                  "<th class=\"n\">Domains</th><th class=\"n\">Fail</th>"
                  "<th class=\"n\">Degraded</th><th class=\"n\">Clear text</th>"
                  "<th class=\"n\">Unreachable</th><th class=\"n\">Failing MX</th>"
                  "<th>Failure seen</th><th>Verdicts</th></tr></thead><tbody>");
  for (const Headline& row : report.headlines) {
    std::vector<std::string> classes;
    for (size_t i = 0; i < row.fail_classes.size() && i < 4; ++i) {
      classes.push_back(absl::StrCat(HtmlEscape(row.fail_classes[i].first), " (",
                                     row.fail_classes[i].second.domains, ")"));
    }
    absl::StrAppend(&h, "<tr><td><b>", HtmlEscape(row.candidate), "</b></td><td>",
                    HtmlEscape(row.region), "</td><td>",
                    row.tls_required ? "required" : "opportunistic", "</td><td class=\"n\">",
                    row.total.domains, "</td><td class=\"n fails\">", row.fails.domains, " <small>",
                    Share(row.fails, row.total, weighted), "</small></td><td class=\"n degraded\">",
                    row.degraded.domains, " <small>", Share(row.degraded, row.total, weighted),
                    "</small></td><td class=\"n\">", row.cleartext.domains, " <small>",
                    Share(row.cleartext, row.total, weighted), "</small></td><td class=\"n\">",
                    row.unreachable.domains, "</td><td class=\"n\">", row.failing_endpoints, " / ",
                    row.endpoints, "</td><td class=\"classes\">", absl::StrJoin(classes, "<br>"),
                    "</td><td>", StackedBar(row, weighted), "</td></tr>");
  }
  if (report.headlines.empty()) {
    absl::StrAppend(&h, "<tr><td colspan=\"11\">No results indexed yet.</td></tr>");
  }
  absl::StrAppend(&h, "</tbody></table><p class=\"legend note\">",
                  "<span><i class=\"swatch\" style=\"background:#1e8449\"></i>ok</span>",
                  "<span><i class=\"swatch\" style=\"background:#d68910\"></i>degraded</span>",
                  "<span><i class=\"swatch\" style=\"background:#c0392b\"></i>fails</span>",
                  "<span><i class=\"swatch\" style=\"background:#aab7b8\"></i>unreachable "
                  "(DNS, TCP, SMTP: fails whatever the TLS settings)</span></p>");
  if (!report.candidates.empty()) {
    absl::StrAppend(&h,
                    "<table id=\"candidates\"><thead><tr><th>Candidate</th><th>Backend</th>"
                    "<th>Policy</th><th>Configuration</th></tr></thead><tbody>");
    for (const CandidateInfo& c : report.candidates) {
      absl::StrAppend(&h, "<tr><td>", HtmlEscape(c.name), "</td><td>", HtmlEscape(c.backend),
                      "</td><td>", c.tls_required ? "TLS required" : "opportunistic",
                      "</td><td><code>", HtmlEscape(c.config), "</code></td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table>");
  }
  absl::StrAppend(&h, "</section>\n");

  // 2. The domains.
  absl::StrAppend(&h, "<section><h2>Failing and degraded domains, worst first by volume</h2>");
  if (report.failing_domains.empty()) {
    absl::StrAppend(&h, "<p>No domain fails or is degraded under any candidate.</p>");
  } else {
    absl::StrAppend(&h, "<p class=\"note\">", report.failing_domains.size(), " of ",
                    report.failing_domains_total,
                    " shown; the CSV download lists every domain.</p><table id=\"failing\">"
                    "<thead><tr><th>Domain</th><th class=\"n\">Weight</th><th>Candidate</th>"
                    "<th>Region</th><th>TLS required</th><th>Opportunistic</th><th>Failure</th>"
                    "<th>Cause</th><th>MX</th><th class=\"n\">Failing MX</th></tr></thead><tbody>");
    for (const FailingDomain& d : report.failing_domains) {
      absl::StrAppend(&h, "<tr><td>", HtmlEscape(d.domain), "</td><td class=\"n\">",
                      Volume(d.weight), "</td><td>", HtmlEscape(d.candidate), "</td><td>",
                      HtmlEscape(d.region), "</td><td>", VerdictCell(d.required), "</td><td>",
                      VerdictCell(d.opportunistic), "</td><td>", HtmlEscape(d.failure), "</td><td>",
                      d.cause_code.empty() ? HtmlEscape(d.cause)
                                           : absl::StrCat("<code>", HtmlEscape(d.cause_code),
                                                          "</code> ", HtmlEscape(d.cause_text)),
                      "</td><td>", HtmlEscape(d.mx_host), "</td><td class=\"n\">",
                      d.failing_endpoints, " / ", d.endpoints, "</td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table>");
  }
  absl::StrAppend(&h, "</section>\n");

  // 3. Distributions, per candidate and region.
  absl::StrAppend(&h,
                  "<section><h2>Distributions</h2><p class=\"note\">Domains, read at the MX "
                  "mail would go to (the first that negotiated TLS, else the first "
                  "reached).</p>");
  static const std::vector<std::pair<std::string, std::string>> kTitles = {
      {"starttls", "STARTTLS support"},     {"version", "Protocol versions"},
      {"suite", "Cipher suites"},           {"group", "Key-exchange groups"},
      {"trusted", "Certificate trusted"},   {"hostname_match", "Certificate matches MX name"},
      {"expiry", "Certificate expiry"},     {"key", "Certificate keys"},
      {"failure_group", "Failure classes"}, {"failure", "Failures"}};
  for (const CandidateInfo& c : report.candidates) {
    for (const std::string& region : scan.regions) {
      std::string charts;
      for (const auto& [dimension, title] : kTitles) {
        for (const Distribution& d : report.distributions) {
          if (d.dimension == dimension && d.candidate == c.name && d.region == region) {
            charts += BarChart(d, title, 8);
          }
        }
      }
      if (charts.empty()) continue;
      absl::StrAppend(&h, "<h3>", HtmlEscape(c.name), " &middot; ", HtmlEscape(region),
                      "</h3><div class=\"grid\">", charts, "</div>");
    }
  }
  absl::StrAppend(&h, "</section>\n");

  // 4. Backend differential.
  absl::StrAppend(&h, "<section><h2>Backend differential</h2>");
  if (report.backend_differentials.empty()) {
    absl::StrAppend(&h, "<p>No pair of candidates with different TLS backends in this scan.</p>");
  } else {
    absl::StrAppend(&h,
                    "<p class=\"note\">Endpoints reached with both candidates where one "
                    "negotiated TLS and the other did not.</p><table id=\"backend-pairs\">"
                    "<thead><tr><th>Candidates</th><th class=\"n\">Endpoints compared</th>"
                    "<th class=\"n\">Differ</th><th>Root causes</th></tr></thead><tbody>");
    for (const BackendDifferential& d : report.backend_differentials) {
      std::vector<std::string> causes;
      for (const auto& [cause, n] : d.causes)
        causes.push_back(absl::StrCat(HtmlEscape(cause), " ", n));
      absl::StrAppend(&h, "<tr><td>", HtmlEscape(d.candidate_a), " (", HtmlEscape(d.backend_a),
                      ") vs ", HtmlEscape(d.candidate_b), " (", HtmlEscape(d.backend_b),
                      ")</td><td class=\"n\">", d.endpoints, "</td><td class=\"n\">", d.differing,
                      "</td><td>", absl::StrJoin(causes, ", "), "</td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table>");
    if (!report.backend_differences.empty()) {
      absl::StrAppend(&h,
                      "<table id=\"backend-endpoints\"><thead><tr><th>Endpoint</th>"
                      "<th>Region</th><th>A</th><th>B</th><th>Cause</th>"
                      "<th class=\"n\">Domains</th><th class=\"n\">Volume</th></tr></thead>"
                      "<tbody>");
      for (const BackendDifference& d : report.backend_differences) {
        absl::StrAppend(&h, "<tr><td>", Endpoint(d.endpoint), "</td><td>", HtmlEscape(d.region),
                        "</td><td>", HtmlEscape(d.candidate_a), ": ", VerdictCell(d.verdict_a),
                        "</td><td>", HtmlEscape(d.candidate_b), ": ", VerdictCell(d.verdict_b),
                        "</td><td>", HtmlEscape(d.cause), "</td><td class=\"n\">", d.count.domains,
                        "</td><td class=\"n\">", Volume(d.count.weight), "</td></tr>");
      }
      absl::StrAppend(&h, "</tbody></table>");
    }
  }
  absl::StrAppend(&h, "</section>\n");

  // 5. Region divergence.
  if (scan.regions.size() > 1) {
    absl::StrAppend(&h, "<section><h2>Region divergence</h2><p>", report.region_differences_total,
                    " endpoint verdicts differ between regions.</p>");
    if (!report.region_differences.empty()) {
      absl::StrAppend(&h,
                      "<table id=\"regions\"><thead><tr><th>Endpoint</th><th>Candidate</th>"
                      "<th>Region A</th><th>Region B</th><th class=\"n\">Domains</th>"
                      "<th class=\"n\">Volume</th></tr></thead><tbody>");
      for (const RegionDifference& d : report.region_differences) {
        absl::StrAppend(&h, "<tr><td>", Endpoint(d.endpoint), "</td><td>", HtmlEscape(d.candidate),
                        "</td><td>", HtmlEscape(d.region_a), ": ", VerdictCell(d.verdict_a),
                        "</td><td>", HtmlEscape(d.region_b), ": ", VerdictCell(d.verdict_b),
                        "</td><td class=\"n\">", d.count.domains, "</td><td class=\"n\">",
                        Volume(d.count.weight), "</td></tr>");
      }
      absl::StrAppend(&h, "</tbody></table>");
    }
    absl::StrAppend(&h, "</section>\n");
  }

  // 6. Diff.
  if (report.diff.has_value()) {
    const DiffSection& diff = *report.diff;
    absl::StrAppend(&h, "<section><h2>Changes since scan ", HtmlEscape(diff.against_scan_id),
                    "</h2><table id=\"diff\"><thead><tr><th>Candidate</th><th>Region</th>"
                    "<th class=\"n\">Newly failing</th><th class=\"n\">Newly fixed</th>"
                    "<th class=\"n\">Downgraded</th></tr></thead><tbody>");
    for (const DiffSummary& s : diff.summaries) {
      absl::StrAppend(&h, "<tr><td>", HtmlEscape(s.candidate), "</td><td>", HtmlEscape(s.region),
                      "</td><td class=\"n fails\">", s.newly_failing.domains,
                      "</td><td class=\"n ok\">", s.newly_fixed.domains,
                      "</td><td class=\"n degraded\">", s.downgraded.domains, "</td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table>");
    if (!diff.rows.empty()) {
      absl::StrAppend(&h,
                      "<table id=\"diff-rows\"><thead><tr><th>Change</th><th>Domain</th>"
                      "<th class=\"n\">Weight</th><th>Candidate</th><th>Region</th>"
                      "<th>Before</th><th>After</th></tr></thead><tbody>");
      for (const DiffRow& d : diff.rows) {
        absl::StrAppend(&h, "<tr><td>", HtmlEscape(d.kind), "</td><td>", HtmlEscape(d.domain),
                        "</td><td class=\"n\">", Volume(d.weight), "</td><td>",
                        HtmlEscape(d.candidate), "</td><td>", HtmlEscape(d.region), "</td><td>",
                        HtmlEscape(d.before), "</td><td>", HtmlEscape(d.after), "</td></tr>");
      }
      absl::StrAppend(&h, "</tbody></table>");
    }
    absl::StrAppend(&h, "</section>\n");
  }

  // 7. What-if (filled by the negotiation model when it is wired in).
  if (report.what_if.has_value()) {
    absl::StrAppend(&h, "<section><h2>What-if, from stored enumerations</h2><p class=\"note\">",
                    HtmlEscape(report.what_if->note),
                    "</p><table id=\"what-if\"><thead><tr>"
                    "<th>Candidate</th><th>Region</th><th class=\"n\">Evaluated</th>"
                    "<th class=\"n\">Would fail</th><th class=\"n\">Share</th>"
                    "<th class=\"n\">Newly failing vs baseline</th>"
                    "<th class=\"n\">Newly fixed</th><th>Confidence</th>"
                    "</tr></thead><tbody>");
    for (const WhatIfRow& row : report.what_if->rows) {
      absl::StrAppend(
          &h, "<tr><td>", HtmlEscape(row.candidate), "</td><td>", HtmlEscape(row.region),
          "</td><td class=\"n\">", row.evaluated.domains, "</td><td class=\"n fails\">",
          row.fails.domains, "</td><td class=\"n\">", Share(row.fails, row.evaluated, weighted),
          "</td><td class=\"n fails\">",
          row.baseline.empty() ? "&ndash;" : absl::StrCat(row.newly_failing.domains),
          row.baseline.empty()
              ? ""
              : absl::StrCat(" <small>", Share(row.newly_failing, row.evaluated, weighted),
                             "</small>"),
          "</td><td class=\"n\">",
          row.baseline.empty() ? "&ndash;" : absl::StrCat(row.newly_fixed.domains), "</td><td>",
          HtmlEscape(row.confidence), "</td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table></section>\n");
  }
  if (report.endpoint_findings_total > 0) {
    absl::StrAppend(&h, "<section><h2>Server findings, from enumerations</h2><p>",
                    report.endpoint_findings_total,
                    " endpoints.</p><table id=\"findings\"><thead><tr><th>Endpoint</th>"
                    "<th>Region</th><th>Finding</th><th class=\"n\">Domains</th>"
                    "<th class=\"n\">Volume</th></tr></thead><tbody>");
    for (const EndpointFinding& f : report.endpoint_findings) {
      absl::StrAppend(&h, "<tr><td>", Endpoint(f.endpoint), "</td><td>", HtmlEscape(f.region),
                      "</td><td>", HtmlEscape(f.detail), "</td><td class=\"n\">", f.count.domains,
                      "</td><td class=\"n\">", Volume(f.count.weight), "</td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table></section>\n");
  }
  if (!report.weak_dependence.empty()) {
    absl::StrAppend(&h,
                    "<section><h2>Weak suites and old versions still needed</h2><p class=\"note\">"
                    "From the enumerations: domains whose every MX accepts nothing stronger, so "
                    "a sender that drops that class or version cuts them off.</p><table "
                    "id=\"weak\"><thead><tr><th>Region</th><th>Only</th><th class=\"n\">Domains"
                    "</th><th class=\"n\">Share</th></tr></thead><tbody>");
    for (const WeakDependence& d : report.weak_dependence) {
      std::vector<std::pair<std::string, Count>> rows;
      for (const auto& [name, count] : d.by_class) rows.emplace_back(name + " or weaker", count);
      for (const auto& [name, count] : d.by_version) rows.emplace_back(name + " or older", count);
      if (rows.empty()) rows.emplace_back("nothing weak", Count{});
      for (const auto& [what, count] : rows) {
        absl::StrAppend(&h, "<tr><td>", HtmlEscape(d.region), "</td><td>", HtmlEscape(what),
                        "</td><td class=\"n\">", count.domains, "</td><td class=\"n\">",
                        Share(count, d.known, report.weighted), " of ", d.known.domains,
                        "</td></tr>");
      }
    }
    absl::StrAppend(&h, "</tbody></table></section>\n");
  }
  if (!scan.load.empty()) {
    absl::StrAppend(&h,
                    "<section><h2>Load on the servers</h2><p class=\"note\">Each shared "
                    "address is probed once per region and candidate, and its answer serves "
                    "every MX name that reaches it, unless a second name got a different answer "
                    "(SNI-dependent: then each name is probed).</p><table><thead><tr><th>Region"
                    "</th><th>Domains</th><th>MX names</th><th>Addresses</th><th>SNI-dependent"
                    "</th><th>Probes</th><th>Connections</th><th>Connections per provider</th>"
                    "<th title=\"An enumeration is reused when the endpoint answered a handshake "
                    "as it did when the region last enumerated it\">Enumerations</th>"
                    "</tr></thead><tbody>");
    for (const RegionLoad& load : scan.load) {
      std::vector<std::string> providers;
      for (const ProviderLoad& provider : load.providers) {
        providers.push_back(absl::StrCat(HtmlEscape(provider.provider), " ", provider.connections));
      }
      absl::StrAppend(&h, "<tr><td>", HtmlEscape(load.region), "</td><td class=\"n\">",
                      load.domains, "</td><td class=\"n\">", load.names, "</td><td class=\"n\">",
                      load.addresses, "</td><td class=\"n\">", load.sni_dependent,
                      "</td><td class=\"n\">", load.probes, "</td><td class=\"n\">",
                      load.connections, "</td><td>", absl::StrJoin(providers, ", "), "</td><td>",
                      HtmlEscape(EnumerationReuse(load)), "</td></tr>");
    }
    absl::StrAppend(&h, "</tbody></table></section>\n");
  }
  absl::StrAppend(&h, "<footer class=\"note\"><p>tlsweep report schema ", Report::kSchemaVersion,
                  ". Endpoints are (MX host, address, port); each address was probed once per "
                  "region and candidate unless its answer depended on SNI.</p></footer></body>"
                  "</html>\n");
  return h;
}

}  // namespace tlsweep::coordinator::report
