#include "cli/enumeration_reuse_flags.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::cli {

void AddEnumerationReuseFlags(CLI::App& command, EnumerationReuseFlags& flags) {
  command.add_option(
      "--enumeration-max-age", flags.max_age,
      "With --enumerate: reuse an endpoint's enumeration its region made within this age "
      "(e.g. 7d, 36h, 90m; 0: never) when the endpoint still answers a handshake the same way "
      "(certificate, version, suite, group, STARTTLS); default 7d");
  command.add_flag("--fresh", flags.fresh,
                   "With --enumerate: enumerate every endpoint again, whatever is known");
}

absl::StatusOr<int64_t> ParseMaxAge(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const std::string bad = absl::StrCat("bad age '", text, "': write e.g. 7d, 36h, 90m, 45s or 0");
  if (text == "0") return 0;
  if (text.empty()) return absl::InvalidArgumentError(bad);
  int64_t total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
      ++digits;
    }
    int64_t value = 0;
    if (digits == 0 || digits > 9 || digits == text.size() ||
        !absl::SimpleAtoi(text.substr(0, digits), &value)) {
      return absl::InvalidArgumentError(bad);
    }
    switch (absl::ascii_tolower(static_cast<unsigned char>(text[digits]))) {
      case 'd':
        total += value * 86400;
        break;
      case 'h':
        total += value * 3600;
        break;
      case 'm':
        total += value * 60;
        break;
      case 's':
        total += value;
        break;
      default:
        return absl::InvalidArgumentError(bad);
    }
    text.remove_prefix(digits + 1);
  }
  return total;
}

absl::Status ApplyEnumerationReuse(const EnumerationReuseFlags& flags,
                                   tlsweep::v1::ProbeProfile& profile) {
  profile.set_fresh_enumeration(flags.fresh);
  if (flags.max_age.empty()) return absl::OkStatus();
  absl::StatusOr<int64_t> seconds = ParseMaxAge(flags.max_age);
  if (!seconds.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--enumeration-max-age: ", seconds.status().message()));
  }
  profile.set_enumeration_max_age_s(*seconds);
  return absl::OkStatus();
}

}  // namespace tlsweep::cli
