// How one probe result, and one domain's set of MX results, read to a sending MTA. Pure
// functions, so the rules are unit-tested apart from SQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator::report {

// Where a probe stopped, coarsely. kOk, kStarttls and kTls mean the SMTP session was reached:
// the outcome there depends on the TLS configuration. The others fail whatever the config.
enum class FailureGroup : int {
  kOk = 0,
  kDns = 1,
  kTcp = 2,
  kSmtp = 3,
  kStarttls = 4,
  kTls = 5,
  kNotProbed = 6,  // Opted out, address not allowed, config error, agent lost.
};

FailureGroup GroupOf(tlsweep::v1::ProbeFailure failure);
absl::string_view GroupName(FailureGroup group);
bool Reached(tlsweep::v1::ProbeFailure failure);
// "ok", "tls_no_shared_cipher"... (lower-case enum names, as `tlsweep probe` prints them).
std::string FailureName(int failure);
// "TLSv1.0" ... "TLSv1.3", "SSLv3"; "unknown" otherwise (the report's spelling of versions).
std::string VersionName(int version);

// The root cause of a failed STARTTLS/TLS stage in words, for the backend differential:
// "no shared suite", "protocol version", "key-exchange group", "DH size", "certificate"...
// Empty for a success or a failure before STARTTLS.
std::string RootCause(const tlsweep::v1::ProbeResult& result);

// A rough strength rank of a negotiated suite (higher is stronger): TLS 1.3 > ECDHE/DHE AEAD >
// CBC > 3DES/RC4 > NULL/export/anonymous. Used to call a change of suite a downgrade.
int SuiteRank(absl::string_view iana_name);

// TLS required reading of a domain.
enum class Required : int { kOk = 0, kDegraded = 1, kFails = 2, kUnreachable = 3 };
// Opportunistic reading: the first MX reached negotiates TLS, or the mail goes in clear text.
enum class Opportunistic : int { kTls = 0, kCleartext = 1, kUnreachable = 2 };
absl::string_view RequiredName(Required verdict);
absl::string_view OpportunisticName(Opportunistic verdict);

// One MX endpoint result of a domain, as the verdict needs it.
struct MxOutcome {
  uint32_t preference = 0;
  std::string mx_host;
  std::string address;
  tlsweep::v1::ProbeFailure failure = tlsweep::v1::PROBE_OK;
};

struct DomainVerdict {
  Required required = Required::kOk;
  Opportunistic opportunistic = Opportunistic::kTls;
  // The outcome that decides: the first endpoint (in preference order) that negotiated TLS;
  // else the first one reached; else the first one. Index into the input.
  size_t decisive = 0;
  // The failure the domain sees: for kFails/kDegraded the first reached endpoint that failed;
  // for kUnreachable the first endpoint's.
  size_t failure_index = 0;
  int failing_endpoints = 0;  // Reached, but STARTTLS/TLS failed.
};

// `outcomes` must be sorted by (preference, mx_host, address) and non-empty. The primary MX is
// every endpoint at the lowest preference. TLS required: ok when a primary endpoint negotiates
// TLS, degraded when only a backup does, fails when none does but one was reached, unreachable
// when none was reached. Opportunistic: decided by the first endpoint reached.
DomainVerdict JudgeDomain(const std::vector<MxOutcome>& outcomes);

}  // namespace tlsweep::coordinator::report
