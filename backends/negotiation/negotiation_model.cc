#include "backends/negotiation/negotiation_model.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::Enumeration;
using ::tlsweep::v1::VersionEnumeration;

template <typename T>
bool Contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string SuiteList(const std::vector<uint16_t>& suites) {
  if (suites.empty()) return "none";
  std::vector<std::string> names;
  for (uint16_t suite : suites) names.push_back(CipherSuiteName(suite));
  return absl::StrJoin(names, ", ");
}

std::string GroupList(const std::vector<uint16_t>& groups) {
  if (groups.empty()) return "none";
  std::vector<std::string> names;
  for (uint16_t group : groups) names.push_back(GroupName(group));
  return absl::StrJoin(names, ", ");
}

// What the enumeration says about one server version, in plain types.
struct ServerVersion {
  enum class Known { kSupported, kRefused, kUnknown };
  Known known = Known::kUnknown;
  std::string status_text = "not in the enumeration";
  std::vector<uint16_t> suites;  // Server order when `server_preference`.
  bool server_preference = false;
  bool preference_tested = false;
  std::vector<uint16_t> groups;  // Accepted groups (ids of names the table knows).
  std::vector<std::string> unknown_group_names;
  bool groups_tested = false;
  // Whose order picks the group; when not tested, the suite preference stands in for it.
  bool group_preference_tested = false;
  bool group_server_preference = false;
  std::vector<uint16_t> untested_suites;
  // INCOMPLETE: the enumeration was cut short, so a suite not listed may still be accepted.
  bool incomplete = false;
  std::string incomplete_detail;
  VersionEnumeration::Confirmation confirmation = VersionEnumeration::CONFIRMATION_UNSPECIFIED;
  // Chosen in a ServerHello, then the handshake fails (`hello_only_failure`).
  std::vector<uint16_t> hello_only;
  FailureClass hello_only_failure = FailureClass::kNone;
  // Chosen in a ServerHello to a raw hello; no local library can complete a handshake with it.
  std::vector<uint16_t> unconfirmable;

  bool GroupServerOrder() const {
    return group_preference_tested ? group_server_preference
                                   : server_preference && preference_tested;
  }
};

FailureClass FailureFromProto(tlsweep::v1::TlsFailureClass failure) {
  switch (failure) {
    case tlsweep::v1::TLS_FAILURE_NO_SHARED_CIPHER:
      return FailureClass::kNoSharedCipher;
    case tlsweep::v1::TLS_FAILURE_PROTOCOL_VERSION:
      return FailureClass::kProtocolVersion;
    case tlsweep::v1::TLS_FAILURE_ALERT_SENT:
      return FailureClass::kAlertSent;
    case tlsweep::v1::TLS_FAILURE_UNEXPECTED_EOF:
      return FailureClass::kUnexpectedEof;
    case tlsweep::v1::TLS_FAILURE_NOT_TLS:
      return FailureClass::kNotTls;
    case tlsweep::v1::TLS_FAILURE_HANDSHAKE_TIMEOUT:
      return FailureClass::kTimeout;
    case tlsweep::v1::TLS_FAILURE_INTERNAL_ERROR:
      return FailureClass::kInternalError;
    default:
      return FailureClass::kAlertReceived;
  }
}

