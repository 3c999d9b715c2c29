// The JSON report (docs/report-schema.md) and the per-domain CSV.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/status_macros.h"
#include "coordinator/report/render.h"
#include "coordinator/report/verdict.h"

namespace tlsweep::coordinator::report {
namespace {

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "0";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.6g", value);
}

// A minimal streaming writer: objects and arrays, commas handled, two-space indentation.
class Json {
 public:
  Json& Open(char bracket) {
    Separate();
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }
  Json& Close(char bracket) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) Newline();
    out_ += bracket;
    return *this;
  }
  Json& Key(absl::string_view key) {
    Separate();
    out_ += JsonString(key);
    out_ += ": ";
    after_key_ = true;
    return *this;
  }
  Json& Str(absl::string_view value) { return Raw(JsonString(value)); }
  Json& Num(double value) { return Raw(JsonNumber(value)); }
  Json& Int(int64_t value) { return Raw(absl::StrCat(value)); }
  Json& Bool(bool value) { return Raw(value ? "true" : "false"); }
  Json& Null() { return Raw("null"); }
  Json& Raw(absl::string_view value) {
    Separate();
    out_.append(value.data(), value.size());
    return *this;
  }
  Json& Field(absl::string_view key, absl::string_view value) { return Key(key).Str(value); }
  Json& FieldInt(absl::string_view key, int64_t value) { return Key(key).Int(value); }
  Json& FieldNum(absl::string_view key, double value) { return Key(key).Num(value); }
  Json& FieldBool(absl::string_view key, bool value) { return Key(key).Bool(value); }
  Json& FieldCount(absl::string_view key, const Count& count) {
    Key(key).Open('{');
    FieldInt("domains", count.domains).FieldNum("weight", count.weight);
    return Close('}');
  }
  std::string Take() { return std::move(out_) + "\n"; }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    Newline();
  }
  void Newline() {
    out_ += '\n';
    out_.append(2 * first_.size(), ' ');
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

void Endpoint(Json& j, const EndpointRef& e) {
  j.Field("mx_host", e.mx_host).Field("address", e.address).FieldInt("port", e.port);
}

std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\n\r") == absl::string_view::npos) {
    // Spreadsheets run cells starting with these as formulas; quote and prefix them.
    if (text.empty() || (text[0] != '=' && text[0] != '+' && text[0] != '-' && text[0] != '@')) {
      return std::string(text);
    }
  }
  std::string out = "\"";
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@')) {
    out += '\'';
  }
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string RenderJson(const Report& report) {
  Json j;
  j.Open('{');
  j.FieldInt("schema_version", Report::kSchemaVersion);
  j.FieldInt("generated_unix_ms", report.generated_unix_ms);
  const ScanInfo& scan = report.scan;
  j.Key("scan").Open('{');
  j.Field("scan_id", scan.scan_id).Field("name", scan.name).Field("state", scan.state);
  j.FieldInt("created_unix_ms", scan.created_unix_ms);
  j.FieldInt("finished_unix_ms", scan.finished_unix_ms);
  j.FieldInt("targets", static_cast<int64_t>(scan.targets));
  j.Key("regions").Open('[');
  for (const std::string& region : scan.regions) j.Str(region);
  j.Close(']');
  j.Key("progress").Open('[');
  for (const RegionProgressInfo& p : scan.progress) {
    j.Open('{').Field("region", p.region).FieldInt("shards", static_cast<int64_t>(p.shards));
    j.FieldInt("shards_done", static_cast<int64_t>(p.shards_done));
    j.FieldInt("shards_indexed", static_cast<int64_t>(p.shards_indexed));
    j.FieldInt("targets_done", static_cast<int64_t>(p.targets_done)).Close('}');
  }
  j.Close(']');
  j.Key("load").Open('[');
  for (const RegionLoad& load : scan.load) {
    j.Open('{').Field("region", load.region).FieldInt("domains", load.domains);
    j.FieldInt("names", load.names).FieldInt("addresses", load.addresses);
    j.FieldInt("sni_dependent", load.sni_dependent).FieldInt("probes", load.probes);
    j.FieldInt("connections", load.connections).Key("providers").Open('[');
    for (const ProviderLoad& provider : load.providers) {
      j.Open('{').Field("provider", provider.provider).FieldInt("addresses", provider.addresses);
      j.FieldInt("names", provider.names).FieldInt("connections", provider.connections);
      j.Close('}');
    }
    j.Close(']').Key("enumerations").Open('{').FieldInt("made", load.enumerations_made);
    j.FieldInt("reused", load.enumerations_reused);
    j.FieldInt("oldest_reused_age_s", load.oldest_reused_age_s).Key("reused_endpoints").Open('[');
    for (const ReusedEnumeration& reused : load.reused) {
      j.Open('{').Field("endpoint", reused.endpoint).Field("from_scan", reused.from_scan);
      j.FieldInt("age_s", reused.age_s).Close('}');
    }
    j.Close(']').Close('}').Close('}');
  }
  j.Close(']').Close('}');
  j.FieldBool("complete", report.complete).FieldBool("weighted", report.weighted);
  j.FieldInt("unreadable_rows", report.unreadable_rows).Key("unreadable_examples").Open('[');
  for (const std::string& example : report.unreadable_examples) j.Str(example);
  j.Close(']');

  j.Key("candidates").Open('[');
  for (const CandidateInfo& c : report.candidates) {
    j.Open('{').Field("name", c.name).Field("backend", c.backend);
    j.FieldBool("tls_required", c.tls_required).Field("config", c.config).Close('}');
  }
  j.Close(']');

  // The delta leads: what each candidate changes against the config run today.
  j.Field("baseline", report.baseline);
  j.Key("inconclusive").Open('[');
  for (const Inconclusive& i : report.inconclusive) {
    j.Open('{').Field("region", i.region).FieldCount("unreached", i.unreached);
    j.FieldCount("total", i.total).Field("why", i.why).Close('}');
  }
  j.Close(']');
  j.Key("delta");
  if (!report.delta.has_value()) {
    j.Null();
  } else {
    const DeltaSection& delta = *report.delta;
    j.Open('{').Field("baseline", delta.baseline).Key("summary").Open('[');
    for (const DeltaSummary& d : delta.summaries) {
      j.Open('{').Field("candidate", d.candidate).Field("region", d.region);
      j.FieldBool("tls_required", d.tls_required).FieldCount("compared", d.compared);
      j.FieldCount("newly_failing", d.newly_failing).FieldCount("newly_degraded", d.newly_degraded);
      j.FieldCount("newly_cleartext", d.newly_cleartext).FieldCount("newly_fixed", d.newly_fixed);
      j.Close('}');
    }
    j.Close(']').FieldInt("rows_total", delta.rows_total).Key("rows").Open('[');
    for (const DeltaRow& r : delta.rows) {
      j.Open('{').Field("change", r.change).Field("candidate", r.candidate);
      j.Field("region", r.region).Field("domain", r.domain);
      j.FieldInt("line_number", static_cast<int64_t>(r.line_number)).FieldNum("weight", r.weight);
      j.Field("before", r.before).Field("after", r.after);
      j.Key("cause").Open('{').Field("code", r.cause_code).Field("text", r.cause_text).Close('}');
      j.Field("mx_host", r.mx_host).Field("provider", r.provider).Close('}');
    }
    j.Close(']').Key("providers").Open('[');
    for (const ProviderDelta& p : delta.providers) {
      j.Open('{').Field("candidate", p.candidate).Field("region", p.region);
      j.Field("provider", p.provider).FieldCount("newly_failing", p.newly_failing);
      j.FieldCount("newly_cleartext", p.newly_cleartext).Close('}');
    }
    j.Close(']').Close('}');
  }
  j.Key("advice").Open('[');
  for (const AdviceStep& a : report.advice) {
    j.Open('{').Field("candidate", a.candidate).FieldInt("step", a.step);
    j.Field("addition", a.addition).FieldCount("rescued", a.rescued);
    j.FieldCount("newly_failing", a.newly_failing).Field("spec", a.spec).Key("paste").Open('[');
    for (const std::string& line : a.paste) j.Str(line);
    j.Close(']').Close('}');
  }
  j.Close(']');

  j.Key("summary").Open('[');
  for (const Headline& h : report.headlines) {
    j.Open('{').Field("candidate", h.candidate).Field("region", h.region);
    j.FieldBool("tls_required", h.tls_required);
    j.FieldCount("total", h.total);
    j.FieldInt("endpoints", h.endpoints).FieldInt("failing_endpoints", h.failing_endpoints);
    j.Key("required").Open('{');
    j.FieldCount("ok", h.ok).FieldCount("degraded", h.degraded).FieldCount("fails", h.fails);
    j.FieldCount("unreachable", h.unreachable).Close('}');
    const Count tls{h.total.domains - h.cleartext.domains - h.unreachable.domains,
                    h.total.weight - h.cleartext.weight - h.unreachable.weight};
    j.Key("opportunistic").Open('{');
    j.FieldCount("tls", tls).FieldCount("cleartext", h.cleartext);
    j.FieldCount("unreachable", h.unreachable).Close('}');
    j.FieldNum("fails_share", h.total.weight > 0 ? h.fails.weight / h.total.weight : 0);
    j.FieldNum("cleartext_share", h.total.weight > 0 ? h.cleartext.weight / h.total.weight : 0);
    j.Key("fail_classes").Open('[');
    for (const auto& [failure, count] : h.fail_classes) {
      j.Open('{').Field("failure", failure).FieldInt("domains", count.domains);
      j.FieldNum("weight", count.weight).Close('}');
    }
    j.Close(']').Close('}');
  }
  j.Close(']');

  j.Key("failing_domains").Open('{');
  j.FieldInt("total", report.failing_domains_total);
  j.Key("rows").Open('[');
  for (const FailingDomain& d : report.failing_domains) {
    j.Open('{').Field("domain", d.domain).Field("candidate", d.candidate);
    j.Field("region", d.region).FieldInt("line_number", static_cast<int64_t>(d.line_number));
    j.FieldNum("weight", d.weight).Field("required", d.required);
    j.Field("opportunistic", d.opportunistic).Field("failure", d.failure);
    j.Field("cause", d.cause).Key("cause_detail").Open('{').Field("code", d.cause_code);
    j.Field("text", d.cause_text).Close('}');
    j.Field("mx_host", d.mx_host).Field("provider", d.provider).FieldInt("endpoints", d.endpoints);
    j.FieldInt("failing_endpoints", d.failing_endpoints).Close('}');
  }
  j.Close(']').Close('}');

  j.Key("distributions").Open('[');
  for (const Distribution& d : report.distributions) {
    j.Open('{').Field("dimension", d.dimension).Field("candidate", d.candidate);
    j.Field("region", d.region).Key("rows").Open('[');
    for (const DistributionRow& row : d.rows) {
      j.Open('{').Field("key", row.key).FieldInt("domains", row.count.domains);
      j.FieldNum("weight", row.count.weight).Close('}');
    }
    j.Close(']').Close('}');
  }
  j.Close(']');

  j.Key("backend_differential").Open('{').Key("pairs").Open('[');
  for (const BackendDifferential& d : report.backend_differentials) {
    j.Open('{').Field("candidate_a", d.candidate_a).Field("backend_a", d.backend_a);
    j.Field("candidate_b", d.candidate_b).Field("backend_b", d.backend_b);
    j.FieldInt("endpoints", d.endpoints).FieldInt("differing", d.differing);
    j.Key("causes").Open('[');
    for (const auto& [cause, n] : d.causes) {
      j.Open('{').Field("cause", cause).FieldInt("endpoints", n).Close('}');
    }
    j.Close(']').Close('}');
  }
  j.Close(']').Key("endpoints").Open('[');
  for (const BackendDifference& d : report.backend_differences) {
    j.Open('{').Field("region", d.region);
    Endpoint(j, d.endpoint);
    j.Field("candidate_a", d.candidate_a).Field("verdict_a", d.verdict_a);
    j.Field("candidate_b", d.candidate_b).Field("verdict_b", d.verdict_b);
    j.Field("cause", d.cause).FieldInt("domains", d.count.domains);
    j.FieldNum("weight", d.count.weight).Close('}');
  }
  j.Close(']').Close('}');

  j.Key("region_divergence").Open('{').FieldInt("total", report.region_differences_total);
  j.Key("endpoints").Open('[');
  for (const RegionDifference& d : report.region_differences) {
    j.Open('{').Field("candidate", d.candidate);
    Endpoint(j, d.endpoint);
    j.Field("region_a", d.region_a).Field("verdict_a", d.verdict_a);
    j.Field("region_b", d.region_b).Field("verdict_b", d.verdict_b);
    j.FieldInt("domains", d.count.domains).FieldNum("weight", d.count.weight).Close('}');
  }
  j.Close(']').Close('}');

  j.Key("diff");
  if (!report.diff.has_value()) {
    j.Null();
  } else {
    j.Open('{').Field("against_scan_id", report.diff->against_scan_id);
    j.Key("summary").Open('[');
    for (const DiffSummary& s : report.diff->summaries) {
      j.Open('{').Field("candidate", s.candidate).Field("region", s.region);
      j.FieldCount("newly_failing", s.newly_failing).FieldCount("newly_fixed", s.newly_fixed);
      j.FieldCount("downgraded", s.downgraded).Close('}');
    }
    j.Close(']').Key("rows").Open('[');
    for (const DiffRow& d : report.diff->rows) {
      j.Open('{').Field("kind", d.kind).Field("domain", d.domain).Field("candidate", d.candidate);
      j.Field("region", d.region).FieldNum("weight", d.weight).Field("before", d.before);
      j.Field("after", d.after).Close('}');
    }
    j.Close(']').Close('}');
  }

  j.Key("what_if");
  if (!report.what_if.has_value()) {
    j.Null();
  } else {
    j.Open('{').Field("note", report.what_if->note).Key("rows").Open('[');
    for (const WhatIfRow& row : report.what_if->rows) {
      j.Open('{').Field("candidate", row.candidate).Field("region", row.region);
      j.FieldCount("evaluated", row.evaluated).FieldCount("fails", row.fails);
      j.Field("confidence", row.confidence).Field("baseline", row.baseline);
      j.FieldCount("newly_failing", row.newly_failing).FieldCount("newly_fixed", row.newly_fixed);
      j.Key("newly_failing_examples").Open('[');
      for (const std::string& domain : row.newly_failing_examples) j.Str(domain);
      j.Close(']').Close('}');
    }
    j.Close(']').Close('}');
  }

  j.Key("endpoint_findings").Open('{').FieldInt("total", report.endpoint_findings_total);
  j.Key("endpoints").Open('[');
  for (const EndpointFinding& f : report.endpoint_findings) {
    j.Open('{').Field("region", f.region);
    Endpoint(j, f.endpoint);
    j.Field("kind", f.kind).Field("detail", f.detail);
    j.FieldInt("domains", f.count.domains).FieldNum("weight", f.count.weight).Close('}');
  }
  j.Close(']').Close('}');

  j.Key("weak_dependence").Open('[');
  for (const WeakDependence& d : report.weak_dependence) {
    j.Open('{').Field("region", d.region);
    j.FieldCount("judged", d.known).FieldCount("unknown", d.unknown);
    j.Key("only_suite_class").Open('[');
    for (const auto& [name, count] : d.by_class) {
      j.Open('{').Field("class", name).FieldCount("count", count).Close('}');
    }
    j.Close(']').Key("newest_version").Open('[');
    for (const auto& [name, count] : d.by_version) {
      j.Open('{').Field("version", name).FieldCount("count", count).Close('}');
    }
    j.Close(']').Close('}');
  }
  j.Close(']');
  j.Close('}');
  return j.Take();
}

