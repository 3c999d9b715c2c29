#include "backends/event_log.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tlsweep {
namespace {

bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void AppendValue(std::string& out, absl::string_view value) {
  if (!NeedsQuotes(value)) {
    out.append(value.data(), value.size());
    return;
  }
  out.push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        // Other control bytes would break a line-oriented reader: shown as '?'.
        out.push_back(static_cast<unsigned char>(c) < ' ' || c == 0x7f ? '?' : c);
    }
  }
  out.push_back('"');
}

}  // namespace

std::string FormatEvent(absl::string_view program, absl::string_view event,
                        std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " prog=");
  AppendValue(line, program);
  line += " event=";
  AppendValue(line, event);
  for (const LogField& field : fields) {
    absl::StrAppend(&line, " ", field.key, "=");
    AppendValue(line, field.value);
  }
  return line;
}

void LogEvent(absl::string_view program, absl::string_view event,
              std::initializer_list<LogField> fields) {
  std::string line = FormatEvent(program, event, fields);
  line.push_back('\n');
  // One write(2) per line: stderr is unbuffered, and a single write keeps lines whole.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;  // Logging never fails the caller.
    done += static_cast<size_t>(n);
  }
}

}  // namespace tlsweep