ServerVersion ReadServerVersion(const Enumeration& server, TlsVersion version) {
  ServerVersion result;
  for (const VersionEnumeration& entry : server.versions()) {
    if (VersionFromProto(entry.version()) != version) continue;
    switch (entry.status()) {
      case VersionEnumeration::SUPPORTED:
        result.known = ServerVersion::Known::kSupported;
        result.status_text = "supported";
        break;
      case VersionEnumeration::NOT_SUPPORTED:
        result.known = ServerVersion::Known::kRefused;
        result.status_text = "not supported";
        break;
      case VersionEnumeration::NOT_TESTED:
        result.status_text = "not tested";
        break;
      case VersionEnumeration::ERROR:
        result.status_text = "not enumerated (errors)";
        break;
      case VersionEnumeration::INCOMPLETE:
        // What was found is accepted; with nothing found there is no verdict at all.
        result.incomplete = true;
        result.incomplete_detail = entry.detail();
        if (entry.suites_size() > 0) {
          result.known = ServerVersion::Known::kSupported;
          result.status_text = "supported (enumeration cut short)";
        } else {
          result.status_text = "not finished (enumeration cut short)";
        }
        break;
      default:
        result.status_text = "without a status";
        break;
    }
    for (const tlsweep::v1::CipherSuite& suite : entry.suites()) {
      result.suites.push_back(static_cast<uint16_t>(suite.code_point()));
    }
    result.server_preference = entry.server_preference();
    result.preference_tested = entry.preference_tested();
    for (const std::string& name : entry.groups()) {
      absl::StatusOr<uint16_t> id = ParseGroup(name);
      if (id.ok()) {
        result.groups.push_back(*id);
      } else {
        result.unknown_group_names.push_back(name);
      }
    }
    result.groups_tested = entry.groups_tested();
    result.group_preference_tested = entry.group_preference_tested();
    result.group_server_preference = entry.group_server_preference();
    result.confirmation = entry.confirmation();
    for (uint32_t code : entry.hello_only_suites()) {
      result.hello_only.push_back(static_cast<uint16_t>(code));
    }
    result.hello_only_failure = FailureFromProto(entry.hello_only_failure());
    for (uint32_t code : entry.unconfirmable_suites()) {
      result.unconfirmable.push_back(static_cast<uint16_t>(code));
    }
    for (uint32_t code : entry.untested_suites()) {
      result.untested_suites.push_back(static_cast<uint16_t>(code));
    }
    break;
  }
  return result;
}

bool NeedsEcGroup(uint16_t suite) {
  const CipherSuiteInfo* info = FindCipherSuite(suite);
  return info != nullptr && info->key_exchange.substr(0, 4) == "ECDH";
}

bool IsFfdheGroup(uint16_t group) { return group >= 256 && group < 512; }

// The group decision for one version (rules G1-G3), independent of the suite.
struct GroupChoice {
  bool available = false;  // Some group works.
  uint16_t group = 0;
  std::vector<uint16_t> candidates;        // When not sure: every group that may be used.
  std::vector<std::string> uncertainties;  // Whether a group works at all.
  std::vector<std::string> alternatives;   // Which group, when one surely works.
  std::string reason;                      // Why none works.
};

