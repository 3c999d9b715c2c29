#include "agent/enumerate/offer_plan.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"

namespace tlsweep::agent {
namespace {

using backends::Backend;
using backends::ClientConfig;
using backends::TlsVersion;

std::string GnutlsBase(TlsVersion version) {
  std::string base = kWidestGnutlsPriority;
  if (version == TlsVersion::kTls1_3) {
    const size_t at = base.find(kGnutlsTls13Exclusion);
    if (at != std::string::npos) base.erase(at, std::string(kGnutlsTls13Exclusion).size());
  }
  return base;
}

ClientConfig WidestConfig(OfferLanguage language, TlsVersion version) {
  ClientConfig config;
  switch (language) {
    case OfferLanguage::kOpenssl:
      config.ciphers.openssl_ciphers = kWidestOpensslCiphers;
      config.ciphers.openssl_ciphersuites = kWidestOpensslCiphersuites;
      break;
    case OfferLanguage::kGnutls:
      config.ciphers.gnutls_priority = GnutlsBase(version);
      break;
    case OfferLanguage::kRawHello:
      config.ciphers.openssl_ciphers = kWidestRawCiphers;
      config.ciphers.openssl_ciphersuites = kWidestRawCiphers;
      break;
  }
  config.min_version = version;
  config.max_version = version;
  config.legacy = true;
  return config;
}

// Which language the backend takes: the first whose widest config it accepts. The raw language
// comes last: OpenSSL also takes a bare "ALL", and the raw backend refuses the other two (rule
// syntax, a priority string alone).
std::optional<OfferLanguage> DetectLanguage(Backend& backend, std::string& why_not) {
  for (OfferLanguage language :
       {OfferLanguage::kOpenssl, OfferLanguage::kGnutls, OfferLanguage::kRawHello}) {
    ClientConfig config = WidestConfig(language, TlsVersion::kTls1_2);
    config.min_version.reset();
    config.max_version.reset();
    absl::StatusOr<backends::Offer> offer = backend.Expand(config);
    if (offer.ok()) return language;
    absl::StrAppend(&why_not, why_not.empty() ? "" : "; ", offer.status().message());
  }
  return std::nullopt;
}

// The code points Expand(config) lists at `version`, or at every version if `version` is
// kUnknown.
absl::StatusOr<absl::flat_hash_set<uint16_t>> ExpandedCodes(Backend& backend,
                                                            const ClientConfig& config) {
  absl::StatusOr<backends::Offer> offer = backend.Expand(config);
  if (!offer.ok()) return offer.status();
  absl::flat_hash_set<uint16_t> codes;
  for (const backends::OfferedSuite& suite : offer->suites) codes.insert(suite.code_point);
  return codes;
}

// For the GnuTLS language: which tokens each suite needs, by removing one token at a time from
// the widest priority (per base: TLS 1.3 suites are only offered by the TLS 1.3 base).
absl::flat_hash_map<uint16_t, SuiteTokens> DiscoverTokens(Backend& backend) {
  absl::flat_hash_map<uint16_t, SuiteTokens> tokens;
  for (bool tls13 : {false, true}) {
    ClientConfig base;
    base.ciphers.gnutls_priority = GnutlsBase(tls13 ? TlsVersion::kTls1_3 : TlsVersion::kTls1_2);
    base.legacy = true;
    absl::StatusOr<absl::flat_hash_set<uint16_t>> all = ExpandedCodes(backend, base);
    if (!all.ok()) continue;
    for (int dim = 0; dim < kDimensions; ++dim) {
      for (const std::string& token : GnutlsTokens()[dim]) {
        ClientConfig without = base;
        absl::StrAppend(&without.ciphers.gnutls_priority, ":-", token);
        absl::StatusOr<absl::flat_hash_set<uint16_t>> left = ExpandedCodes(backend, without);
        if (!left.ok()) continue;
        for (uint16_t code : *all) {
          if (backends::IsTls13Suite(code) != tls13 || left->contains(code)) continue;
          tokens[code][dim].push_back(token);
        }
      }
    }
  }
  return tokens;
}

const SuiteTokens* TokensOf(const BackendOffer& offer, uint16_t code) {
  auto it = offer.tokens.find(code);
  return it == offer.tokens.end() ? nullptr : &it->second;
}

}  // namespace

const std::array<std::vector<std::string>, kDimensions>& GnutlsTokens() {
  static const std::array<std::vector<std::string>, kDimensions> kTokens = {
      std::vector<std::string>{"RSA", "DHE-RSA", "DHE-DSS", "ECDHE-RSA", "ECDHE-ECDSA", "ANON-DH",
                               "ANON-ECDH"},
      std::vector<std::string>{"AES-128-CBC", "AES-256-CBC", "AES-128-GCM", "AES-256-GCM",
                               "AES-128-CCM", "AES-256-CCM", "AES-128-CCM-8", "AES-256-CCM-8",
                               "CAMELLIA-128-CBC", "CAMELLIA-256-CBC", "CAMELLIA-128-GCM",
                               "CAMELLIA-256-GCM", "CHACHA20-POLY1305", "3DES-CBC", "ARCFOUR-128",
                               "NULL"},
      std::vector<std::string>{"SHA1", "SHA256", "SHA384", "MD5", "AEAD"},
  };
  return kTokens;
}

bool BackendOffer::Offers(uint16_t code_point) const {
  return std::any_of(suites.begin(), suites.end(), [&](const backends::OfferedSuite& suite) {
    return suite.code_point == code_point;
  });
}

std::string BackendOffer::LibraryName(uint16_t code_point) const {
  for (const backends::OfferedSuite& suite : suites) {
    if (suite.code_point == code_point && !suite.library_name.empty()) return suite.library_name;
  }
  const backends::CipherSuiteInfo* info = backends::FindCipherSuite(code_point);
  return info != nullptr ? std::string(info->openssl_name) : "";
}

bool DefinedAt(uint16_t code_point, TlsVersion version) {
  if (code_point == 0x0000) return false;  // TLS_NULL_WITH_NULL_NULL: never negotiated.
  const backends::CipherSuiteInfo* info = backends::FindCipherSuite(code_point);
  if (info == nullptr) return false;
  if (backends::IsTls13Suite(code_point)) return version == TlsVersion::kTls1_3;
  return version != TlsVersion::kTls1_3 && info->min_version <= version;
}

absl::StatusOr<PreparedHello> PrepareHello(Backend& backend, const ClientConfig& config) {
  absl::StatusOr<std::unique_ptr<backends::TlsEngine>> engine = backend.NewClient(config);
  if (!engine.ok()) return engine.status();
  if ((*engine)->Advance() == backends::HandshakeState::kFailed) {
    return absl::InvalidArgumentError(absl::StrCat(
        backend.Name(), " writes no ClientHello: ", (*engine)->Outcome().library_error));
  }
  PreparedHello hello;
  hello.records = (*engine)->TakeOutput();
  absl::StatusOr<backends::ClientHello> parsed = backends::ParseClientHello(hello.records);
  if (!parsed.ok()) {
    return absl::InternalError(absl::StrCat(
        backend.Name(), " wrote an unreadable ClientHello: ", parsed.status().message()));
  }
  hello.parsed = *std::move(parsed);
  return hello;
}

absl::StatusOr<OfferPlan> BuildOfferPlan(absl::Span<Backend* const> backends) {
  OfferPlan plan;
  for (TlsVersion version : backends::AllTlsVersions()) {
    plan.versions.emplace_back().version = version;
  }
  std::vector<std::pair<OfferLanguage, Backend*>> usable;
  for (Backend* backend : backends) {
    std::string why_not;
    std::optional<OfferLanguage> language = DetectLanguage(*backend, why_not);
    if (!language.has_value()) {
      plan.notes.push_back(absl::StrCat(backend->Name(), ": no widest config: ", why_not));
      continue;
    }
    usable.emplace_back(*language, backend);
  }
  // Exact library offers first: the OpenSSL language removes one suite at a time at no extra
  // cost. The raw backend last: it only gets what no library can offer, because a library's
  // suites can be confirmed by complete handshakes and its suites cannot.
  std::stable_sort(usable.begin(), usable.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->Name() < b.second->Name();
  });

