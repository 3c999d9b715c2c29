#include "cli/result_printer.h"

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/outcome_proto.h"

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

}  // namespace

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
  absl::StrAppend(&out, where, origin, result.reused() ? "  [result reused]" : "", "\n");
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
  if (result.failure() == tlsweep::v1::PROBE_OK) {
    absl::StrAppendFormat(&out, "  %-9s OK (%s total)\n", "verdict", Millis(timings.total_us()));
  } else {
    absl::StrAppendFormat(&out, "  %-9s FAILED %s: %s\n", "verdict", FailureName(result.failure()),
                          result.failure_detail());
  }
  if (result.attempts() > 1) {
    absl::StrAppendFormat(&out, "  %-9s %d connections (rate-limited, backed off)\n", "attempts",
                          result.attempts());
  }
  return out;
}

}  // namespace tlsweep::cli