GroupChoice ChooseGroup(const ServerVersion& server, const Offer& client, TlsVersion version,
                        bool ec_only) {
  GroupChoice choice;
  std::vector<uint16_t> client_groups;
  for (uint16_t group : client.groups) {
    if (!ec_only || !IsFfdheGroup(group)) client_groups.push_back(group);
  }
  const std::string what = ec_only ? "elliptic-curve group" : "group";
  if (!server.groups_tested) {
    if (client_groups.empty()) {
      choice.reason = absl::StrCat("the client offers no ", what);
      return choice;
    }
    choice.available = true;
    choice.group = client_groups.front();
    choice.uncertainties.push_back(absl::StrCat("the server's groups were not tested at ",
                                                TlsVersionName(version), "; assumed to accept ",
                                                GroupName(choice.group)));
    return choice;
  }
  std::vector<uint16_t> server_groups;
  for (uint16_t group : server.groups) {
    if (!ec_only || !IsFfdheGroup(group)) server_groups.push_back(group);
  }
  if (client.groups.empty()) {
    // No supported_groups extension: the server may use any group it likes.
    if (server_groups.empty()) {
      choice.reason = absl::StrCat("the server accepts no ", what);
      return choice;
    }
    choice.available = true;
    choice.group = server_groups.front();
    choice.alternatives.push_back(absl::StrCat(
        "the client lists no group; assumed the server uses ", GroupName(choice.group)));
    return choice;
  }
  std::vector<uint16_t> common;
  for (uint16_t group : client_groups) {
    if (Contains(server_groups, group)) common.push_back(group);
  }
  if (common.empty()) {
    choice.reason =
        absl::StrCat("no ", what, " in common at ", TlsVersionName(version), "; client offers ",
                     GroupList(client_groups), "; server accepts ", GroupList(server_groups));
    if (!server.unknown_group_names.empty()) {
      choice.reason += absl::StrCat(
          " (and groups unknown here: ", absl::StrJoin(server.unknown_group_names, ", "), ")");
    }
    return choice;
  }
  choice.available = true;
  const bool server_order = server.GroupServerOrder();
  uint16_t preferred = common.front();  // Who decides when the server chooses freely.
  if (server_order) {
    for (uint16_t group : server_groups) {
      if (Contains(common, group)) {
        preferred = group;
        break;
      }
    }
  }
  choice.group = preferred;
  if (version != TlsVersion::kTls1_3 || common.size() < 2) return choice;
  // TLS 1.3: key shares. The client sent one for its first group (GnuTLS also for the first
  // group of another kind).
  const uint16_t first = client.groups.front();
  if (Contains(common, first)) {
    if (first == preferred) return choice;
    // Server preference for another group: OpenSSL servers take the key share, GnuTLS servers
    // ask for their own group with HelloRetryRequest.
    choice.group = first;
    choice.candidates = {first, preferred};
    choice.alternatives.push_back(absl::StrCat(
        "TLSv1.3 group: ", GroupName(first), " (the client's key share) or ", GroupName(preferred),
        " (the server's preference, after a HelloRetryRequest), "
        "depending on the server's implementation"));
  } else {
    // A second key share the client may have sent can be taken instead of a retry.
    choice.candidates = common;
    choice.alternatives.push_back(
        absl::StrCat("TLSv1.3 group: the client's first group ", GroupName(first),
                     " is refused; the server takes another key share the client sent or asks for ",
                     GroupName(preferred), "; possible: ", GroupList(common)));
  }
  return choice;
}