  for (const auto& [language, backend] : usable) {
    absl::flat_hash_map<uint16_t, SuiteTokens> tokens;
    if (language == OfferLanguage::kGnutls) tokens = DiscoverTokens(*backend);
    const std::vector<TlsVersion> speakable = backend->SpeakableVersions();
    bool contributed = false;
    for (VersionPlan& version_plan : plan.versions) {
      const TlsVersion version = version_plan.version;
      if (std::find(speakable.begin(), speakable.end(), version) == speakable.end()) continue;
      const ClientConfig config = WidestConfig(language, version);
      absl::StatusOr<PreparedHello> hello = PrepareHello(*backend, config);
      if (!hello.ok()) {
        plan.notes.push_back(absl::StrCat(backend->Name(), " offers no ",
                                          backends::TlsVersionName(version), ": ",
                                          hello.status().message()));
        continue;
      }
      absl::flat_hash_map<uint16_t, std::string> names;
      if (absl::StatusOr<backends::Offer> expanded = backend->Expand(config); expanded.ok()) {
        for (const backends::OfferedSuite& suite : expanded->suites) {
          names.emplace(suite.code_point, suite.library_name);
        }
      }
      BackendOffer offer;
      offer.backend = backend;
      offer.language = language;
      offer.groups = hello->parsed.supported_groups;
      for (uint16_t code : hello->parsed.cipher_suites) {
        if (!DefinedAt(code, version) || offer.Offers(code)) continue;
        offer.suites.push_back({version, code, names.contains(code) ? names[code] : ""});
        if (language == OfferLanguage::kGnutls && tokens.contains(code)) {
          offer.tokens[code] = tokens[code];
        }
      }
      if (offer.suites.empty()) continue;
      version_plan.offers.push_back(std::move(offer));
      contributed = true;
    }
    if (contributed) plan.backends.emplace_back(backend->Name());
  }
  if (plan.backends.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no loaded backend can make an enumeration offer: ", absl::StrJoin(plan.notes, "; ")));
  }

