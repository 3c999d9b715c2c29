#include "backends/gnutls/gnutls_util.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tlsweep::backends::gnutls_backend {
namespace {

// What `legacy` adds to the initial keyword of the caller's priority. Checked against GnuTLS 3.7.9
// as Debian 12 ships it (no /etc/gnutls/config system policy, nettle with RC4 and 3DES):
// gnutls_priority_init accepts every token, and two engines of this plugin really negotiate TLS 1.0
// and TLS 1.1 (CBC suites with HMAC-SHA1), TLS_RSA_3DES_EDE_CBC_SHA1,
// TLS_ECDHE_RSA_3DES_EDE_CBC_SHA1 and TLS_RSA_ARCFOUR_128_SHA1 / TLS_ECDHE_RSA_ARCFOUR_128_SHA1.
// NORMAL on this build already has TLS 1.0/1.1 and SHA-1 signatures; the tokens keep the meaning on
// builds whose NORMAL dropped them. SSLv3 cannot be enabled at all (GnuTLS 3.7 has no SSL 3.0
// code), and neither NULL ciphers, export suites nor anonymous suites are added: they are not
// "legacy" in the OpenSSL sense either (OpenSSL's DEFAULT excludes aNULL/eNULL even at security
// level 0).
constexpr char kLegacyTokens[] =
    ":+VERS-TLS1.1:+VERS-TLS1.0:+3DES-CBC:+ARCFOUR-128:+SHA1:+SIGN-ALL:"
    "%VERIFY_ALLOW_SIGN_WITH_SHA1";

struct GroupMapping {
  gnutls_group_t group;
  uint16_t iana_id;
};

constexpr GroupMapping kGroups[] = {
    {GNUTLS_GROUP_SECP192R1, 19},  {GNUTLS_GROUP_SECP224R1, 21},  {GNUTLS_GROUP_SECP256R1, 23},
    {GNUTLS_GROUP_SECP384R1, 24},  {GNUTLS_GROUP_SECP521R1, 25},  {GNUTLS_GROUP_X25519, 29},
    {GNUTLS_GROUP_X448, 30},       {GNUTLS_GROUP_FFDHE2048, 256}, {GNUTLS_GROUP_FFDHE3072, 257},
    {GNUTLS_GROUP_FFDHE4096, 258}, {GNUTLS_GROUP_FFDHE6144, 259}, {GNUTLS_GROUP_FFDHE8192, 260},
};

const char* VersionToken(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls1_0:
      return "VERS-TLS1.0";
    case TlsVersion::kTls1_1:
      return "VERS-TLS1.1";
    case TlsVersion::kTls1_2:
      return "VERS-TLS1.2";
    case TlsVersion::kTls1_3:
      return "VERS-TLS1.3";
    default:
      return nullptr;
  }
}

