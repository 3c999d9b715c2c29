#include "cli/result_printer.h"

#include <ctime>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/outcome_proto.h"
#include "backends/probe_kind.h"

namespace tlsweep::cli {
namespace {

std::string Millis(uint64_t micros) { return absl::StrFormat("%.1f ms", micros / 1000.0); }

std::string Date(int64_t unix_seconds) {
  const time_t seconds = static_cast<time_t>(unix_seconds);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char buffer[32];
  strftime(buffer, sizeof(buffer), "%Y-%m-%d", &parts);
  return buffer;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string ConfirmationText(const tlsweep::v1::VersionEnumeration& version) {
  switch (version.confirmation()) {
    case tlsweep::v1::VersionEnumeration::CONFIRMED:
      return ", confirmed by a complete handshake";
    case tlsweep::v1::VersionEnumeration::PARTLY_CONFIRMED:
      return ", some suites fail after the ServerHello";
    case tlsweep::v1::VersionEnumeration::HELLO_ONLY:
      return ", but EVERY complete handshake fails after the ServerHello";
    case tlsweep::v1::VersionEnumeration::NOT_CONFIRMED:
      return ", not confirmed (no connection for a complete handshake)";
    case tlsweep::v1::VersionEnumeration::UNCONFIRMABLE:
      return ", ServerHello only (no local library can complete these suites)";
    default:
      return "";
  }
}

std::string StatusName(tlsweep::v1::VersionEnumeration::Status status) {
  switch (status) {
    case tlsweep::v1::VersionEnumeration::SUPPORTED:
      return "supported";
    case tlsweep::v1::VersionEnumeration::NOT_SUPPORTED:
      return "not supported";
    case tlsweep::v1::VersionEnumeration::NOT_TESTED:
      return "not tested (no loaded backend can offer it)";
    case tlsweep::v1::VersionEnumeration::ERROR:
      return "error";
    case tlsweep::v1::VersionEnumeration::INCOMPLETE:
      return "INCOMPLETE";
    default:
      return "unknown";
  }
}

}  // namespace

std::string FormatEnumeration(const tlsweep::v1::Enumeration& enumeration) {
  std::string out;
  for (const tlsweep::v1::VersionEnumeration& version : enumeration.versions()) {
    const std::string name(backends::TlsVersionName(backends::VersionFromProto(version.version())));
    std::string preference;
    if (version.suites_size() > 1) {
      preference = !version.preference_tested()  ? ", preference not tested"
                   : version.server_preference() ? ", server's order"
                                                 : ", client's order";
    }
    const bool listed = version.status() == tlsweep::v1::VersionEnumeration::SUPPORTED ||
                        version.status() == tlsweep::v1::VersionEnumeration::INCOMPLETE;
    absl::StrAppendFormat(
        &out, "  %-9s %s%s\n", name, StatusName(version.status()),
        listed ? absl::StrCat(": ", version.suites_size(),
                              version.status() == tlsweep::v1::VersionEnumeration::INCOMPLETE
                                  ? " suites found before it was cut short"
                                  : " suites",
                              preference, ConfirmationText(version))
               : "");
    std::set<uint32_t> hello_only(version.hello_only_suites().begin(),
                                  version.hello_only_suites().end());
    std::set<uint32_t> unconfirmable(version.unconfirmable_suites().begin(),
                                     version.unconfirmable_suites().end());
    for (int i = 0; i < version.suites_size(); ++i) {
      const uint32_t code = version.suites(i).code_point();
      absl::StrAppendFormat(
          &out, "  %-9s   %2d. %-45s %s%s\n", "", i + 1, version.suites(i).iana_name(),
          i < version.found_by_size() ? version.found_by(i) : "",
          hello_only.contains(code)      ? "  ServerHello only: the handshake then fails"
          : unconfirmable.contains(code) ? "  ServerHello only; no local library can complete"
                                         : "");
    }
    if (version.groups_size() > 0) {
      absl::StrAppendFormat(&out, "  %-9s   groups: %s (%s)\n", "",
                            absl::StrJoin(version.groups(), " "),
                            !version.group_preference_tested()  ? "whose order picks: not tested"
                            : version.group_server_preference() ? "server's order"
                                                                : "the client's order picks");
    }
    if (version.dh_bits() > 0) {
      absl::StrAppendFormat(&out, "  %-9s   DHE prime: %d bits\n", "", version.dh_bits());
    }
    if (!version.detail().empty() &&
        version.status() != tlsweep::v1::VersionEnumeration::SUPPORTED) {
      absl::StrAppendFormat(&out, "  %-9s   %s\n", "", version.detail());
    }
    if (version.untested_suites_size() > 0) {
      absl::StrAppendFormat(&out, "  %-9s   %d suites not testable with the loaded backends\n", "",
                            version.untested_suites_size());
    }
  }
  switch (enumeration.sslv2_status()) {
    case tlsweep::v1::VersionEnumeration::SUPPORTED:
      absl::StrAppendFormat(&out, "  %-9s SUPPORTED (ServerHello only): %s\n", "SSLv2",
                            absl::StrJoin(enumeration.sslv2_cipher_specs(), " "));
      break;
    case tlsweep::v1::VersionEnumeration::NOT_SUPPORTED:
    case tlsweep::v1::VersionEnumeration::INCOMPLETE:
      absl::StrAppendFormat(&out, "  %-9s %s\n", "SSLv2", StatusName(enumeration.sslv2_status()));
      break;
    default:
      break;
  }
  if (enumeration.broken_server()) {
    absl::StrAppendFormat(&out, "  %-9s accepts ciphers but fails every handshake: broken server\n",
                          "FINDING");
  }
  if (!enumeration.incomplete_reason().empty()) {
    absl::StrAppendFormat(&out, "  %-9s cut short: %s\n", "INCOMPLETE",
                          enumeration.incomplete_reason());
  }
  absl::StrAppendFormat(
      &out, "  %-9s %d handshakes (elimination floor %d) + %d complete, %d retries, via %s in %s\n",
      "enumerate", enumeration.handshakes(), enumeration.floor_handshakes(),
      enumeration.confirmation_handshakes(), enumeration.retries(),
      absl::StrJoin(enumeration.backends(), "+"), Millis(enumeration.duration_us()));
  return out;
}

std::string FailureName(tlsweep::v1::ProbeFailure failure) {
  if (failure == tlsweep::v1::PROBE_OK) return "ok";
  return absl::AsciiStrToLower(tlsweep::v1::ProbeFailure_Name(failure));
}

std::string FormatResult(const tlsweep::v1::ProbeResult& result) {
  std::string out;
  std::string where = result.mx_host();
  if (!result.address().empty() && result.address() != result.mx_host()) {
    absl::StrAppend(&where, " [", result.address(), "]");
  }
  absl::StrAppend(&where, ":", result.port());
  std::string origin;
  if (!result.domain().empty()) {
    origin = result.implicit_mx()
                 ? absl::StrCat(" (", result.domain(), ", implicit MX)")
                 : absl::StrCat(" (", result.domain(), " MX ", result.mx_preference(), ")");
  }
  // Which candidate (or the enumeration) this block is, so that several read apart.
  std::string label;
  if (backends::ProbeKindOf(result) == tlsweep::v1::PROBE_KIND_ENUMERATE) {
    label = "  [enumeration]";
  } else if (!result.tls_settings().name().empty()) {
    label = absl::StrCat("  [candidate ", result.tls_settings().name(),
                         result.tls_settings().backend().empty()
                             ? ""
                             : absl::StrCat(", ", result.tls_settings().backend()),
                         "]");
  }
  absl::StrAppend(&out, where, origin, label, result.reused() ? "  [result reused]" : "", "\n");
  const auto& timings = result.timings();
  if (result.has_banner()) {
    absl::StrAppendFormat(&out, "  %-9s %d %s  (%s)\n", "banner", result.banner().code(),
                          result.banner().text().substr(0, 80), Millis(timings.banner_us()));
  }
  if (result.has_ehlo()) {
    bool starttls = false;
    for (const std::string& keyword : result.ehlo_keywords()) starttls |= keyword == "STARTTLS";
    absl::StrAppendFormat(&out, "  %-9s %d, STARTTLS %s  (%s)\n", "EHLO", result.ehlo().code(),
                          starttls ? "offered" : "not offered", Millis(timings.ehlo_us()));
  }
  if (result.has_starttls()) {
    absl::StrAppendFormat(&out, "  %-9s %d %s  (%s)\n", "STARTTLS", result.starttls().code(),
                          result.starttls().text().substr(0, 60), Millis(timings.starttls_us()));
  }
  if (result.has_tls()) {
    const tlsweep::v1::TlsHandshake& tls = result.tls();
    const auto& settings = result.tls_settings();
    if (tls.success()) {
      absl::StrAppendFormat(&out, "  %-9s %s %s%s via %s  (%s)\n", "TLS",
                            backends::TlsVersionName(backends::VersionFromProto(tls.version())),
                            tls.suite().iana_name(),
                            tls.group().empty() ? "" : absl::StrCat(", group ", tls.group()),
                            settings.backend(), Millis(timings.handshake_us()));
    } else {
      absl::StrAppendFormat(&out, "  %-9s failed via %s: %s%s  (%s)\n", "TLS", settings.backend(),
                            absl::AsciiStrToLower(tlsweep::v1::TlsFailureClass_Name(tls.failure())),
                            tls.alert_code() >= 0
                                ? absl::StrCat(" (alert ", tls.alert_name(),
                                               tls.alert_sent() ? " sent)" : " received)")
                                : "",
                            Millis(timings.handshake_us()));
    }
    if (tls.peer_chain_size() > 0) {
      const tlsweep::v1::CertificateSummary& leaf = tls.peer_chain(0);
      absl::StrAppendFormat(&out, "  %-9s %s, %s %d, expires %s\n", "cert", leaf.subject(),
                            leaf.key_type(), leaf.key_bits(), Date(leaf.not_after_unix()));
      if (tls.verification().performed()) {
        absl::StrAppendFormat(
            &out, "  %-9s trusted: %s, name match (%s): %s, expired: %s%s\n", "verify",
            YesNo(tls.verification().trusted()), tls.verification().verified_name(),
            YesNo(tls.verification().hostname_match()), YesNo(tls.verification().expired()),
            tls.verification().error().empty()
                ? ""
                : absl::StrCat(" (", tls.verification().error(), ")"));
      }
    }
  }
  if (result.has_enumeration()) absl::StrAppend(&out, FormatEnumeration(result.enumeration()));
  if (result.failure() == tlsweep::v1::PROBE_OK) {
    absl::StrAppendFormat(&out, "  %-9s OK (%s total)\n", "verdict", Millis(timings.total_us()));
  } else {
    absl::StrAppendFormat(&out, "  %-9s FAILED %s: %s\n", "verdict", FailureName(result.failure()),
                          result.failure_detail());
  }
  if (result.attempts() > 1 && !result.has_enumeration()) {
    absl::StrAppendFormat(&out, "  %-9s %d connections (rate-limited, backed off)\n", "attempts",
                          result.attempts());
  }
  return out;
}

}  // namespace tlsweep::cli
