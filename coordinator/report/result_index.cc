#include "coordinator/report/result_index.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "backends/candidate/candidate_variants.h"
#include "backends/candidate/settings_for_domain.h"
#include "backends/negotiation/failure_cause.h"
#include "backends/negotiation/negotiation_model.h"
#include "backends/negotiation/whatif_evaluator.h"
#include "backends/probe_kind.h"
#include "backends/status_macros.h"
#include "coordinator/report/enumeration_findings.h"
#include "coordinator/report/verdict.h"
#include "coordinator/report/weak_dependence.h"
#include "coordinator/store/scan_reader.h"
#include "tlsweep/v1/scan.pb.h"

namespace tlsweep::coordinator::report {
namespace {

using ::tlsweep::backends::ProbeKindName;
using ::tlsweep::backends::ProbeKindOf;
using ::tlsweep::v1::ProbeResult;

constexpr int64_t kExpirySoonSeconds = 30 * 24 * 3600;
// Bumped when a report table changes shape or gains rows (2: report_domains provider and cause,
// findings; 3: weak-suite dependence rollups; 4: report_facts gone, report_unit_endpoints,
// report_domains certificate checks).
constexpr int64_t kReportTablesVersion = 4;

constexpr const char* kReportSchema = R"sql(
CREATE TABLE IF NOT EXISTS report_unreadable(
  scan_id TEXT, region TEXT, shard INTEGER, seq INTEGER, idx INTEGER,
  PRIMARY KEY(scan_id, region, shard, seq, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS report_units(
  scan_id TEXT, region TEXT, shard INTEGER, signature TEXT,
  PRIMARY KEY(scan_id, region, shard)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS report_domains(
  scan_id TEXT, candidate TEXT, region TEXT, domain TEXT, shard INTEGER, line_number INTEGER,
  weight REAL, required INTEGER, opportunistic INTEGER, failure INTEGER, cause TEXT,
  mx_host TEXT, endpoints INTEGER, failing_endpoints INTEGER, version INTEGER, suite TEXT,
  suite_rank INTEGER, provider TEXT, cause_code TEXT, cause_text TEXT, trusted INTEGER,
  hostname_match INTEGER, expired INTEGER,
  PRIMARY KEY(scan_id, candidate, region, domain)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_domains_verdict ON report_domains(scan_id, required, weight);
CREATE INDEX IF NOT EXISTS report_domains_shard ON report_domains(scan_id, region, shard);
CREATE TABLE IF NOT EXISTS report_endpoints(
  scan_id TEXT, region TEXT, mx_host TEXT, address TEXT, port INTEGER, candidate TEXT,
  backend TEXT, failure INTEGER, cause TEXT, version INTEGER, suite TEXT, domains INTEGER,
  weight REAL,
  PRIMARY KEY(scan_id, region, mx_host, address, port, candidate)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_endpoints_across ON report_endpoints(scan_id, mx_host, address,
  port, candidate);
CREATE TABLE IF NOT EXISTS report_unit_endpoints(
  scan_id TEXT, region TEXT, shard INTEGER, mx_host TEXT, address TEXT, port INTEGER,
  candidate TEXT, domains INTEGER, weight REAL,
  PRIMARY KEY(scan_id, region, shard, mx_host, address, port, candidate)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS report_rollup(
  scan_id TEXT, region TEXT, candidate TEXT, dimension TEXT, key TEXT, shard INTEGER,
  domains INTEGER, weight REAL,
  PRIMARY KEY(scan_id, region, candidate, dimension, key, shard)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_rollup_shard ON report_rollup(scan_id, region, shard);
CREATE TABLE IF NOT EXISTS report_findings(
  scan_id TEXT, region TEXT, shard INTEGER, mx_host TEXT, address TEXT, port INTEGER,
  kind TEXT, detail TEXT, domains INTEGER, weight REAL,
  PRIMARY KEY(scan_id, region, shard, mx_host, address, port, kind)) WITHOUT ROWID;
)sql";

struct Target {
  double weight = 1;
  std::string label;  // Domain, or the target as written for a host or address.
};

struct CandidateMeta {
  std::string backend;
  bool tls_required = false;
  v1::TlsClientSettings settings;
};

struct ScanMeta {
  int64_t shard_size = 0;
  std::vector<std::string> candidate_names;  // Candidates proper, variants left out.
  std::map<std::string, CandidateMeta> candidates;
  // Per-domain overrides (candidate_variants.h): each candidate's lookup, and for each variant
  // the candidate it stands in for and the settings it probed.
  std::map<std::string, std::unique_ptr<backends::DomainSettingsIndex>> overrides;
  std::map<std::string, std::pair<std::string, std::string>> variants;  // name -> (base, key)

  // The candidate a result of `probed` counts for at `domain`, or "" when it counts for none:
  // a variant's result stands only for the domains whose override has its settings, and a
  // candidate's own result not for the domains a variant covers.
  std::string CountsFor(const std::string& probed, const std::string& domain) const {
    if (auto variant = variants.find(probed); variant != variants.end()) {
      auto index = overrides.find(variant->second.first);
      if (index == overrides.end()) return "";
      const v1::DomainOverride* override = index->second->OverrideFor(domain);
      if (override == nullptr || override->settings().tls_disabled() ||
          backends::ProbeSettingsKey(override->settings()) != variant->second.second) {
        return "";
      }
      return variant->second.first;
    }
    if (auto index = overrides.find(probed); index != overrides.end()) {
      const v1::DomainOverride* override = index->second->OverrideFor(domain);
      if (override != nullptr && !override->settings().tls_disabled() &&
          backends::ProbeSettingsKey(override->settings()) !=
              backends::ProbeSettingsKey(candidates.at(probed).settings)) {
        return "";  // A variant's result stands for this domain.
      }
    }
    return probed;
  }
};

struct Fact {
  std::string candidate;
  uint64_t line_number = 0;
  std::string domain;
  double weight = 1;
  const ProbeResult* result = nullptr;
  std::string backend;
  bool tls_required = false;
  FailureGroup group = FailureGroup::kOk;
  std::string cause;
  bool expires_soon = false;
};

std::string YesNoUnchecked(const ProbeResult& result, bool value) {
  if (!result.tls().verification().performed()) return "not checked";
  return value ? "yes" : "no";
}

absl::StatusOr<ScanMeta> LoadScanMeta(SqliteDb& db, const std::string& scan_id) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT shard_size, profile FROM scans WHERE scan_id=?"));
  select.Bind(1, scan_id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no scan '", scan_id, "'"));
  ScanMeta meta;
  meta.shard_size = select.Int(0);
  v1::ProbeProfile profile;
  if (!profile.ParseFromString(select.Blob(1))) {
    return absl::DataLossError("stored profile does not parse");
  }
  for (const v1::TlsClientSettings& candidate : profile.candidates()) {
    const std::string name = candidate.name().empty() ? "default" : candidate.name();
    CandidateMeta& stored = meta.candidates[name];
    stored = {candidate.backend(), candidate.tls_required(), candidate};
    if (!candidate.variant_of().empty()) {
      meta.variants[name] = {candidate.variant_of(), backends::ProbeSettingsKey(candidate)};
      continue;
    }
    meta.candidate_names.push_back(name);
    if (candidate.overrides_size() > 0) {
      meta.overrides[name] = std::make_unique<backends::DomainSettingsIndex>(stored.settings);
    }
  }
  if (meta.candidate_names.empty()) meta.candidate_names.push_back("default");
  return meta;
}

// Per-unit aggregation, written in one go at the end of the unit.
struct RollupKey {
  std::string region, candidate, dimension, key;
  bool operator<(const RollupKey& o) const {
    return std::tie(region, candidate, dimension, key) <
           std::tie(o.region, o.candidate, o.dimension, o.key);
  }
};
struct RollupValue {
  int64_t domains = 0;
  double weight = 0;
};

class UnitIndexer {
 public:
  UnitIndexer(SqliteDb& db, ScanReader& reader, CandidateOffers* offers)
      : db_(db), reader_(reader), offers_(offers) {}

  absl::Status Prepare() {
    ASSIGN_OR_RETURN(targets_, db_.Prepare("SELECT line_number, input, domain, weight FROM "
                                           "targets WHERE scan_id=? AND ordinal>=? AND "
                                           "ordinal<?"));
    ASSIGN_OR_RETURN(unreadable_,
                     db_.Prepare("INSERT OR IGNORE INTO report_unreadable VALUES(?,?,?,?,?)"));
    ASSIGN_OR_RETURN(insert_domain_,
                     db_.Prepare("INSERT OR REPLACE INTO report_domains VALUES(?,?,?,?,?,?,?,?,?,"
                                 "?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    ASSIGN_OR_RETURN(upsert_endpoint_,
                     db_.Prepare("INSERT INTO report_endpoints VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) "
                                 "ON CONFLICT DO UPDATE SET domains=domains+excluded.domains, "
                                 "weight=weight+excluded.weight"));
    ASSIGN_OR_RETURN(
        insert_unit_endpoint_,
        db_.Prepare("INSERT OR REPLACE INTO report_unit_endpoints VALUES(?,?,?,?,?,?,?,"
                    "?,?)"));
    ASSIGN_OR_RETURN(insert_rollup_,
                     db_.Prepare("INSERT OR REPLACE INTO report_rollup VALUES(?,?,?,?,?,?,?,?)"));
    ASSIGN_OR_RETURN(mark_unit_,
                     db_.Prepare("INSERT OR REPLACE INTO report_units VALUES(?,?,?,?)"));
    ASSIGN_OR_RETURN(upsert_finding_,
                     db_.Prepare("INSERT INTO report_findings VALUES(?,?,?,?,?,?,?,?,?,?) ON "
                                 "CONFLICT DO UPDATE SET domains=domains+excluded.domains, "
                                 "weight=weight+excluded.weight"));
    return absl::OkStatus();
  }

  // Indexes one unit; the caller holds the transaction.
  absl::Status Index(const std::string& scan_id, const ScanMeta& meta, const std::string& region,
                     int64_t shard, const std::string& signature, IndexStats& stats) {
    // The unit's targets: weights and labels by line number (a primary-key range).
    absl::flat_hash_map<uint64_t, Target> targets;
    const int64_t first = shard * meta.shard_size;
    targets_.Bind(1, scan_id).Bind(2, first).Bind(3, first + meta.shard_size);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, targets_.Step());
      if (!row) break;
      Target& target = targets[static_cast<uint64_t>(targets_.Int(0))];
      target.weight = targets_.Double(3);
      target.label = targets_.Text(2).empty() ? targets_.Text(1) : targets_.Text(2);
    }
    targets_.Reset();

    std::vector<ProbeResult> parsed;
    RETURN_IF_ERROR(reader_.ReadShard(scan_id, region, shard, [&](ShardResult& row) {
      if (!row.readable) {
        // One damaged row must not make the whole report unreadable: it is skipped, counted
        // and named in the report (report_unreadable).
        unreadable_.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, row.seq);
        ++stats.unreadable;
        return unreadable_.Bind(5, row.idx).Run();
      }
      parsed.push_back(std::move(row.result));
      return absl::OkStatus();
    }));
    stats.results += static_cast<int64_t>(parsed.size());

    std::vector<Fact> facts;
    facts.reserve(parsed.size());
    for (size_t i = 0; i < parsed.size(); ++i) {
      const ProbeResult& result = parsed[i];
      Fact fact;
      fact.line_number = result.line_number();
      fact.result = &result;
      auto target = targets.find(result.line_number());
      if (target != targets.end()) {
        fact.weight = target->second.weight;
        fact.domain = target->second.label;
      }
      if (!result.domain().empty()) fact.domain = result.domain();
      if (fact.domain.empty()) fact.domain = result.target();
      fact.group = GroupOf(result.failure());
      fact.cause = RootCause(result);
      if (result.tls().success() && result.tls().peer_chain_size() > 0) {
        const int64_t not_after = result.tls().peer_chain(0).not_after_unix();
        const int64_t now = result.started_unix_ms() / 1000;
        fact.expires_soon = not_after >= now && not_after - now < kExpirySoonSeconds;
      }
      std::vector<std::string> names;
      if (ProbeKindOf(result) == v1::PROBE_KIND_ENUMERATE) {
        names.push_back("");
      } else if (!result.tls_settings().name().empty()) {
        const std::string counts = meta.CountsFor(result.tls_settings().name(), fact.domain);
        if (counts.empty()) continue;  // Another probe stands for this domain.
        names.push_back(counts);
      } else if (result.failure() == v1::AGENT_LOST || !result.has_tls_settings()) {
        names = meta.candidate_names;  // Not probed: the same for every candidate.
      } else {
        names.push_back("default");
      }
      for (const std::string& name : names) {
        fact.candidate = name;
        auto known = meta.candidates.find(name);
        fact.backend = result.tls_settings().backend();
        fact.tls_required = result.tls_settings().tls_required();
        if (known != meta.candidates.end()) {
          if (fact.backend.empty()) fact.backend = known->second.backend;
          fact.tls_required = known->second.tls_required;
        }
        facts.push_back(fact);
      }
    }

    // Enumerations by (domain, endpoint): what the failure causes ask the model about.
    enumerations_.clear();
    for (const Fact& fact : facts) {
      const ProbeResult& r = *fact.result;
      if (ProbeKindOf(r) == v1::PROBE_KIND_ENUMERATE) {
        enumerations_[{fact.domain, r.mx_host(), r.address(), r.port()}] = &r;
      }
    }
    meta_ = &meta;

    // What each domain's MX servers accept at best, from their enumerations (candidate ""):
    // the weak suite classes and old versions the domain still depends on.
    std::map<RollupKey, RollupValue> rollup;
    {
      std::map<std::string, std::pair<double, std::vector<std::optional<ServerStrength>>>>
          strengths;
      for (const Fact& fact : facts) {
        if (ProbeKindOf(*fact.result) != v1::PROBE_KIND_ENUMERATE) continue;
        auto& [weight, servers] = strengths[fact.domain];
        weight = fact.weight;
        servers.push_back(fact.result->has_enumeration() ? StrengthOf(fact.result->enumeration())
                                                         : std::nullopt);
      }
      for (const auto& [domain, entry] : strengths) {
        const std::optional<ServerStrength> strength = DomainStrength(entry.second);
        auto add = [&, weight = entry.first](absl::string_view dimension, absl::string_view key) {
          RollupValue& value = rollup[{region, "", std::string(dimension), std::string(key)}];
          ++value.domains;
          value.weight += weight;
        };
        if (!strength.has_value()) {
          add(kDependenceDimension, kDependenceUnknown);
          continue;
        }
        add(kDependenceDimension, kDependenceKnown);
        add(kSuiteClassDimension, backends::SuiteClassName(strength->best_class));
        add(kVersionDimension, backends::TlsVersionName(strength->newest));
      }
    }

    // Domains: every MX endpoint result of one (candidate, domain), in preference order.
    std::map<std::pair<std::string, std::string>, std::vector<const Fact*>> domains;
    for (const Fact& fact : facts) {
      if (ProbeKindOf(*fact.result) == v1::PROBE_KIND_ENUMERATE) continue;
      domains[{fact.candidate, fact.domain}].push_back(&fact);
    }
    for (auto& [key, rows] : domains) {
      std::sort(rows.begin(), rows.end(), [](const Fact* a, const Fact* b) {
        return std::make_tuple(a->result->mx_preference(), a->result->mx_host(),
                               a->result->address(), a->result->port()) <
               std::make_tuple(b->result->mx_preference(), b->result->mx_host(),
                               b->result->address(), b->result->port());
      });
      std::vector<MxOutcome> outcomes;
      outcomes.reserve(rows.size());
      for (const Fact* row : rows) {
        outcomes.push_back({row->result->mx_preference(), row->result->mx_host(),
                            row->result->address(), row->result->failure()});
      }
      const DomainVerdict verdict = JudgeDomain(outcomes);
      RETURN_IF_ERROR(WriteDomain(scan_id, region, shard, key.first, rows, verdict, rollup));
      ++stats.domains;
    }
    for (const auto& [key, value] : rollup) {
      insert_rollup_.Bind(1, scan_id).Bind(2, key.region).Bind(3, key.candidate);
      insert_rollup_.Bind(4, key.dimension).Bind(5, key.key).Bind(6, shard);
      insert_rollup_.Bind(7, value.domains).Bind(8, value.weight);
      RETURN_IF_ERROR(insert_rollup_.Run());
    }

    // Endpoints: one contribution per (domain, endpoint, candidate) result, summed over the
    // unit first (a shard's domains share few endpoints), then added to the scan's totals.
    struct EndpointSum {
      const Fact* first = nullptr;
      int64_t domains = 0;
      double weight = 0;
    };
    std::map<std::tuple<absl::string_view, absl::string_view, uint32_t, absl::string_view>,
             EndpointSum>
        endpoints;
    for (const Fact& fact : facts) {
      const ProbeResult& r = *fact.result;
      if (ProbeKindOf(r) == v1::PROBE_KIND_ENUMERATE || r.address().empty()) continue;
      EndpointSum& sum = endpoints[{r.mx_host(), r.address(), r.port(), fact.candidate}];
      if (sum.first == nullptr) sum.first = &fact;
      ++sum.domains;
      sum.weight += fact.weight;
    }
    for (const auto& [key, sum] : endpoints) {
      const Fact& fact = *sum.first;
      const ProbeResult& r = *fact.result;
      upsert_endpoint_.Bind(1, scan_id).Bind(2, region).Bind(3, r.mx_host()).Bind(4, r.address());
      upsert_endpoint_.Bind(5, int64_t{r.port()}).Bind(6, fact.candidate).Bind(7, fact.backend);
      upsert_endpoint_.Bind(8, int64_t{r.failure()}).Bind(9, fact.cause);
      upsert_endpoint_.Bind(10, int64_t{r.tls().version()}).Bind(11, r.tls().suite().iana_name());
      upsert_endpoint_.Bind(12, sum.domains).Bind(13, sum.weight);
      RETURN_IF_ERROR(upsert_endpoint_.Run());
      // What this unit added, for RemoveUnit to take back.
      SqliteStatement& u = insert_unit_endpoint_;
      u.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, r.mx_host()).Bind(5, r.address());
      u.Bind(6, int64_t{r.port()}).Bind(7, fact.candidate).Bind(8, sum.domains);
      RETURN_IF_ERROR(u.Bind(9, sum.weight).Run());
    }

    // What an enumeration found wrong with the server itself, once per domain that uses it.
    for (const Fact& fact : facts) {
      if (ProbeKindOf(*fact.result) != v1::PROBE_KIND_ENUMERATE) continue;
      for (const EnumerationFinding& finding : FindingsOf(*fact.result)) {
        const ProbeResult& r = *fact.result;
        upsert_finding_.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, r.mx_host());
        upsert_finding_.Bind(5, r.address()).Bind(6, int64_t{r.port()}).Bind(7, finding.kind);
        upsert_finding_.Bind(8, finding.detail).Bind(9, int64_t{1}).Bind(10, fact.weight);
        RETURN_IF_ERROR(upsert_finding_.Run());
      }
    }

    mark_unit_.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, signature);
    RETURN_IF_ERROR(mark_unit_.Run());
    ++stats.units;
    return absl::OkStatus();
  }

 private:
  absl::Status WriteDomain(const std::string& scan_id, const std::string& region, int64_t shard,
                           const std::string& candidate, const std::vector<const Fact*>& rows,
                           const DomainVerdict& verdict, std::map<RollupKey, RollupValue>& rollup) {
    const Fact& decisive = *rows[verdict.decisive];
    const Fact& failing = *rows[verdict.failure_index];
    const ProbeResult& d = *decisive.result;
    const bool ok = d.failure() == v1::PROBE_OK;
    const Fact& shown = verdict.required == Required::kOk ? decisive : failing;
    const double weight = decisive.weight;
    auto add = [&](absl::string_view dimension, absl::string_view key) {
      RollupValue& value = rollup[{region, candidate, std::string(dimension), std::string(key)}];
      ++value.domains;
      value.weight += weight;
    };
    add("all", "all");
    if (weight != 1) add("weighted", "yes");
    add("required", RequiredName(verdict.required));
    add("opportunistic", OpportunisticName(verdict.opportunistic));
    if (verdict.required == Required::kFails)
      add("fail_class", FailureName(failing.result->failure()));
    add("failure_group",
        GroupName(verdict.required == Required::kOk ? FailureGroup::kOk : failing.group));
    add("failure", FailureName(verdict.required == Required::kOk ? 0 : failing.result->failure()));
    if (verdict.required != Required::kUnreachable) {
      add("starttls", d.failure() == v1::STARTTLS_NOT_OFFERED ? "not offered" : "offered");
    }
    if (ok) {
      const v1::TlsHandshake& tls = d.tls();
      add("version", VersionName(tls.version()));
      add("suite", tls.suite().iana_name().empty() ? "unknown" : tls.suite().iana_name());
      add("group", tls.group().empty() ? "none" : tls.group());
      add("trusted", YesNoUnchecked(d, tls.verification().trusted()));
      add("hostname_match", YesNoUnchecked(d, tls.verification().hostname_match()));
      if (tls.peer_chain_size() > 0) {
        const v1::CertificateSummary& leaf = tls.peer_chain(0);
        const bool expired =
            tls.verification().expired() ||
            (leaf.not_after_unix() != 0 && leaf.not_after_unix() < d.started_unix_ms() / 1000);
        add("expiry", expired                 ? "expired"
                      : decisive.expires_soon ? "expires within 30 days"
                                              : "valid 30+ days");
        add("key", absl::StrCat(leaf.key_type().empty() ? "unknown" : leaf.key_type(), " ",
                                leaf.key_bits()));
      }
    }
    SqliteStatement& s = insert_domain_;
    s.Bind(1, scan_id).Bind(2, candidate).Bind(3, region).Bind(4, decisive.domain);
    s.Bind(5, shard).Bind(6, static_cast<int64_t>(decisive.line_number)).Bind(7, weight);
    s.Bind(8, static_cast<int64_t>(verdict.required));
    s.Bind(9, static_cast<int64_t>(verdict.opportunistic));
    s.Bind(10, int64_t{shown.result->failure()}).Bind(11, shown.cause);
    s.Bind(12, shown.result->mx_host()).Bind(13, static_cast<int64_t>(rows.size()));
    s.Bind(14, int64_t{verdict.failing_endpoints});
    s.Bind(15, int64_t{ok ? d.tls().version() : 0});
    s.Bind(16, ok ? d.tls().suite().iana_name() : "");
    s.Bind(17, int64_t{ok ? SuiteRank(d.tls().suite().iana_name()) : 0});
    s.Bind(18, shown.result->provider());
    const bool needs_cause =
        verdict.required != Required::kOk || verdict.opportunistic == Opportunistic::kCleartext;
    const backends::FailureCause cause = needs_cause
                                             ? CauseOf(candidate, decisive.domain, *failing.result)
                                             : backends::FailureCause();
    s.Bind(19, cause.code).Bind(20, cause.sentence);
    // The certificate of the server that decided (NULL where none was checked).
    const v1::CertificateVerification& checked = d.tls().verification();
    if (ok && checked.performed()) {
      s.Bind(21, int64_t{checked.trusted()}).Bind(22, int64_t{checked.hostname_match()});
      s.Bind(23, int64_t{checked.expired()});
    } else {
      s.BindNull(21).BindNull(22).BindNull(23);
    }
    return s.Run();
  }

  // Why `candidate` failed at the endpoint of `live`: the negotiation model's reason when the
  // endpoint was enumerated and the model also predicts the failure, else the live failure's.
  backends::FailureCause CauseOf(const std::string& candidate, const std::string& domain,
                                 const ProbeResult& live) {
    auto enumerated = enumerations_.find({domain, live.mx_host(), live.address(), live.port()});
    auto meta = meta_->candidates.find(candidate);
    // The settings the MTA uses for this domain: an override's, where one applies.
    const v1::TlsClientSettings* settings =
        meta == meta_->candidates.end() ? nullptr : &meta->second.settings;
    if (auto index = meta_->overrides.find(candidate); index != meta_->overrides.end()) {
      settings = &index->second->For(domain);
      if (settings->tls_disabled()) {
        const v1::DomainOverride* override = index->second->OverrideFor(domain);
        return {"tls_disabled", absl::StrCat(candidate, " sends to this domain without TLS (",
                                             override->scope(), ")")};
      }
    }
    if (offers_ != nullptr && enumerated != enumerations_.end() && settings != nullptr &&
        backends::HasUsableEnumeration(*enumerated->second) &&
        GroupOf(live.failure()) == FailureGroup::kTls) {
      if (const backends::Offer* offer = offers_->Get(*settings); offer != nullptr) {
        const backends::Prediction prediction =
            backends::PredictNegotiation(enumerated->second->enumeration(), *offer);
        if (prediction.verdict != backends::Prediction::Verdict::kNegotiates) {
          backends::FailureCause cause = backends::ExplainPrediction(
              enumerated->second->enumeration(), *offer, prediction, candidate);
          if (!cause.code.empty()) return cause;
        }
      }
    }
    return backends::ExplainLiveFailure(live, candidate);
  }

  SqliteDb& db_;
  ScanReader& reader_;
  CandidateOffers* const offers_;
  const ScanMeta* meta_ = nullptr;
  std::map<std::tuple<std::string, std::string, std::string, uint32_t>, const ProbeResult*>
      enumerations_;
  SqliteStatement targets_, unreadable_, insert_domain_, upsert_endpoint_, insert_unit_endpoint_,
      insert_rollup_, mark_unit_, upsert_finding_;
};

// Takes a unit's rows out of the report tables (its endpoint contributions are subtracted).
absl::Status RemoveUnit(SqliteDb& db, const std::string& scan_id, const std::string& region,
                        int64_t shard) {
  ASSIGN_OR_RETURN(
      SqliteStatement subtract,
      db.Prepare("UPDATE report_endpoints AS e SET domains=e.domains-f.n, weight=e.weight-f.w "
                 "FROM (SELECT mx_host, address, port, candidate, domains AS n, weight AS w "
                 "FROM report_unit_endpoints WHERE scan_id=?1 AND region=?2 AND shard=?3) AS f "
                 "WHERE e.scan_id=?1 AND e.region=?2 AND e.mx_host=f.mx_host AND "
                 "e.address=f.address AND e.port=f.port AND e.candidate=f.candidate"));
  RETURN_IF_ERROR(subtract.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Run());
  for (const char* table : {"report_unit_endpoints", "report_domains", "report_rollup",
                            "report_units", "report_unreadable", "report_findings"}) {
    ASSIGN_OR_RETURN(SqliteStatement del,
                     db.Prepare(absl::StrCat("DELETE FROM ", table,
                                             " WHERE scan_id=? AND region=? AND shard=?")));
    RETURN_IF_ERROR(del.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> IndexedSignature(SqliteDb& db,
                                                            const std::string& scan_id,
                                                            const std::string& region,
                                                            int64_t shard) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT signature FROM report_units WHERE scan_id=? AND region=? "
                              "AND shard=?"));
  select.Bind(1, scan_id).Bind(2, region).Bind(3, shard);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(select.Text(0));
}

}  // namespace

absl::Status EnsureReportSchema(SqliteDb& db) {
  // The report tables are derived from the results: when their shape changes they are dropped
  // and built again by the next CatchUp, rather than migrated.
  RETURN_IF_ERROR(db.Exec("CREATE TABLE IF NOT EXISTS report_version(version INTEGER)"));
  ASSIGN_OR_RETURN(SqliteStatement select, db.Prepare("SELECT MAX(version) FROM report_version"));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (row && select.Int(0) == kReportTablesVersion) return db.Exec(kReportSchema);
  select.Reset();
  RETURN_IF_ERROR(db.Begin());
  absl::Status status;
  for (const char* table :
       {"report_facts", "report_unit_endpoints", "report_domains", "report_rollup", "report_units",
        "report_endpoints", "report_unreadable", "report_findings"}) {
    if (status.ok()) status = db.Exec(absl::StrCat("DROP TABLE IF EXISTS ", table));
  }
  if (status.ok()) status = db.Exec("DELETE FROM report_version");
  if (status.ok()) {
    status = db.Exec(absl::StrCat("INSERT INTO report_version VALUES(", kReportTablesVersion, ")"));
  }
  if (status.ok()) status = db.Exec(kReportSchema);
  if (!status.ok()) {
    db.Rollback();
    return status;
  }
  return db.Commit();
}

absl::Status DropIndex(SqliteDb& db, absl::string_view scan_id) {
  RETURN_IF_ERROR(db.Begin());
  for (const char* table :
       {"report_unit_endpoints", "report_domains", "report_rollup", "report_units",
        "report_endpoints", "report_unreadable", "report_findings"}) {
    auto del = db.Prepare(absl::StrCat("DELETE FROM ", table, " WHERE scan_id=?"));
    if (!del.ok()) {
      db.Rollback();
      return del.status();
    }
    if (absl::Status s = del->Bind(1, scan_id).Run(); !s.ok()) {
      db.Rollback();
      return s;
    }
  }
  return db.Commit();
}

absl::StatusOr<std::vector<FinalUnit>> UnindexedUnits(SqliteDb& db, ScanReader& reader,
                                                      absl::string_view scan_id) {
  ASSIGN_OR_RETURN(std::vector<FinalUnit> final_units, reader.FinalUnits(scan_id));
  ASSIGN_OR_RETURN(SqliteStatement indexed,
                   db.Prepare("SELECT scan_id, region, shard, signature FROM report_units "
                              "WHERE ?1='' OR scan_id=?1"));
  indexed.Bind(1, scan_id);
  absl::flat_hash_map<std::tuple<std::string, std::string, int64_t>, std::string> signatures;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, indexed.Step());
    if (!row) break;
    signatures[{indexed.Text(0), indexed.Text(1), indexed.Int(2)}] = indexed.Text(3);
  }
  std::vector<FinalUnit> unindexed;
  for (FinalUnit& unit : final_units) {
    auto known = signatures.find({unit.scan_id, unit.region, unit.shard});
    if (known == signatures.end() || known->second != unit.signature) {
      unindexed.push_back(std::move(unit));
    }
  }
  return unindexed;
}