// Rules S1-S4 (+G2) at one version the server supports.
Prediction PredictAtVersion(const ServerVersion& server, const Offer& client, TlsVersion version) {
  Prediction prediction;
  prediction.version = version;
  std::vector<uint16_t> client_suites;
  for (const OfferedSuite& offered : client.suites) {
    if (offered.version == version && !Contains(client_suites, offered.code_point)) {
      client_suites.push_back(offered.code_point);
    }
  }
  const bool tls13 = version == TlsVersion::kTls1_3;
  const GroupChoice any_group = ChooseGroup(server, client, version, /*ec_only=*/false);
  const GroupChoice ec_group = ChooseGroup(server, client, version, /*ec_only=*/true);

  std::vector<uint16_t> common;  // In the order the server will consider them.
  const bool server_order = server.server_preference && server.preference_tested;
  if (server_order) {
    for (uint16_t suite : server.suites) {
      if (Contains(client_suites, suite)) common.push_back(suite);
    }
  } else {
    for (uint16_t suite : client_suites) {
      if (Contains(server.suites, suite)) common.push_back(suite);
    }
  }
  // Client suites the server may or may not accept: never offered during the enumeration, or
  // every suite not found when the enumeration was cut short.
  std::vector<uint16_t> untested;
  for (uint16_t suite : client_suites) {
    if ((server.incomplete || Contains(server.untested_suites, suite)) &&
        !Contains(server.suites, suite)) {
      untested.push_back(suite);
    }
  }
  const std::string version_name(TlsVersionName(version));
  const std::string untested_why =
      server.incomplete ? absl::StrCat(" suites the enumeration did not reach (it was cut short",
                                       server.incomplete_detail.empty() ? "" : ": ",
                                       server.incomplete_detail, ")")
                        : " suites the enumeration could not offer";
  if (tls13 && !common.empty() && !any_group.available) {
    prediction.verdict = Prediction::Verdict::kFails;
    prediction.failure = FailureClass::kNoSharedCipher;
    prediction.cause = "group";
    prediction.cause_version = version;
    prediction.version = TlsVersion::kUnknown;
    prediction.reason = any_group.reason;
    return prediction;
  }

  std::vector<uint16_t> selectable;
  std::vector<uint16_t> skipped_for_group;
  for (uint16_t suite : common) {
    if (!tls13 && NeedsEcGroup(suite) && !ec_group.available) {
      skipped_for_group.push_back(suite);
    } else {
      selectable.push_back(suite);
    }
  }

  if (selectable.empty()) {
    std::string reason;
    if (!skipped_for_group.empty()) {
      reason = absl::StrCat("the only ", version_name, " suites in common (",
                            SuiteList(skipped_for_group),
                            ") need an elliptic-curve group: ", ec_group.reason);
    } else {
      reason = absl::StrCat("no ", version_name, " suite in common; client offers ",
                            SuiteList(client_suites), "; server accepts only ",
                            SuiteList(server.suites));
    }
    if (!untested.empty()) {
      prediction.verdict = Prediction::Verdict::kUncertain;
      prediction.failure = FailureClass::kNoSharedCipher;
      prediction.cause = skipped_for_group.empty() ? "suite" : "group";
      prediction.cause_version = version;
      prediction.version = TlsVersion::kUnknown;
      prediction.reason = reason;
      prediction.uncertainties.push_back(absl::StrCat("success depends on ", version_name,
                                                      untested_why, ": ", SuiteList(untested)));
      return prediction;
    }
    prediction.verdict = Prediction::Verdict::kFails;
    prediction.failure = FailureClass::kNoSharedCipher;
    prediction.cause = skipped_for_group.empty() ? "suite" : "group";
    prediction.cause_version = version;
    prediction.version = TlsVersion::kUnknown;
    prediction.reason = std::move(reason);
    return prediction;
  }

  // S5: a suite the client offers but aborts on.
  std::vector<uint16_t> aborted;
  for (const OfferedSuite& offered : client.suites) {
    if (offered.version == version && !offered.completes) aborted.push_back(offered.code_point);
  }
  if (Contains(aborted, selectable.front())) {
    const uint16_t pick = selectable.front();
    std::vector<uint16_t> completing;
    for (uint16_t suite : selectable) {
      if (!Contains(aborted, suite)) completing.push_back(suite);
    }
    const bool unsure = !server.preference_tested && !completing.empty();
    prediction.verdict = unsure ? Prediction::Verdict::kUncertain : Prediction::Verdict::kFails;
    prediction.failure = FailureClass::kAlertSent;
    prediction.cause = "sha1_signature";
    prediction.cause_version = version;
    prediction.cause_suite = pick;
    prediction.version = TlsVersion::kUnknown;
    prediction.reason = absl::StrCat(
        "the server picks ", CipherSuiteName(pick), " at ", version_name,
        server_order ? " (server preference)"
                     : (server.preference_tested ? " (client preference)" : ""),
        ", which the client offers but aborts on: its key exchange needs a SHA-1 signature, "
        "refused at OpenSSL security level 1 and above");
    if (unsure) {
      prediction.uncertainties.push_back(
          absl::StrCat("the server's suite preference at ", version_name,
                       " was not tested; it may pick one that completes: ", SuiteList(completing)));
    }
    return prediction;
  }

  // The server picks a suite it accepts in its ServerHello and then fails the handshake.
  if (Contains(server.hello_only, selectable.front())) {
    const uint16_t pick = selectable.front();
    std::vector<uint16_t> completing;
    for (uint16_t suite : selectable) {
      if (!Contains(server.hello_only, suite) && !Contains(aborted, suite)) {
        completing.push_back(suite);
      }
    }
    const bool unsure = !server.preference_tested && !completing.empty();
    prediction.verdict = unsure ? Prediction::Verdict::kUncertain : Prediction::Verdict::kFails;
    prediction.failure = server.hello_only_failure;
    prediction.cause = "hello_only";
    prediction.cause_version = version;
    prediction.cause_suite = pick;
    prediction.version = TlsVersion::kUnknown;
    prediction.reason =
        absl::StrCat("the server picks ", CipherSuiteName(pick), " at ", version_name,
                     " and then fails the handshake after its ServerHello (",
                     FailureClassName(server.hello_only_failure),
                     "): it answers with suites it cannot complete");
    if (unsure) {
      prediction.uncertainties.push_back(
          absl::StrCat("the server's suite preference at ", version_name,
                       " was not tested; it may pick one that completes: ", SuiteList(completing)));
    }
    return prediction;
  }

  prediction.verdict = Prediction::Verdict::kNegotiates;
  prediction.suite = selectable.front();
  const bool uses_group = tls13 || NeedsEcGroup(prediction.suite);
  if (uses_group) {
    const GroupChoice& group = tls13 ? any_group : ec_group;
    prediction.group = group.group;
    prediction.possible_groups = group.candidates;
    for (const std::string& note : group.uncertainties) prediction.uncertainties.push_back(note);
    for (const std::string& note : group.alternatives) prediction.alternatives.push_back(note);
  }
  prediction.reason =
      absl::StrCat(version_name, " with ", CipherSuiteName(prediction.suite),
                   server_order ? " (server preference)"
                                : (server.preference_tested ? " (client preference)" : ""),
                   uses_group ? absl::StrCat(" over ", GroupName(prediction.group)) : "");
  if (!skipped_for_group.empty()) {
    absl::StrAppend(&prediction.reason,
                    "; skipped for want of a common group: ", SuiteList(skipped_for_group));
  }
  // Another pick is only a question of which suite, unless that suite would not complete.
  auto completes = [&](uint16_t suite) {
    return !Contains(aborted, suite) && !Contains(server.hello_only, suite);
  };
  if (!server.preference_tested && selectable.size() > 1) {
    const std::string note =
        absl::StrCat("the server's suite preference at ", version_name,
                     " was not tested; it may pick any of ", SuiteList(selectable));
    if (std::all_of(selectable.begin(), selectable.end(), completes)) {
      prediction.alternatives.push_back(note);
    } else {
      prediction.uncertainties.push_back(note);
    }
  }
  if (!untested.empty()) {
    std::vector<uint16_t> could_change;
    if (server_order || !server.preference_tested) {
      could_change = untested;
    } else {
      for (uint16_t suite : client_suites) {
        if (suite == prediction.suite) break;
        if (Contains(untested, suite)) could_change.push_back(suite);
      }
    }
    if (!could_change.empty()) {
      const std::string note = absl::StrCat("the server may accept and pick ", version_name,
                                            untested_why, ": ", SuiteList(could_change));
      // A cut-short enumeration knows nothing of those suites, not even that they would work.
      if (!server.incomplete && std::all_of(could_change.begin(), could_change.end(), completes)) {
        prediction.alternatives.push_back(note);
      } else {
        prediction.uncertainties.push_back(note);
      }
    }
  }
  // A ServerHello is not a handshake: without a complete one at this version, success is not
  // known (the server may fail right after choosing, as some broken servers do).
  if (Contains(server.unconfirmable, prediction.suite) ||
      server.confirmation == VersionEnumeration::UNCONFIRMABLE) {
    // A candidate that offers a suite no library of the enumerating agent could (a captured
    // hello, another library): the ServerHello is all the evidence there is.
    prediction.verdict = Prediction::Verdict::kUncertain;
    prediction.uncertainties.push_back(absl::StrCat(
        "the server chose ", CipherSuiteName(prediction.suite), " at ", version_name,
        " only in a ServerHello to a raw hello; no local library can complete it to confirm"));
  } else if (server.confirmation == VersionEnumeration::CONFIRMATION_UNSPECIFIED ||
             server.confirmation == VersionEnumeration::NOT_CONFIRMED) {
    prediction.verdict = Prediction::Verdict::kUncertain;
    prediction.uncertainties.push_back(
        absl::StrCat("no complete handshake confirmed ", version_name, " on this server (",
                     server.confirmation == VersionEnumeration::NOT_CONFIRMED
                         ? "the confirming connection failed"
                         : "an enumeration that stopped at the ServerHello",
                     "); it may fail after choosing ", CipherSuiteName(prediction.suite)));
  }
  return prediction;
}

}  // namespace