absl::Status CheckVersion(TlsVersion version, absl::string_view which) {
  if (version == TlsVersion::kSsl3) {
    return absl::InvalidArgumentError(
        absl::StrCat("the gnutls backend cannot speak SSLv3 (", which, " version): GnuTLS ",
                     gnutls_check_version(nullptr), " has no SSL 3.0 support"));
  }
  if (VersionToken(version) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported ", which, " version ", TlsVersionName(version)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string GnutlsErrorText(int error) {
  const char* name = gnutls_strerror_name(error);
  return absl::StrCat(gnutls_strerror(error), " (", name != nullptr ? name : "?", ")");
}

absl::StatusOr<std::string> BuildPriorityString(const CipherSpec& ciphers,
                                                std::optional<TlsVersion> min_version,
                                                std::optional<TlsVersion> max_version,
                                                const std::vector<uint16_t>& groups, bool legacy,
                                                bool server_precedence) {
  std::string priority;
  if (!ciphers.gnutls_priority.empty()) {
    priority = ciphers.gnutls_priority;
  } else if (!ciphers.openssl_ciphers.empty() || !ciphers.openssl_ciphersuites.empty()) {
    return absl::InvalidArgumentError(
        "the gnutls backend takes a GnuTLS priority string (--priority), not an OpenSSL cipher "
        "string");
  } else {
    priority = "NORMAL";
  }

  if (legacy) {
    // The legacy tokens widen the initial keyword ("NORMAL", "SECURE128", "@SYSTEM"...), so every
    // token the caller wrote after it still wins: "NORMAL:-CIPHER-ALL:+ARCFOUR-128" with legacy
    // offers RC4 only, not RC4 plus the 3DES that the legacy tokens would re-add if appended.
    // This matches OpenSSL, where legacy lowers the security level but adds nothing to an
    // explicit cipher string.
    const size_t end_of_keyword = std::min(priority.find(':'), priority.size());
    priority.insert(end_of_keyword, kLegacyTokens);
  }

  if (min_version.has_value() || max_version.has_value()) {
    const TlsVersion min = min_version.value_or(TlsVersion::kTls1_0);
    const TlsVersion max = max_version.value_or(TlsVersion::kTls1_3);
    if (absl::Status s = CheckVersion(min, "minimum"); !s.ok()) return s;
    if (absl::Status s = CheckVersion(max, "maximum"); !s.ok()) return s;
    if (max < min) {
      return absl::InvalidArgumentError(absl::StrCat("minimum version ", TlsVersionName(min),
                                                     " is above maximum version ",
                                                     TlsVersionName(max)));
    }
    priority += ":-VERS-ALL";
    // Newest first, the order GnuTLS lists versions in its own priority strings.
    for (auto it = AllTlsVersions().rbegin(); it != AllTlsVersions().rend(); ++it) {
      if (*it < min || max < *it) continue;
      const char* token = VersionToken(*it);
      if (token != nullptr) absl::StrAppend(&priority, ":+", token);
    }
  }

  if (!groups.empty()) {
    priority += ":-GROUP-ALL";
    for (uint16_t id : groups) {
      const std::optional<gnutls_group_t> group = GnutlsGroup(id);
      const char* name = group.has_value() ? gnutls_group_get_name(*group) : nullptr;
      if (name == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrFormat("the gnutls backend does not support group 0x%04x", id));
      }
      absl::StrAppend(&priority, ":+GROUP-", name);
    }
  }

  if (server_precedence) priority += ":%SERVER_PRECEDENCE";
  return priority;
}

absl::StatusOr<PriorityPtr> InitPriority(const std::string& priority) {
  gnutls_priority_t raw = nullptr;
  const char* err_pos = nullptr;
  const int ret = gnutls_priority_init2(&raw, priority.c_str(), &err_pos, 0);
  if (ret < 0) {
    if (ret == GNUTLS_E_INVALID_REQUEST && err_pos != nullptr && err_pos >= priority.c_str() &&
        err_pos <= priority.c_str() + priority.size()) {
      const size_t offset = static_cast<size_t>(err_pos - priority.c_str());
      return absl::InvalidArgumentError(
          absl::StrFormat("invalid GnuTLS priority string \"%s\": error at position %d (at \"%s\")",
                          priority, offset, priority.substr(offset)));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("invalid GnuTLS priority string \"", priority, "\": ", GnutlsErrorText(ret)));
  }
  return PriorityPtr(raw);
}

TlsVersion FromGnutlsProtocol(gnutls_protocol_t protocol) {
  switch (protocol) {
    case GNUTLS_SSL3:
      return TlsVersion::kSsl3;
    case GNUTLS_TLS1_0:
      return TlsVersion::kTls1_0;
    case GNUTLS_TLS1_1:
      return TlsVersion::kTls1_1;
    case GNUTLS_TLS1_2:
      return TlsVersion::kTls1_2;
    case GNUTLS_TLS1_3:
      return TlsVersion::kTls1_3;
    default:
      return TlsVersion::kUnknown;
  }
}