absl::StatusOr<IndexStats> CatchUp(SqliteDb& db, absl::string_view scan_id,
                                   CandidateOffers* offers) {
  RETURN_IF_ERROR(EnsureReportSchema(db));
  ASSIGN_OR_RETURN(std::unique_ptr<ScanReader> reader, OpenSqliteScanReader(db));
  ASSIGN_OR_RETURN(std::vector<FinalUnit> pending, UnindexedUnits(db, *reader, scan_id));
  IndexStats stats;
  if (pending.empty()) return stats;
  UnitIndexer indexer(db, *reader, offers);
  RETURN_IF_ERROR(indexer.Prepare());
  std::map<std::string, ScanMeta> metas;
  for (const FinalUnit& unit : pending) {
    auto meta = metas.find(unit.scan_id);
    if (meta == metas.end()) {
      ASSIGN_OR_RETURN(ScanMeta loaded, LoadScanMeta(db, unit.scan_id));
      meta = metas.emplace(unit.scan_id, std::move(loaded)).first;
    }
    RETURN_IF_ERROR(db.Begin());
    // Another connection may have indexed the unit since the query above: look again, now
    // that this transaction holds the write lock.
    absl::StatusOr<std::optional<std::string>> current =
        IndexedSignature(db, unit.scan_id, unit.region, unit.shard);
    absl::Status status = current.status();
    if (status.ok() && current->has_value() && **current == unit.signature) {
      RETURN_IF_ERROR(db.Commit());
      continue;
    }
    if (status.ok() && current->has_value()) {
      status = RemoveUnit(db, unit.scan_id, unit.region, unit.shard);
    }
    if (status.ok()) {
      status =
          indexer.Index(unit.scan_id, meta->second, unit.region, unit.shard, unit.signature, stats);
    }
    if (!status.ok()) {
      db.Rollback();
      return status;
    }
    RETURN_IF_ERROR(db.Commit());
  }
  return stats;
}

}  // namespace tlsweep::coordinator::report