Prediction PredictNegotiation(const Enumeration& server, const Offer& client) {
  // V1: the versions the client really puts in its ClientHello.
  std::vector<TlsVersion> client_versions;
  for (TlsVersion version : client.versions) {
    const bool has_suite = std::any_of(client.suites.begin(), client.suites.end(),
                                       [&](const OfferedSuite& s) { return s.version == version; });
    if (has_suite && !Contains(client_versions, version)) client_versions.push_back(version);
  }
  std::sort(client_versions.begin(), client_versions.end());
  if (client_versions.empty()) {
    Prediction prediction;
    prediction.verdict = Prediction::Verdict::kFails;
    prediction.failure = FailureClass::kInternalError;
    prediction.cause = "empty_offer";
    prediction.reason = "the client configuration offers no version with a suite";
    return prediction;
  }
  const TlsVersion client_min = client_versions.front();
  const TlsVersion client_max = client_versions.back();

  // V3/V4: the version the server would choose among those it is known to support.
  std::optional<TlsVersion> chosen;
  std::optional<Prediction> outcome;
  if (client_max == TlsVersion::kTls1_3 &&
      ReadServerVersion(server, TlsVersion::kTls1_3).known == ServerVersion::Known::kSupported) {
    chosen = TlsVersion::kTls1_3;
  } else {
    for (auto it = AllTlsVersions().rbegin(); it != AllTlsVersions().rend(); ++it) {
      if (*it == TlsVersion::kTls1_3 || client_max < *it) continue;
      if (ReadServerVersion(server, *it).known == ServerVersion::Known::kSupported) {
        chosen = *it;
        break;
      }
    }
  }
  if (chosen && Contains(client_versions, *chosen)) {
    outcome = PredictAtVersion(ReadServerVersion(server, *chosen), client, *chosen);
  } else {
    Prediction failed;
    failed.verdict = Prediction::Verdict::kFails;
    failed.failure = FailureClass::kProtocolVersion;
    failed.cause = "version";
    std::vector<std::string> server_supported;
    for (TlsVersion version : AllTlsVersions()) {
      if (ReadServerVersion(server, version).known == ServerVersion::Known::kSupported) {
        server_supported.push_back(std::string(TlsVersionName(version)));
      }
    }
    std::vector<std::string> offered;
    for (TlsVersion version : client_versions) offered.emplace_back(TlsVersionName(version));
    failed.reason = absl::StrCat(
        "no version in common; client offers ", absl::StrJoin(offered, ", "), "; server supports ",
        server_supported.empty() ? "none" : absl::StrJoin(server_supported, ", "),
        chosen ? absl::StrCat(" (it would answer ", TlsVersionName(*chosen), ", below ",
                              TlsVersionName(client_min), ")")
               : "");
    // V4b: the server picks its suite before the client sees the version; with none of the
    // client's suites acceptable at that version, the server is the one that gives up. (A
    // TLS 1.3-only client is refused on the version alone.)
    if (chosen && client_min < TlsVersion::kTls1_3) {
      const ServerVersion at_chosen = ReadServerVersion(server, *chosen);
      const bool any_suite =
          std::any_of(client.suites.begin(), client.suites.end(), [&](const OfferedSuite& s) {
            return Contains(at_chosen.suites, s.code_point) ||
                   Contains(at_chosen.untested_suites, s.code_point);
          });
      if (!any_suite) {
        failed.failure = FailureClass::kNoSharedCipher;
        failed.cause = "version";
        absl::StrAppend(&failed.reason,
                        "; none of the client's suites is one the server accepts at ",
                        TlsVersionName(*chosen), ", so the server fails first");
      }
    }
    outcome = std::move(failed);
  }

  // V5: an unknown server version the client offers above the chosen one could win instead.
  std::vector<std::string> unknown_above;
  for (TlsVersion version : client_versions) {
    if (chosen && version <= *chosen) continue;
    const ServerVersion info = ReadServerVersion(server, version);
    if (info.known == ServerVersion::Known::kUnknown) {
      unknown_above.push_back(absl::StrCat(TlsVersionName(version), " (", info.status_text, ")"));
    }
  }
  if (!unknown_above.empty()) {
    if (outcome->verdict == Prediction::Verdict::kNegotiates) {
      outcome->failure = FailureClass::kNone;
    }
    outcome->verdict = Prediction::Verdict::kUncertain;
    outcome->uncertainties.insert(
        outcome->uncertainties.begin(),
        absl::StrCat("the server might choose a version the enumeration has no verdict for: ",
                     absl::StrJoin(unknown_above, ", "), "; otherwise: ", outcome->reason));
  }
  return *outcome;
}

