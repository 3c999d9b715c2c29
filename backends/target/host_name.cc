#include "backends/target/host_name.h"

#include <idn2.h>

#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace tlsweep::backends {
namespace {

constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxNameLength = 253;

struct FreeDeleter {
  void operator()(char* p) const { idn2_free(p); }
};

absl::StatusOr<std::string> ToALabels(const std::string& name) {
  // libidn2 reads a C string: a NUL would cut the name short and pass what precedes it.
  if (name.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("invalid character 0x00");
  }
  char* raw = nullptr;
  int rc = idn2_to_ascii_8z(name.c_str(), &raw, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK) {
    // Some names valid under IDNA2003 (e.g. with symbols UTS #46 maps away) only convert in
    // transitional mode; accept them rather than refuse a name an MTA would resolve.
    raw = nullptr;
    int transitional_rc = idn2_to_ascii_8z(name.c_str(), &raw, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
    if (transitional_rc != IDN2_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a valid internationalised name (", idn2_strerror(rc), ")"));
    }
  }
  std::unique_ptr<char, FreeDeleter> owned(raw);
  return std::string(owned.get());
}

std::string DescribeCharacter(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (absl::ascii_isgraph(byte)) return absl::StrCat("invalid character '", std::string(1, c), "'");
  return absl::StrFormat("invalid character 0x%02x", byte);
}

absl::Status ValidateLabel(absl::string_view label) {
  if (label.empty()) return absl::InvalidArgumentError("empty label");
  if (label.size() > kMaxLabelLength) {
    return absl::InvalidArgumentError("label longer than 63 characters");
  }
  for (char c : label) {
    if (c == '_') return absl::InvalidArgumentError("underscore not allowed in host names");
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return absl::InvalidArgumentError(DescribeCharacter(c));
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return absl::InvalidArgumentError("label starts or ends with a hyphen");
  }
  return absl::OkStatus();
}

}  // namespace

bool HasNonAscii(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

absl::StatusOr<std::string> NormalizeHostName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty name");
  // One trailing dot is the fully-qualified spelling of the same name; more is an empty label.
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return absl::InvalidArgumentError("empty label");

  std::string ascii;
  if (HasNonAscii(name)) {
    absl::StatusOr<std::string> converted = ToALabels(std::string(name));
    if (!converted.ok()) return converted.status();
    ascii = *std::move(converted);
    // UTS #46 maps ideographic full stops to '.', which may have produced a new trailing dot.
    if (!ascii.empty() && ascii.back() == '.') ascii.pop_back();
  } else {
    ascii = std::string(name);
  }
  absl::AsciiStrToLower(&ascii);

  if (ascii.empty()) return absl::InvalidArgumentError("empty name");
  if (ascii.size() > kMaxNameLength) {
    return absl::InvalidArgumentError("name longer than 253 characters");
  }
  absl::string_view last_label;
  for (absl::string_view label : absl::StrSplit(ascii, '.')) {
    if (absl::Status status = ValidateLabel(label); !status.ok()) return status;
    last_label = label;
  }
  bool all_digits = true;
  for (char c : last_label) all_digits = all_digits && absl::ascii_isdigit(c);
  if (all_digits) return absl::InvalidArgumentError("not a valid IP address or host name");
  return ascii;
}

}  // namespace tlsweep::backends
