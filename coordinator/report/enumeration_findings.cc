#include "coordinator/report/enumeration_findings.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/probe_kind.h"
#include "backends/tls_version.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::coordinator::report {

std::vector<EnumerationFinding> FindingsOf(const tlsweep::v1::ProbeResult& result) {
  std::vector<EnumerationFinding> findings;
  if (backends::ProbeKindOf(result) != tlsweep::v1::PROBE_KIND_ENUMERATE ||
      !result.has_enumeration()) {
    return findings;
  }
  const tlsweep::v1::Enumeration& enumeration = result.enumeration();
  std::vector<std::string> partly;
  std::string failure;
  for (const tlsweep::v1::VersionEnumeration& version : enumeration.versions()) {
    if (version.hello_only_suites_size() == 0) continue;
    failure = absl::AsciiStrToLower(
        tlsweep::v1::TlsFailureClass_Name(version.hello_only_failure()).substr(12));
    partly.push_back(
        absl::StrCat(backends::TlsVersionName(backends::VersionFromProto(version.version())), ": ",
                     version.hello_only_suites_size(), " of ", version.suites_size()));
  }
  if (enumeration.broken_server()) {
    findings.push_back(
        {"broken_server", absl::StrCat("accepts ciphers but fails every handshake: broken server (",
                                       failure.empty() ? "after the ServerHello" : failure, ")")});
  } else if (!partly.empty()) {
    findings.push_back(
        {"hello_only_suites", absl::StrCat("some accepted suites fail after the ServerHello (",
                                           failure, "; ", absl::StrJoin(partly, ", "), ")")});
  }
  if (enumeration.sslv2_status() == tlsweep::v1::VersionEnumeration::SUPPORTED) {
    findings.push_back(
        {"sslv2", absl::StrCat("still speaks SSL 2.0 (",
                               absl::StrJoin(enumeration.sslv2_cipher_specs(), ", "), ")")});
  }
  if (!enumeration.incomplete_reason().empty()) {
    findings.push_back(
        {"enumeration_incomplete",
         absl::StrCat(result.failure() == tlsweep::v1::RATE_LIMITED ? "rate-limited: " : "",
                      "enumeration cut short after ", enumeration.retries(),
                      " retries: ", enumeration.incomplete_reason())});
  }
  return findings;
}

}  // namespace tlsweep::coordinator::report
