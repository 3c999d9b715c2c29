#include "coordinator/report/advice.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/captured_hello.h"
#include "backends/cipher_suite_table.h"
#include "backends/negotiation/negotiation_model.h"
#include "backends/negotiation/whatif_evaluator.h"
#include "backends/probe_kind.h"
#include "backends/status_macros.h"
#include "backends/tls_version_proto.h"
#include "coordinator/report/verdict.h"
#include "coordinator/store/scan_reader.h"

namespace tlsweep::coordinator::report {
namespace {

using ::tlsweep::v1::ProbeResult;
using ::tlsweep::v1::TlsClientSettings;

constexpr int kMaxSteps = 3;
constexpr size_t kMaxSuiteChoices = 24;  // The suites most newly failing volume accepts.
// OpenSSL 3.0's own TLS 1.3 list: what an empty openssl_ciphersuites means.
constexpr char kDefaultTls13[] =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

struct NewlyFailing {
  double weight = 1;
  std::vector<ProbeResult> enumerations;  // One per MX endpoint that was enumerated.
};

// One change to a candidate's settings.
struct Addition {
  enum class Kind { kCipher, kCiphersuite, kMinVersion, kLegacy };
  Kind kind;
  std::string name;  // OpenSSL suite name, or IANA for TLS 1.3.
  v1::TlsVersion version = v1::TLS_VERSION_UNSPECIFIED;