namespace {

// The baseline the CSV compares with: the one asked for, else the scan's first candidate.
absl::StatusOr<std::string> BaselineOf(SqliteDb& db, const ReportOptions& options) {
  if (!options.baseline.empty()) return options.baseline;
  ASSIGN_OR_RETURN(SqliteStatement select, db.Prepare("SELECT profile FROM scans WHERE scan_id=?"));
  select.Bind(1, options.scan_id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no scan '", options.scan_id, "'"));
  v1::ProbeProfile profile;
  (void)profile.ParseFromString(select.Blob(0));
  if (profile.candidates_size() == 0 || profile.candidates(0).name().empty()) return "default";
  return profile.candidates(0).name();
}

// The row's change against the baseline, as the delta names it ("" when none).
std::string ChangeVsBaseline(int64_t required_before, int64_t required_after,
                             int64_t opportunistic_before, int64_t opportunistic_after) {
  if (required_before <= 2 && required_after <= 2 && required_before != required_after) {
    if (required_after == 2) return "newly_failing";
    if (required_after == 1 && required_before == 0) return "newly_degraded";
    return "newly_fixed";
  }
  if (opportunistic_before <= 1 && opportunistic_after <= 1 &&
      opportunistic_before != opportunistic_after) {
    return opportunistic_after == 1 ? "newly_cleartext" : "newly_fixed";
  }
  return "";
}

}  // namespace

absl::Status WriteDomainsCsv(SqliteDb& db, const ReportOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT d.candidate, d.region, d.domain, d.line_number, d.weight, d.required, "
                 "d.opportunistic, d.failure, d.cause, d.mx_host, d.endpoints, "
                 "d.failing_endpoints, d.version, d.suite, d.cause_code, d.cause_text, "
                 "d.provider, b.required, b.opportunistic, d.trusted, d.hostname_match, "
                 "d.expired FROM report_domains d "
                 "LEFT JOIN report_domains b ON b.scan_id=d.scan_id AND b.candidate=?2 AND "
                 "b.region=d.region AND b.domain=d.domain "
                 "WHERE d.scan_id=?1 ORDER BY d.candidate, d.region, d.domain"));
  ASSIGN_OR_RETURN(std::string baseline, BaselineOf(db, options));
  select.Bind(1, options.scan_id).Bind(2, baseline);
  out << "scan_id,candidate,region,domain,line_number,weight,tls_required_verdict,"
         "opportunistic_verdict,failure,cause,mx_host,endpoints,failing_endpoints,version,suite,"
         "cause_code,cause_text,provider,baseline,change_vs_baseline,certificate_trusted,"
         "certificate_name_match,certificate_expired\n";
  auto yes_no = [&](int column) -> const char* {
    if (select.IsNull(column)) return "";
    return select.Int(column) != 0 ? "yes" : "no";
  };
  static const char* const kVersions[] = {"", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
  const std::string scan_id = CsvField(options.scan_id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    const std::string candidate = select.Text(0);
    if (!options.candidates.empty() &&
        std::find(options.candidates.begin(), options.candidates.end(), candidate) ==
            options.candidates.end()) {
      continue;
    }
    const int64_t version = select.Int(12);
    out << scan_id << ',' << CsvField(candidate) << ',' << CsvField(select.Text(1)) << ','
        << CsvField(select.Text(2)) << ',' << select.Int(3) << ',' << JsonNumber(select.Double(4))
        << ',' << RequiredName(static_cast<Required>(select.Int(5))) << ','
        << OpportunisticName(static_cast<Opportunistic>(select.Int(6))) << ','
        << FailureName(static_cast<int>(select.Int(7))) << ',' << CsvField(select.Text(8)) << ','
        << CsvField(select.Text(9)) << ',' << select.Int(10) << ',' << select.Int(11) << ','
        << (version >= 0 && version <= 5 ? kVersions[version] : "") << ','
        << CsvField(select.Text(13)) << ',' << CsvField(select.Text(14)) << ','
        << CsvField(select.Text(15)) << ',' << CsvField(select.Text(16)) << ','
        << CsvField(baseline) << ','
        << (select.IsNull(17) || candidate == baseline
                ? ""
                : ChangeVsBaseline(select.Int(17), select.Int(5), select.Int(18), select.Int(6)))
        << ',' << yes_no(19) << ',' << yes_no(20) << ',' << yes_no(21) << '\n';
  }
  if (!out) return absl::DataLossError("writing the CSV failed");
  return absl::OkStatus();
}

}  // namespace tlsweep::coordinator::report
