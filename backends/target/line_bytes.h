// What the bytes of a list line may be. Lists come from anywhere (exports, spreadsheets,
// concatenated files), so a line may hold a NUL, a terminal escape or Latin-1 bytes. Such a line
// is a bad line, never a target: a NUL would cut the name short in C APIs (libidn2), and every
// text that reaches a proto3 string field, a terminal or a report must be valid, printable UTF-8.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends {

// InvalidArgument naming the first control byte (NUL, ESC... except TAB) or the first byte
// that is not valid UTF-8, with its column.
absl::Status CheckLineBytes(absl::string_view text);

// `text` with every control byte and every byte that is not part of valid UTF-8 written as
// \xNN (and '\' as "\\"): safe to print, to store and to put in a proto string.
std::string EscapeLineBytes(absl::string_view text);

}  // namespace tlsweep::backends