  std::string Describe() const {
    switch (kind) {
      case Kind::kCipher:
      case Kind::kCiphersuite:
        return absl::StrCat("add ", name);
      case Kind::kMinVersion:
        return absl::StrCat("allow ", VersionName(version));
      case Kind::kLegacy:
        return "OpenSSL security level 0 (legacy: SHA-1 signatures, small keys)";
    }
    return "";
  }
  bool operator<(const Addition& o) const {
    return std::tie(kind, name, version) < std::tie(o.kind, o.name, o.version);
  }
};

TlsClientSettings Apply(TlsClientSettings settings, const Addition& addition) {
  const bool gnutls = settings.backend() == "gnutls";
  switch (addition.kind) {
    case Addition::Kind::kCipher:
      settings.set_openssl_ciphers(
          absl::StrCat(settings.openssl_ciphers().empty() ? "DEFAULT" : settings.openssl_ciphers(),
                       ":", addition.name));
      break;
    case Addition::Kind::kCiphersuite:
      settings.set_openssl_ciphersuites(absl::StrCat(
          settings.openssl_ciphersuites().empty() ? kDefaultTls13 : settings.openssl_ciphersuites(),
          ":", addition.name));
      break;
    case Addition::Kind::kMinVersion:
      settings.set_min_version(addition.version);
      if (gnutls && !settings.gnutls_priority().empty()) {
        static const std::map<v1::TlsVersion, const char*> kToken = {{v1::TLSV1_0, "+VERS-TLS1.0"},
                                                                     {v1::TLSV1_1, "+VERS-TLS1.1"},
                                                                     {v1::TLSV1_2, "+VERS-TLS1.2"}};
        if (auto token = kToken.find(addition.version); token != kToken.end()) {
          settings.set_gnutls_priority(
              absl::StrCat(settings.gnutls_priority(), ":", token->second));
        }
      }
      break;
    case Addition::Kind::kLegacy:
      settings.set_legacy(true);
      break;
  }
  return settings;
}

// Newly failing domains it rescues: one of its MX endpoints surely negotiates.
Count Rescued(const std::vector<NewlyFailing>& domains, const backends::Offer& offer) {
  Count rescued;
  for (const NewlyFailing& domain : domains) {
    for (const ProbeResult& endpoint : domain.enumerations) {
      const backends::Prediction p = backends::PredictNegotiation(endpoint.enumeration(), offer);
      if (p.verdict == backends::Prediction::Verdict::kNegotiates && backends::IsSure(p)) {
        ++rescued.domains;
        rescued.weight += domain.weight;
        break;
      }
    }
  }
  return rescued;
}

// What could help: suites the failing servers accept that the candidate does not offer, lower
// versions they speak, and (OpenSSL) security level 0.
std::vector<Addition> Choices(const TlsClientSettings& settings, const backends::Offer& offer,
                              const std::vector<NewlyFailing>& domains) {
  std::set<uint16_t> offered;
  for (const backends::OfferedSuite& suite : offer.suites) offered.insert(suite.code_point);
  const v1::TlsVersion min_offered =
      offer.versions.empty() ? v1::TLSV1_3 : backends::VersionToProto(offer.versions.front());
  const bool gnutls = settings.backend() == "gnutls";
  std::map<Addition, double> weights;
  for (const NewlyFailing& domain : domains) {
    std::set<Addition> seen;  // Count each domain once per choice.
    for (const ProbeResult& endpoint : domain.enumerations) {
      for (const v1::VersionEnumeration& version : endpoint.enumeration().versions()) {
        if (version.status() != v1::VersionEnumeration::SUPPORTED) continue;
        if (version.version() < min_offered && version.version() >= v1::TLSV1_0) {
          seen.insert({Addition::Kind::kMinVersion, "", version.version()});
        }
        if (gnutls) continue;  // GnuTLS suites are priority tokens, not names to append.
        for (const v1::CipherSuite& suite : version.suites()) {
          const uint16_t code = static_cast<uint16_t>(suite.code_point());
          if (offered.contains(code)) continue;
          const backends::CipherSuiteInfo* info = backends::FindCipherSuite(code);
          if (info == nullptr) continue;
          if (version.version() == v1::TLSV1_3) {
            seen.insert({Addition::Kind::kCiphersuite, std::string(info->iana_name)});
          } else if (!info->openssl_name.empty()) {
            seen.insert({Addition::Kind::kCipher, std::string(info->openssl_name)});
          }
        }
      }
    }
    for (const Addition& addition : seen) weights[addition] += domain.weight;
  }
  std::vector<std::pair<double, Addition>> ranked;
  for (const auto& [addition, weight] : weights) ranked.emplace_back(weight, addition);
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Addition> choices;
  size_t suites = 0;
  for (const auto& [weight, addition] : ranked) {
    const bool suite =
        addition.kind == Addition::Kind::kCipher || addition.kind == Addition::Kind::kCiphersuite;
    if (suite && ++suites > kMaxSuiteChoices) continue;
    choices.push_back(addition);
  }
  if (!gnutls && !settings.legacy()) choices.push_back({Addition::Kind::kLegacy, ""});
  return choices;
}

std::vector<std::string> PasteLines(const TlsClientSettings& s) {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("tlsweep: --candidate '", backends::FormatCandidateSpec(s), "'"));
  if (s.backend() == "gnutls") {
    if (!s.gnutls_priority().empty()) {
      lines.push_back(absl::StrCat("GnuTLS priority: ", s.gnutls_priority()));
      lines.push_back(absl::StrCat("ecelerity.conf: tls_ciphers = \"", s.gnutls_priority(), "\""));
    }
    return lines;
  }
  std::string ciphers = s.openssl_ciphers().empty() ? "DEFAULT" : s.openssl_ciphers();
  if (s.legacy() && ciphers.find("@SECLEVEL") == std::string::npos) ciphers += ":@SECLEVEL=0";
  lines.push_back(absl::StrCat("OpenSSL ciphers: ", ciphers));
  std::string protocols = "+TLSv1.2:+TLSv1.3";
  std::string postfix_protocols = ">=TLSv1.2";
  if (s.min_version() != v1::TLS_VERSION_UNSPECIFIED) {
    postfix_protocols = absl::StrCat(">=", VersionName(s.min_version()));
    std::vector<std::string> names;
    for (int v = s.min_version(); v <= v1::TLSV1_3; ++v) {
      names.push_back(absl::StrCat("+", VersionName(v)));
    }
    protocols = absl::StrJoin(names, ":");
  }
  lines.push_back(absl::StrCat("ecelerity.conf: tls_ciphers = \"", ciphers,
                               "\"; tls_protocols = \"", protocols, "\""));
  lines.push_back(absl::StrCat("main.cf: tls_high_cipherlist = ", ciphers,
                               " (with smtp_tls_mandatory_ciphers = high); "
                               "smtp_tls_mandatory_protocols = ",
                               postfix_protocols));
  if (!s.openssl_ciphersuites().empty()) {
    lines.push_back(absl::StrCat("TLS 1.3 suites: ", s.openssl_ciphersuites()));
  }
  return lines;
}

}  // namespace

