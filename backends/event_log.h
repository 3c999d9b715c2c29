// One structured line per operational event (a scan changing state, a lease granted or expired,
// an agent connecting), in logfmt: `ts=2026-12-05T12:00:00.123Z prog=tlsweep-coordinator
// event=lease_granted agent=eu-1 region=eu scan=s1 lease=7`. Log shippers (Loki, Vector,
// fluent-bit) parse it without a schema, and grep still works. Lines go to stderr whole, so
// lines of concurrent threads never interleave.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace tlsweep {

struct LogField {
  absl::string_view key;
  std::string value;
};

// The line for `event` with `fields` in order; values with spaces, quotes or '=' are quoted.
std::string FormatEvent(absl::string_view program, absl::string_view event,
                        std::initializer_list<LogField> fields);

// Writes FormatEvent(...) and a newline to stderr in one write.
void LogEvent(absl::string_view program, absl::string_view event,
              std::initializer_list<LogField> fields);

}  // namespace tlsweep