absl::string_view VerdictName(Prediction::Verdict verdict) {
  switch (verdict) {
    case Prediction::Verdict::kNegotiates:
      return "negotiates";
    case Prediction::Verdict::kFails:
      return "fails";
    case Prediction::Verdict::kUncertain:
      return "uncertain";
  }
  return "unknown";
}

std::string DescribePrediction(const Prediction& prediction) {
  std::string text;
  switch (prediction.verdict) {
    case Prediction::Verdict::kNegotiates:
      text = absl::StrCat("negotiates ", TlsVersionName(prediction.version), " ",
                          CipherSuiteName(prediction.suite));
      if (prediction.group != 0) absl::StrAppend(&text, " ", GroupName(prediction.group));
      break;
    case Prediction::Verdict::kFails:
      text = absl::StrCat("fails ", FailureClassName(prediction.failure), ": ", prediction.reason);
      break;
    case Prediction::Verdict::kUncertain:
      text = absl::StrCat("uncertain: ", prediction.reason);
      break;
  }
  if (!prediction.uncertainties.empty()) {
    absl::StrAppend(&text, " [uncertain: ", absl::StrJoin(prediction.uncertainties, "; "), "]");
  }
  if (!prediction.alternatives.empty()) {
    absl::StrAppend(&text, " [not sure which: ", absl::StrJoin(prediction.alternatives, "; "), "]");
  }
  return text;
}