  for (VersionPlan& version_plan : plan.versions) {
    for (const backends::CipherSuiteInfo& info : backends::AllCipherSuites()) {
      if (!DefinedAt(info.code_point, version_plan.version)) continue;
      const bool offered =
          std::any_of(version_plan.offers.begin(), version_plan.offers.end(),
                      [&](const BackendOffer& offer) { return offer.Offers(info.code_point); });
      if (!offered) version_plan.untested_suites.push_back(info.code_point);
    }
  }
  return plan;
}

absl::StatusOr<ClientConfig> ConfigFor(const BackendOffer& offer, TlsVersion version,
                                       absl::Span<const uint16_t> suites,
                                       absl::Span<const uint16_t> groups) {
  if (suites.empty()) return absl::InvalidArgumentError("no suite to offer");
  ClientConfig config = WidestConfig(offer.language, version);
  config.groups.assign(groups.begin(), groups.end());
  if (offer.language == OfferLanguage::kRawHello) {
    // Code points: the raw language's own names for every suite, table or not.
    std::vector<std::string> codes;
    for (uint16_t code : suites) codes.push_back(absl::StrFormat("0x%04x", code));
    if (version == TlsVersion::kTls1_3) {
      config.ciphers.openssl_ciphersuites = absl::StrJoin(codes, ":");
      config.ciphers.openssl_ciphers = "";
    } else {
      config.ciphers.openssl_ciphers = absl::StrJoin(codes, ":");
      config.ciphers.openssl_ciphersuites = "";
    }
    return config;
  }
  if (offer.language == OfferLanguage::kOpenssl) {
    std::vector<std::string> names;
    for (uint16_t code : suites) {
      std::string name = offer.LibraryName(code);
      if (name.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(offer.backend->Name(), " has no name for ",
                                                       backends::CipherSuiteName(code)));
      }
      names.push_back(std::move(name));
    }
    if (version == TlsVersion::kTls1_3) {
      config.ciphers.openssl_ciphersuites = absl::StrJoin(names, ":");
      config.ciphers.openssl_ciphers.clear();
    } else {
      config.ciphers.openssl_ciphers = absl::StrJoin(names, ":");
    }
    return config;
  }
  // GnuTLS: remove, dimension by dimension, every token that none of `suites` needs. A
  // dimension in which some suite needs no particular token keeps all of them.
  for (int dim = 0; dim < kDimensions; ++dim) {
    std::set<std::string> needed;
    bool restrictable = true;
    for (uint16_t code : suites) {
      const SuiteTokens* tokens = TokensOf(offer, code);
      if (tokens == nullptr || (*tokens)[dim].empty()) {
        restrictable = false;
        break;
      }
      needed.insert((*tokens)[dim].begin(), (*tokens)[dim].end());
    }
    if (!restrictable) continue;
    for (const std::string& token : GnutlsTokens()[dim]) {
      if (!needed.contains(token)) absl::StrAppend(&config.ciphers.gnutls_priority, ":-", token);
    }
  }
  return config;
}

std::vector<std::vector<uint16_t>> SplitAround(const BackendOffer& offer,
                                               absl::Span<const uint16_t> suites, uint16_t avoid,
                                               std::vector<uint16_t>& inseparable) {
  std::vector<std::vector<uint16_t>> parts;
  std::vector<uint16_t> rest(suites.begin(), suites.end());
  const SuiteTokens* avoid_tokens = TokensOf(offer, avoid);
  for (int dim = 0; dim < kDimensions && avoid_tokens != nullptr; ++dim) {
    if ((*avoid_tokens)[dim].empty()) continue;
    std::vector<uint16_t> differ, same;
    for (uint16_t code : rest) {
      const SuiteTokens* tokens = TokensOf(offer, code);
      const bool differs =
          tokens != nullptr && !(*tokens)[dim].empty() && (*tokens)[dim] != (*avoid_tokens)[dim];
      (differs ? differ : same).push_back(code);
    }
    if (!differ.empty()) parts.push_back(std::move(differ));
    rest = std::move(same);
  }
  inseparable.insert(inseparable.end(), rest.begin(), rest.end());
  return parts;
}

}  // namespace tlsweep::agent
