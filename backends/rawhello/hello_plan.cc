#include "backends/rawhello/hello_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "backends/cipher_suite_table.h"
#include "backends/hello_parser.h"
#include "backends/rawhello/cipher_list.h"
#include "backends/rawhello/signature_schemes.h"

namespace tlsweep::backends::rawhello {
namespace {

// RFC 7919 finite-field groups: OpenSSL 3.0 sends them only when TLS 1.3 is offered (a TLS 1.2
// server that honours RFC 7919 would otherwise refuse DHE when it has none of them).
bool IsFfdhe(uint16_t group) { return group >= 256 && group <= 511; }

// A TLS <= 1.2 suite whose key exchange or certificate is elliptic-curve: the client must then
// say which curves and point formats it takes (RFC 8422 5.1).
bool UsesEcc(uint16_t code) {
  const CipherSuiteInfo* suite = FindCipherSuite(code);
  if (suite == nullptr || IsTls13Suite(code)) return false;
  return suite->key_exchange == "ECDH" || suite->key_exchange == "ECDH/ECDSA" ||
         suite->key_exchange == "ECDH/RSA" || suite->key_exchange == "ECDHEPSK" ||
         suite->key_exchange == "CECPQ1" || suite->authentication == "ECDSA";
}

// Whether `code` belongs in a hello offering `versions`: a suite defined for none of them is
// left out, as real clients leave out what they cannot negotiate.
bool Placeable(uint16_t code, const std::vector<TlsVersion>& versions) {
  if (IsScsv(code)) return true;
  const bool tls13_suite = IsTls13Suite(code);
  const CipherSuiteInfo* suite = FindCipherSuite(code);
  return std::any_of(versions.begin(), versions.end(), [&](TlsVersion version) {
    if ((version == TlsVersion::kTls1_3) != tls13_suite) return false;
    return suite == nullptr || suite->min_version <= version;
  });
}

// Whether the server may pick `code` at `version` (Expand's per-version lists).
bool OfferedAt(uint16_t code, TlsVersion version) {
  if (IsScsv(code) || IsGrease(code) || code == 0x0000) return false;
  if (IsTls13Suite(code) != (version == TlsVersion::kTls1_3)) return false;
  const CipherSuiteInfo* suite = FindCipherSuite(code);
  return suite == nullptr || suite->min_version <= version;
}

bool HasRealSuite(const std::vector<uint16_t>& suites) {
  return std::any_of(suites.begin(), suites.end(), [](uint16_t code) { return !IsScsv(code); });
}

void AppendPlaceable(const std::vector<uint16_t>& from, const std::vector<TlsVersion>& versions,
                     std::vector<uint16_t>& to) {
  for (uint16_t code : from) {
    if (!Placeable(code, versions)) continue;
    if (std::find(to.begin(), to.end(), code) == to.end()) to.push_back(code);
  }
}

std::string RangeText(TlsVersion min, TlsVersion max) {
  return absl::StrCat(TlsVersionName(min), "..", TlsVersionName(max));
}

}  // namespace

bool HelloPlan::Offers(TlsVersion version) const {
  return std::find(versions.begin(), versions.end(), version) != versions.end();
}

bool HelloPlan::has_extensions() const {
  return format == HelloFormat::kTls &&
         client_version >= static_cast<uint16_t>(TlsVersion::kTls1_0);
}

const std::vector<TlsVersion>& RawSpeakableVersions() {
  static const std::vector<TlsVersion> kVersions = {TlsVersion::kSsl3, TlsVersion::kTls1_0,
                                                    TlsVersion::kTls1_1, TlsVersion::kTls1_2,
                                                    TlsVersion::kTls1_3};
  return kVersions;
}

const std::vector<uint16_t>& DefaultGroups() {
  static const std::vector<uint16_t> kGroups = {29, 23, 30, 25, 24, 256, 257, 258, 259, 260};
  return kGroups;
}

bool CanMakeKeyShare(uint16_t group) {
  switch (group) {
    case 23:
    case 24:
    case 25:
    case 29:
    case 30:
    case 256:
    case 257:
    case 258:
    case 259:
    case 260:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<HelloPlan> PlanHello(const ClientConfig& config) {
  const CipherSpec& spec = config.ciphers;
  if (!spec.gnutls_priority.empty() && spec.openssl_ciphers.empty() &&
      spec.openssl_ciphersuites.empty()) {
    return absl::InvalidArgumentError(
        "the rawhello backend takes suite lists in the OpenSSL fields (--ciphers / "
        "--ciphersuites), not a GnuTLS priority string");
  }
  CipherList legacy_list, tls13_list;
  if (spec.openssl_ciphers.empty()) {
    absl::StatusOr<CipherList> all = ParseCipherList("ALL", CipherField::kCiphers);
    if (!all.ok()) return all.status();
    legacy_list = *std::move(all);
  } else {
    absl::StatusOr<CipherList> parsed =
        ParseCipherList(spec.openssl_ciphers, CipherField::kCiphers);
    if (!parsed.ok()) return parsed.status();
    legacy_list = *std::move(parsed);
  }
  if (spec.openssl_ciphersuites.empty()) {
    tls13_list.suites = DefaultTls13Suites();
  } else {
    absl::StatusOr<CipherList> parsed =
        ParseCipherList(spec.openssl_ciphersuites, CipherField::kCiphersuites);
    if (!parsed.ok()) return parsed.status();
    tls13_list = *std::move(parsed);
  }

  // The legacy switch lifts the floor to SSLv3; explicit bounds always win.
  const TlsVersion min =
      config.min_version.value_or(config.legacy ? TlsVersion::kSsl3 : TlsVersion::kTls1_0);
  const TlsVersion max = config.max_version.value_or(TlsVersion::kTls1_3);
  const std::vector<TlsVersion>& speakable = RawSpeakableVersions();
  for (TlsVersion bound : {min, max}) {
    if (std::find(speakable.begin(), speakable.end(), bound) == speakable.end()) {
      return absl::InvalidArgumentError(absl::StrCat("the rawhello backend cannot offer version 0x",
                                                     absl::Hex(static_cast<uint16_t>(bound))));
    }
  }
  if (max < min) {
    return absl::InvalidArgumentError(absl::StrCat("empty version range ", RangeText(min, max)));
  }
  std::vector<TlsVersion> range;
  for (TlsVersion version : speakable) {
    if (min <= version && version <= max) range.push_back(version);
  }

  HelloPlan plan;
  plan.sslv2_specs = legacy_list.sslv2_specs;
  for (uint32_t code : tls13_list.sslv2_specs) {
    if (std::find(plan.sslv2_specs.begin(), plan.sslv2_specs.end(), code) ==
        plan.sslv2_specs.end()) {
      plan.sslv2_specs.push_back(code);
    }
  }

  if (!plan.sslv2_specs.empty()) {
    // SSLv2 record format: no extensions, so no TLS 1.3. With TLS suites as well it is the
    // SSLv2-compatible hello of 1990s clients, which a TLS server may answer in TLS.
    plan.format = HelloFormat::kSslv2;
    std::vector<TlsVersion> tls_range;
    for (TlsVersion version : range) {
      if (version != TlsVersion::kTls1_3) tls_range.push_back(version);
    }
    if (!HasRealSuite(legacy_list.suites)) {  // SSLv2 specs only: a pure SSLv2 hello.
      plan.client_version = kSsl2WireVersion;
      return plan;
    }
    AppendPlaceable(legacy_list.suites, tls_range, plan.suites);
    if (!HasRealSuite(plan.suites)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rawhello: an SSLv2-format hello cannot offer TLS 1.3, and the cipher list selects no "
          "suite defined for ",
          RangeText(min, max)));
    }
    plan.versions = tls_range;
    plan.client_version = static_cast<uint16_t>(plan.versions.back());
    if (std::find(plan.suites.begin(), plan.suites.end(), kRenegotiationScsv) ==
        plan.suites.end()) {
      plan.suites.push_back(kRenegotiationScsv);
    }
    return plan;
  }

  plan.versions = range;
  plan.tls13 = plan.Offers(TlsVersion::kTls1_3);
  AppendPlaceable(tls13_list.suites, range, plan.suites);
  AppendPlaceable(legacy_list.suites, range, plan.suites);
  if (!HasRealSuite(plan.suites)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rawhello: the cipher lists select no suite defined for ", RangeText(min, max)));
  }
  // As OpenSSL does on a first handshake: the SCSV rather than an empty renegotiation_info
  // extension, so that SSLv3 hellos (which carry no extensions) signal it too.
  if (std::find(plan.suites.begin(), plan.suites.end(), kRenegotiationScsv) == plan.suites.end()) {
    plan.suites.push_back(kRenegotiationScsv);
  }
  const TlsVersion highest_legacy = std::min(max, TlsVersion::kTls1_2);
  plan.client_version = static_cast<uint16_t>(highest_legacy);
  plan.record_version =
      static_cast<uint16_t>(max == TlsVersion::kSsl3 ? TlsVersion::kSsl3 : TlsVersion::kTls1_0);
  if (!plan.has_extensions()) return plan;  // SSLv3 only: a bare hello.

  if (config.sni.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat("SNI name too long: ", config.sni.size()));
  }
  plan.sni = config.sni;
  const bool ecc = std::any_of(plan.suites.begin(), plan.suites.end(), UsesEcc);
  plan.ec_point_formats = ecc;
  if (ecc || plan.tls13) {
    for (uint16_t group : config.groups.empty() ? DefaultGroups() : config.groups) {
      if (IsGrease(group) || (!plan.tls13 && IsFfdhe(group))) continue;
      if (std::find(plan.supported_groups.begin(), plan.supported_groups.end(), group) ==
          plan.supported_groups.end()) {
        plan.supported_groups.push_back(group);
      }
    }
  }
  if (TlsVersion::kTls1_2 <= max) plan.signature_schemes = DefaultSignatureSchemes();
  if (plan.tls13) {
    // One key share, for the first group the backend can make a key for (OpenSSL's choice):
    // a server that prefers another group says so with a HelloRetryRequest.
    for (uint16_t group : plan.supported_groups) {
      if (CanMakeKeyShare(group)) {
        plan.key_share_groups.push_back(group);
        break;
      }
    }
  }
  return plan;
}

Offer OfferOf(const HelloPlan& plan) {
  Offer offer;
  for (TlsVersion version : plan.versions) {
    bool any = false;
    for (uint16_t code : plan.suites) {
      if (!OfferedAt(code, version)) continue;
      offer.suites.push_back({version, code, CipherSuiteName(code), true});
      any = true;
    }
    if (any) offer.versions.push_back(version);
  }
  offer.groups = plan.supported_groups;
  return offer;
}

}  // namespace tlsweep::backends::rawhello
