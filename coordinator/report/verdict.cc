#include "coordinator/report/verdict.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::coordinator::report {

using ::tlsweep::v1::ProbeFailure;

FailureGroup GroupOf(ProbeFailure failure) {
  switch (failure) {
    case v1::PROBE_OK:
      return FailureGroup::kOk;
    case v1::DNS_NXDOMAIN:
    case v1::DNS_NO_ADDRESS:
    case v1::NULL_MX:
    case v1::DNS_TIMEOUT:
    case v1::DNS_SERVFAIL:
    case v1::DNS_ERROR:
      return FailureGroup::kDns;
    case v1::TCP_REFUSED:
    case v1::TCP_TIMEOUT:
    case v1::TCP_ERROR:
      return FailureGroup::kTcp;
    case v1::BANNER_TIMEOUT:
    case v1::SMTP_TIMEOUT:
    case v1::SMTP_REJECTED:
    case v1::SMTP_PROTOCOL_ERROR:
    case v1::RATE_LIMITED:
      return FailureGroup::kSmtp;
    case v1::STARTTLS_NOT_OFFERED:
    case v1::STARTTLS_REFUSED:
      return FailureGroup::kStarttls;
    case v1::TLS_ALERT_RECEIVED:
    case v1::TLS_ALERT_SENT:
    case v1::TLS_NO_SHARED_CIPHER:
    case v1::TLS_PROTOCOL_VERSION:
    case v1::TLS_UNEXPECTED_EOF:
    case v1::TLS_NOT_TLS:
    case v1::TLS_HANDSHAKE_TIMEOUT:
    case v1::TLS_INTERNAL_ERROR:
      return FailureGroup::kTls;
    default:
      return FailureGroup::kNotProbed;
  }
}

absl::string_view GroupName(FailureGroup group) {
  switch (group) {
    case FailureGroup::kOk:
      return "ok";
    case FailureGroup::kDns:
      return "dns";
    case FailureGroup::kTcp:
      return "tcp";
    case FailureGroup::kSmtp:
      return "smtp";
    case FailureGroup::kStarttls:
      return "starttls";
    case FailureGroup::kTls:
      return "tls";
    case FailureGroup::kNotProbed:
      return "not_probed";
  }
  return "not_probed";
}

bool Reached(ProbeFailure failure) {
  const FailureGroup group = GroupOf(failure);
  return group == FailureGroup::kOk || group == FailureGroup::kStarttls ||
         group == FailureGroup::kTls;
}

std::string VersionName(int version) {
  switch (version) {
    case tlsweep::v1::SSLV3:
      return "SSLv3";
    case tlsweep::v1::TLSV1_0:
      return "TLSv1.0";
    case tlsweep::v1::TLSV1_1:
      return "TLSv1.1";
    case tlsweep::v1::TLSV1_2:
      return "TLSv1.2";
    case tlsweep::v1::TLSV1_3:
      return "TLSv1.3";
    default:
      return "unknown";
  }
}

std::string FailureName(int failure) {
  if (failure == v1::PROBE_OK) return "ok";
  if (!v1::ProbeFailure_IsValid(failure)) return absl::StrCat("failure_", failure);
  return absl::AsciiStrToLower(v1::ProbeFailure_Name(static_cast<ProbeFailure>(failure)));
}

std::string RootCause(const v1::ProbeResult& result) {
  switch (result.failure()) {
    case v1::STARTTLS_NOT_OFFERED:
      return "STARTTLS not offered";
    case v1::STARTTLS_REFUSED:
      return "STARTTLS refused";
    default:
      break;
  }
  if (GroupOf(result.failure()) != FailureGroup::kTls) return "";
  const v1::TlsHandshake& tls = result.tls();
  const std::string error = absl::AsciiStrToLower(tls.library_error());
  // Library messages first: they name the DH and group problems that alerts blur together.
  if (absl::StrContains(error, "dh key too small") ||
      absl::StrContains(error, "dh_key_too_small") ||
      absl::StrContains(error, "diffie-hellman prime") || absl::StrContains(error, "dh prime")) {
    return "DH size";
  }
  if (absl::StrContains(error, "group") || absl::StrContains(error, "curve")) {
    return "key-exchange group";
  }
  const int alert = tls.alert_code();
  if (absl::StrContains(error, "certificate") || alert == 42 || alert == 43 || alert == 44 ||
      alert == 45 || alert == 46 || alert == 48) {
    return "certificate";
  }
  switch (result.failure()) {
    case v1::TLS_NO_SHARED_CIPHER:
      return "no shared suite";
    case v1::TLS_PROTOCOL_VERSION:
      return "protocol version";
    case v1::TLS_UNEXPECTED_EOF:
      return "connection closed";
    case v1::TLS_NOT_TLS:
      return "not TLS";
    case v1::TLS_HANDSHAKE_TIMEOUT:
      return "handshake timeout";
    case v1::TLS_INTERNAL_ERROR:
      return "local error";
    default:
      break;
  }
  if (!tls.alert_name().empty()) return absl::StrCat("alert ", tls.alert_name());
  return FailureName(result.failure());
}

