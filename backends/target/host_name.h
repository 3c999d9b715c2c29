// Host and domain names as tlsweep keys them: one spelling per name, so that targets, opt-out
// rules and provider keys compare equal however the user wrote them.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends {

// Returns `name` as a lower-case A-label with no trailing dot, or InvalidArgument with a short
// reason ("empty label", "label longer than 63 characters", ...).
//
// Unicode names go through libidn2 (UTS #46 non-transitional with NFC input, falling back to
// transitional for names only the old IDNA2003 rules accept), so "Bücher.example" becomes
// "xn--bcher-kva.example". The result must be a host name in the RFC 1123 sense: labels of
// 1..63 letters, digits and hyphens, not starting or ending with a hyphen, at most 253
// characters in all. Underscores are rejected (SRV-style labels are never mail hosts), and so
// is an all-numeric last label, which is a mistyped IPv4 address rather than a name.
absl::StatusOr<std::string> NormalizeHostName(absl::string_view name);

// True when `text` contains a byte outside ASCII, i.e. needs IDNA conversion.
bool HasNonAscii(absl::string_view text);

}  // namespace tlsweep::backends
