#include "backends/negotiation/failure_cause.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::Enumeration;
using ::tlsweep::v1::VersionEnumeration;

constexpr size_t kNamesShown = 3;

const VersionEnumeration* At(const Enumeration& server, TlsVersion version) {
  for (const VersionEnumeration& entry : server.versions()) {
    if (VersionFromProto(entry.version()) == version) return &entry;
  }
  return nullptr;
}

bool Accepts(const VersionEnumeration& entry) {
  return entry.suites_size() > 0 && (entry.status() == VersionEnumeration::SUPPORTED ||
                                     entry.status() == VersionEnumeration::INCOMPLETE);
}

// "A, B, C and 4 more".
std::string Shortlist(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::vector<std::string> shown(names.begin(),
                                 names.begin() + std::min(names.size(), kNamesShown));
  std::string text = absl::StrJoin(shown, ", ");
  if (names.size() > kNamesShown)
    absl::StrAppend(&text, " and ", names.size() - kNamesShown, " more");
  return text;
}

std::vector<TlsVersion> ClientVersions(const Offer& client) {
  std::vector<TlsVersion> versions;
  for (TlsVersion version : client.versions) {
    const bool has_suite = std::any_of(client.suites.begin(), client.suites.end(),
                                       [&](const OfferedSuite& s) { return s.version == version; });
    if (has_suite) versions.push_back(version);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

std::string VersionList(const std::vector<TlsVersion>& versions) {
  std::vector<std::string> names;
  for (TlsVersion version : versions) names.emplace_back(TlsVersionName(version));
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

bool IsAnonymous(uint32_t code) {
  const CipherSuiteInfo* info = FindCipherSuite(static_cast<uint16_t>(code));
  return info != nullptr && absl::StrContains(info->iana_name, "_anon_");
}

FailureCause VersionCause(const Enumeration& server, const Offer& client,
                          absl::string_view candidate) {
  std::vector<TlsVersion> server_versions;
  for (const VersionEnumeration& entry : server.versions()) {
    if (Accepts(entry)) server_versions.push_back(VersionFromProto(entry.version()));
  }
  std::sort(server_versions.begin(), server_versions.end());
  const std::vector<TlsVersion> client_versions = ClientVersions(client);
  FailureCause cause{"version", ""};
  if (server_versions.empty() || client_versions.empty()) {
    cause.sentence =
        absl::StrCat("no TLS version in common: server speaks ", VersionList(server_versions), "; ",
                     candidate, " offers ", VersionList(client_versions));
  } else if (server_versions.back() < client_versions.front()) {
    cause.sentence = absl::StrCat("server speaks only ", VersionList(server_versions), "; ",
                                  candidate, " needs >= ", TlsVersionName(client_versions.front()));
  } else if (server_versions.front() > client_versions.back()) {
    cause.sentence =
        absl::StrCat("server needs >= ", TlsVersionName(server_versions.front()), "; ", candidate,
                     " offers at most ", TlsVersionName(client_versions.back()));
  } else {
    cause.sentence =
        absl::StrCat("server speaks ", VersionList(server_versions), "; ", candidate, " offers ",
                     VersionList(client_versions), ", and the server answers a version ", candidate,
                     " does not accept");
  }
  return cause;
}

FailureCause SuiteCause(const Enumeration& server, const Prediction& prediction,
                        absl::string_view candidate) {
  const VersionEnumeration* entry = At(server, prediction.cause_version);
  std::vector<std::string> names;
  bool all_anonymous = entry != nullptr && entry->suites_size() > 0;
  if (entry != nullptr) {
    for (const tlsweep::v1::CipherSuite& suite : entry->suites()) {
      names.push_back(suite.iana_name().empty() ? CipherSuiteName(suite.code_point())
                                                : suite.iana_name());
      all_anonymous &= IsAnonymous(suite.code_point());
    }
  }
  const std::string at(TlsVersionName(prediction.cause_version));
  if (all_anonymous) {
    return {"anonymous_only",
            absl::StrCat("server has no certificate, offers only anonymous suites at ", at, " (",
                         Shortlist(names), "), which ", candidate, " does not offer")};
  }
  return {"suite", absl::StrCat("server accepts only ", Shortlist(names), " at ", at, ", which ",
                                candidate, " does not offer")};
}

FailureCause GroupCause(const Enumeration& server, const Offer& client,
                        const Prediction& prediction, absl::string_view candidate) {
  const bool tls13 = prediction.cause_version == TlsVersion::kTls1_3;
  auto wanted = [&](uint16_t id) { return tls13 || id < 256; };  // TLS <= 1.2: curves only.
  std::vector<std::string> server_groups;
  if (const VersionEnumeration* entry = At(server, prediction.cause_version); entry != nullptr) {
    for (const std::string& name : entry->groups()) {
      absl::StatusOr<uint16_t> id = ParseGroup(name);
      if (!id.ok() || wanted(*id)) server_groups.push_back(name);
    }
  }
  std::vector<std::string> client_groups;
  for (uint16_t id : client.groups) {
    if (wanted(id)) client_groups.push_back(std::string(GroupName(id)));
  }
  return {"group", absl::StrCat("no key-exchange group in common at ",
                                TlsVersionName(prediction.cause_version), ": server accepts only ",
                                Shortlist(server_groups), "; ", candidate, " offers ",
                                Shortlist(client_groups))};
}

// The first line of an SMTP reply, without the line break.
std::string FirstLine(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, absl::MaxSplits('\n', 1));
  return std::string(absl::StripAsciiWhitespace(lines.empty() ? text : lines.front()));
}

}  // namespace

FailureCause ExplainPrediction(const Enumeration& server, const Offer& client,
                               const Prediction& prediction, absl::string_view candidate) {
  if (prediction.cause.empty()) return {};
  if (prediction.cause == "version") return VersionCause(server, client, candidate);
  if (prediction.cause == "suite") return SuiteCause(server, prediction, candidate);
  if (prediction.cause == "group") return GroupCause(server, client, prediction, candidate);
  const std::string at(TlsVersionName(prediction.cause_version));
  const std::string suite = CipherSuiteName(prediction.cause_suite);
  if (prediction.cause == "sha1_signature") {
    return {"sha1_signature",
            absl::StrCat("server picks ", suite, " at ", at,
                         ", whose key exchange it signs with "
                         "SHA-1; ",
                         candidate, " (OpenSSL at security level 1 or above) refuses it")};
  }
  if (prediction.cause == "hello_only") {
    return {"broken_server", absl::StrCat("server chooses ", suite, " at ", at,
                                          " and then fails the handshake: broken server (",
                                          FailureClassName(prediction.failure), ")")};
  }
  if (prediction.cause == "empty_offer") {
    return {"empty_offer", absl::StrCat(candidate, " offers no TLS version with a suite")};
  }
  return {prediction.cause, prediction.reason};
}

FailureCause ExplainLiveFailure(const tlsweep::v1::ProbeResult& live, absl::string_view candidate) {
  using ::tlsweep::v1::ProbeFailure;
  const ProbeFailure failure = live.failure();
  if (failure == tlsweep::v1::PROBE_OK) return {};
  if (failure == tlsweep::v1::STARTTLS_NOT_OFFERED) {
    return {"starttls_not_offered", "server does not offer STARTTLS"};
  }
  if (failure == tlsweep::v1::STARTTLS_REFUSED) {
    return {"starttls_refused", absl::StrCat("STARTTLS refused ", live.starttls().code(), " ",
                                             FirstLine(live.starttls().text()))};
  }
  const std::string name = absl::AsciiStrToLower(tlsweep::v1::ProbeFailure_Name(failure));
  if (!absl::StartsWith(name, "tls_")) {
    return {"unreachable",
            absl::StrCat("not reached (", name, live.failure_detail().empty() ? "" : ": ",
                         live.failure_detail(), ")")};
  }
  const tlsweep::v1::TlsHandshake& tls = live.tls();
  const std::string error = absl::AsciiStrToLower(tls.library_error());
  const std::string alert =
      tls.alert_name().empty() ? "" : absl::StrCat(" (", tls.alert_name(), " alert)");
  if (absl::StrContains(error, "dh key too small") ||
      absl::StrContains(error, "dh_key_too_small") || absl::StrContains(error, "dh prime") ||
      absl::StrContains(error, "diffie-hellman prime")) {
    return {"dh_size", absl::StrCat("server's DH prime is too small for ", candidate, " (",
                                    tls.library_error(), ")")};
  }
  if (absl::StrContains(error, "group") || absl::StrContains(error, "curve")) {
    return {"group", absl::StrCat("no key-exchange group in common with ", candidate, " (",
                                  tls.library_error(), ")")};
  }
  const int code = tls.alert_code();
  if (absl::StrContains(error, "certificate") || (code >= 42 && code <= 46) || code == 48) {
    return {"certificate",
            absl::StrCat("certificate problem", alert, tls.library_error().empty() ? "" : ": ",
                         tls.library_error())};
  }
  switch (failure) {
    case tlsweep::v1::TLS_PROTOCOL_VERSION:
      return {"version",
              absl::StrCat("server refuses every TLS version ", candidate, " offers", alert)};
    case tlsweep::v1::TLS_NO_SHARED_CIPHER:
      return {"suite", absl::StrCat("no suite in common with ", candidate, alert)};
    case tlsweep::v1::TLS_UNEXPECTED_EOF:
      return {"tls_failure", "server closed the connection during the handshake"};
    case tlsweep::v1::TLS_HANDSHAKE_TIMEOUT:
      return {"tls_failure", "no complete handshake in time"};
    default:
      break;
  }
  return {"tls_failure",
          absl::StrCat("TLS handshake failed: ", name.substr(4), alert,
                       tls.library_error().empty() ? "" : ": ", tls.library_error())};
}

}  // namespace tlsweep::backends