absl::Status LoadAdvice(SqliteDb& db, const ReportOptions& options, CandidateOffers& offers,
                        Report& report) {
  if (!report.delta.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(SqliteStatement profile_row,
                   db.Prepare("SELECT profile FROM scans WHERE scan_id=?"));
  profile_row.Bind(1, options.scan_id);
  ASSIGN_OR_RETURN(bool found, profile_row.Step());
  if (!found) return absl::OkStatus();
  v1::ProbeProfile profile;
  if (!profile.ParseFromString(profile_row.Blob(0)) || !profile.enumerate()) {
    return absl::OkStatus();  // Advice comes from enumerations only.
  }
  ASSIGN_OR_RETURN(
      SqliteStatement failing,
      db.Prepare("SELECT n.region, n.shard, n.line_number, n.weight FROM report_domains o JOIN "
                 "report_domains n ON n.scan_id=o.scan_id AND n.candidate=?3 AND "
                 "n.region=o.region AND n.domain=o.domain WHERE o.scan_id=?1 AND o.candidate=?2 "
                 "AND o.required IN (0, 1) AND n.required = 2"));
  ASSIGN_OR_RETURN(std::unique_ptr<ScanReader> reader, OpenSqliteScanReader(db));
  for (const v1::TlsClientSettings& settings : profile.candidates()) {
    const std::string name = settings.name().empty() ? "default" : settings.name();
    if (!settings.variant_of().empty() || name == report.delta->baseline) continue;
    // A captured hello (`tlsweep capture`) is what an MTA sends, not a config string to edit.
    if (settings.backend() == backends::kCapturedHelloBackend) continue;
    if (std::none_of(report.candidates.begin(), report.candidates.end(),
                     [&](const CandidateInfo& c) { return c.name == name; })) {
      continue;
    }
    // The newly failing domains by unit, so that each unit's results are read once.
    std::map<std::pair<std::string, int64_t>, std::map<int64_t, NewlyFailing>> by_unit;
    failing.Bind(1, options.scan_id).Bind(2, report.delta->baseline).Bind(3, name);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, failing.Step());
      if (!row) break;
      by_unit[{failing.Text(0), failing.Int(1)}][failing.Int(2)].weight = failing.Double(3);
    }
    failing.Reset();
    std::vector<NewlyFailing> domains;
    for (auto& [unit, lines] : by_unit) {
      RETURN_IF_ERROR(
          reader->ReadShard(options.scan_id, unit.first, unit.second, [&](ShardResult& row) {
            if (!row.readable || backends::ProbeKindOf(row.result) != v1::PROBE_KIND_ENUMERATE ||
                !backends::HasUsableEnumeration(row.result)) {
              return absl::OkStatus();
            }
            auto domain = lines.find(static_cast<int64_t>(row.result.line_number()));
            if (domain != lines.end()) domain->second.enumerations.push_back(std::move(row.result));
            return absl::OkStatus();
          }));
      for (auto& [line, domain] : lines) {
        if (!domain.enumerations.empty()) domains.push_back(std::move(domain));
      }
    }
    if (domains.empty()) continue;
    Count total;
    for (const NewlyFailing& d : domains) {
      ++total.domains;
      total.weight += d.weight;
    }

    TlsClientSettings current = settings;
    current.clear_overrides();
    const backends::Offer* offer = offers.Get(current);
    if (offer == nullptr) continue;
    Count rescued = Rescued(domains, *offer);
    for (int step = 1; step <= kMaxSteps; ++step) {
      std::optional<std::pair<Addition, Count>> best;
      for (const Addition& addition : Choices(current, *offer, domains)) {
        const backends::Offer* advised = offers.Get(Apply(current, addition));
        if (advised == nullptr) continue;  // The backend cannot build it: no advice.
        const Count with = Rescued(domains, *advised);
        if (with.weight <= rescued.weight) continue;
        if (!best || with.weight > best->second.weight ||
            (with.weight == best->second.weight && with.domains > best->second.domains)) {
          best.emplace(addition, with);
        }
      }
      if (!best) break;
      current = Apply(current, best->first);
      offer = offers.Get(current);
      rescued = best->second;
      AdviceStep advice;
      advice.candidate = name;
      advice.step = step;
      advice.addition = best->first.Describe();
      advice.rescued = rescued;
      advice.newly_failing = total;
      advice.spec = backends::FormatCandidateSpec(current);
      advice.paste = PasteLines(current);
      report.advice.push_back(std::move(advice));
      if (rescued.domains == total.domains) break;
    }
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::coordinator::report