bool IsSure(const Prediction& prediction) {
  return prediction.verdict != Prediction::Verdict::kUncertain && prediction.uncertainties.empty();
}

tlsweep::v1::TlsFailureClass PredictedFailureToProto(const Prediction& prediction) {
  if (prediction.verdict != Prediction::Verdict::kFails) return tlsweep::v1::TLS_FAILURE_NONE;
  switch (prediction.failure) {
    case FailureClass::kNoSharedCipher:
      return tlsweep::v1::TLS_FAILURE_NO_SHARED_CIPHER;
    case FailureClass::kProtocolVersion:
      return tlsweep::v1::TLS_FAILURE_PROTOCOL_VERSION;
    case FailureClass::kInternalError:
      return tlsweep::v1::TLS_FAILURE_INTERNAL_ERROR;
    case FailureClass::kAlertReceived:
      return tlsweep::v1::TLS_FAILURE_ALERT_RECEIVED;
    case FailureClass::kAlertSent:
      return tlsweep::v1::TLS_FAILURE_ALERT_SENT;
    case FailureClass::kUnexpectedEof:
      return tlsweep::v1::TLS_FAILURE_UNEXPECTED_EOF;
    case FailureClass::kNotTls:
      return tlsweep::v1::TLS_FAILURE_NOT_TLS;
    case FailureClass::kTimeout:
      return tlsweep::v1::TLS_FAILURE_HANDSHAKE_TIMEOUT;
    case FailureClass::kNone:
      break;
  }
  return tlsweep::v1::TLS_FAILURE_NONE;
}

}  // namespace tlsweep::backends