std::optional<gnutls_protocol_t> ToGnutlsProtocol(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls1_0:
      return GNUTLS_TLS1_0;
    case TlsVersion::kTls1_1:
      return GNUTLS_TLS1_1;
    case TlsVersion::kTls1_2:
      return GNUTLS_TLS1_2;
    case TlsVersion::kTls1_3:
      return GNUTLS_TLS1_3;
    default:
      return std::nullopt;
  }
}

uint16_t IanaGroupId(gnutls_group_t group) {
  for (const GroupMapping& m : kGroups) {
    if (m.group == group) return m.iana_id;
  }
  return 0;
}

std::optional<gnutls_group_t> GnutlsGroup(uint16_t iana_id) {
  for (const GroupMapping& m : kGroups) {
    if (m.iana_id == iana_id) return m.group;
  }
  return std::nullopt;
}

std::optional<GnutlsSuite> SuiteByIndex(size_t index) {
  unsigned char id[2] = {0, 0};
  GnutlsSuite suite;
  const char* name =
      gnutls_cipher_suite_info(index, id, &suite.kx, &suite.cipher, &suite.mac, &suite.min_version);
  if (name == nullptr) return std::nullopt;
  suite.code_point = static_cast<uint16_t>((id[0] << 8) | id[1]);
  suite.name = name;
  return suite;
}

// gnutls has no call that returns the negotiated suite's code point, so it is looked up in
// gnutls_cipher_suite_info's table. In TLS 1.2 and below (kx, cipher, mac) identifies one row
// (gnutls_kx_get/gnutls_mac_get return exactly the table's values, GNUTLS_MAC_AEAD included).
// In TLS 1.3 the table's rows have kx GNUTLS_KX_UNKNOWN, and gnutls_kx_get reports the key
// exchange actually used (ECDHE-RSA, DHE-RSA...), so the row is found by the cipher alone: the
// five TLS 1.3 suites have five different ciphers.
std::optional<GnutlsSuite> NegotiatedSuite(gnutls_session_t session) {
  const bool tls13 = gnutls_protocol_get_version(session) == GNUTLS_TLS1_3;
  const gnutls_kx_algorithm_t kx = gnutls_kx_get(session);
  const gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(session);
  const gnutls_mac_algorithm_t mac = gnutls_mac_get(session);
  for (size_t i = 0;; ++i) {
    std::optional<GnutlsSuite> suite = SuiteByIndex(i);
    if (!suite.has_value()) return std::nullopt;
    const bool row_is_tls13 = suite->min_version == GNUTLS_TLS1_3;
    if (tls13 != row_is_tls13 || suite->cipher != cipher) continue;
    if (tls13 || (suite->kx == kx && suite->mac == mac)) return suite;
  }
}

bool ClientCanOfferKx(gnutls_kx_algorithm_t kx) {
  switch (kx) {
    case GNUTLS_KX_UNKNOWN:  // TLS 1.3 suites: key exchange is negotiated separately.
    case GNUTLS_KX_RSA:
    case GNUTLS_KX_DHE_DSS:
    case GNUTLS_KX_DHE_RSA:
    case GNUTLS_KX_ECDHE_RSA:
    case GNUTLS_KX_ECDHE_ECDSA:
    case GNUTLS_KX_RSA_EXPORT:
    case GNUTLS_KX_ANON_DH:
    case GNUTLS_KX_ANON_ECDH:
      return true;
    default:  // PSK, DHE-PSK, ECDHE-PSK, RSA-PSK, SRP, SRP-RSA, SRP-DSS, VKO-GOST.
      return false;
  }
}

bool PriorityHasAnonKx(gnutls_priority_t priority) {
  const unsigned int* list = nullptr;
  const int count = gnutls_priority_kx_list(priority, &list);
  for (int i = 0; i < count; ++i) {
    if (list[i] == GNUTLS_KX_ANON_DH || list[i] == GNUTLS_KX_ANON_ECDH) return true;
  }
  return false;
}

}  // namespace tlsweep::backends::gnutls_backend