int SuiteRank(absl::string_view name) {
  if (name.empty()) return 0;
  if (!absl::StrContains(name, "_WITH_")) return 100;  // TLS 1.3: TLS_AES_128_GCM_SHA256...
  if (absl::StrContains(name, "_NULL_") || absl::StrContains(name, "EXPORT") ||
      absl::StrContains(name, "_anon_")) {
    return 1;
  }
  int rank = 0;
  if (absl::StartsWith(name, "TLS_ECDHE_")) {
    rank += 20;
  } else if (absl::StartsWith(name, "TLS_DHE_")) {
    rank += 15;
  }
  if (absl::StrContains(name, "CHACHA20") || absl::StrContains(name, "_GCM_")) {
    rank += 30;
  } else if (absl::StrContains(name, "_CCM_8")) {
    rank += 20;
  } else if (absl::StrContains(name, "_CCM")) {
    rank += 25;
  } else if (absl::StrContains(name, "_AES_")) {
    rank += 10;
  } else if (absl::StrContains(name, "CAMELLIA") || absl::StrContains(name, "ARIA") ||
             absl::StrContains(name, "SEED")) {
    rank += 8;
  } else if (absl::StrContains(name, "3DES") || absl::StrContains(name, "_RC4_")) {
    rank += 2;
  }
  return rank + 2;
}

absl::string_view RequiredName(Required verdict) {
  switch (verdict) {
    case Required::kOk:
      return "ok";
    case Required::kDegraded:
      return "degraded";
    case Required::kFails:
      return "fails";
    case Required::kUnreachable:
      return "unreachable";
  }
  return "unreachable";
}

absl::string_view OpportunisticName(Opportunistic verdict) {
  switch (verdict) {
    case Opportunistic::kTls:
      return "tls";
    case Opportunistic::kCleartext:
      return "cleartext";
    case Opportunistic::kUnreachable:
      return "unreachable";
  }
  return "unreachable";
}

DomainVerdict JudgeDomain(const std::vector<MxOutcome>& outcomes) {
  DomainVerdict verdict;
  if (outcomes.empty()) {
    verdict.required = Required::kUnreachable;
    verdict.opportunistic = Opportunistic::kUnreachable;
    return verdict;
  }
  const uint32_t primary = outcomes.front().preference;
  bool primary_ok = false;
  size_t first_ok = outcomes.size();
  size_t first_reached = outcomes.size();
  size_t first_failed_reached = outcomes.size();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const ProbeFailure failure = outcomes[i].failure;
    if (!Reached(failure)) continue;
    if (first_reached == outcomes.size()) first_reached = i;
    if (failure == v1::PROBE_OK) {
      if (first_ok == outcomes.size()) first_ok = i;
      primary_ok |= outcomes[i].preference == primary;
    } else {
      ++verdict.failing_endpoints;
      if (first_failed_reached == outcomes.size()) first_failed_reached = i;
    }
  }
  if (first_reached == outcomes.size()) {
    verdict.required = Required::kUnreachable;
    verdict.opportunistic = Opportunistic::kUnreachable;
    verdict.decisive = 0;
    verdict.failure_index = 0;
    return verdict;
  }
  verdict.opportunistic = outcomes[first_reached].failure == v1::PROBE_OK
                              ? Opportunistic::kTls
                              : Opportunistic::kCleartext;
  if (primary_ok) {
    verdict.required = Required::kOk;
  } else if (first_ok < outcomes.size()) {
    verdict.required = Required::kDegraded;
  } else {
    verdict.required = Required::kFails;
  }
  verdict.decisive = first_ok < outcomes.size() ? first_ok : first_reached;
  if (verdict.required == Required::kDegraded) {
    // The primary's own failure: a TLS one when it was reached, else why it was not.
    verdict.failure_index = first_failed_reached < first_ok ? first_failed_reached : 0;
  } else if (verdict.required == Required::kFails) {
    verdict.failure_index = first_failed_reached;
  } else {
    verdict.failure_index = verdict.decisive;
  }
  return verdict;
}

}  // namespace tlsweep::coordinator::report
