#include "backends/target/list_line_reader.h"

#include <streambuf>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/target/line_bytes.h"

namespace tlsweep::backends {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr size_t kMaxStoredTextLength = 200;

}  // namespace

bool ListLineReader::ReadPhysicalLine(std::string& raw, bool& too_long) {
  raw.clear();
  too_long = false;
  std::streambuf* buffer = in_.rdbuf();
  if (buffer == nullptr || !in_.good()) return false;
  bool any = false;
  // The buffer is read directly (not through std::getline) so that a line's length is bounded;
  // that bypasses istream's own catching, so a throwing buffer is turned into badbit here.
  try {
    while (true) {
      const std::streambuf::int_type next = buffer->sbumpc();
      if (std::streambuf::traits_type::eq_int_type(next, std::streambuf::traits_type::eof())) {
        in_.setstate(std::ios_base::eofbit);
        return any;
      }
      any = true;
      const char c = std::streambuf::traits_type::to_char_type(next);
      if (c == '\n') return true;
      if (raw.size() < kMaxLineLength) {
        raw.push_back(c);
      } else {
        too_long = true;  // keep consuming up to the newline, storing nothing more
      }
    }
  } catch (...) {
    in_.setstate(std::ios_base::badbit);
    return false;
  }
}

bool ListLineReader::Next(ListLine& line) {
  bool too_long = false;
  while (ReadPhysicalLine(raw_, too_long)) {
    ++lines_read_;
    absl::string_view text = raw_;
    if (lines_read_ == 1 && absl::StartsWith(text, kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
    // Nothing tlsweep lists hold contains '#', so the first one starts a comment wherever it is;
    // what was cut off a long line is then comment too.
    if (const size_t hash = text.find('#'); hash != absl::string_view::npos) {
      text = text.substr(0, hash);
      too_long = false;
    }
    text = absl::StripAsciiWhitespace(text);  // also drops the '\r' of CRLF
    if (text.empty() && !too_long) continue;
    line.line_number = lines_read_;
    line.text = std::string(text);
    line.too_long = too_long;
    return true;
  }
  return false;
}

void BadLineLog::Add(uint64_t line_number, absl::string_view text, absl::string_view reason) {
  ++count_;
  if (lines_.size() >= capacity_) return;
  if (text.size() > kMaxStoredTextLength) text = text.substr(0, kMaxStoredTextLength);
  // Escaped: the text goes to terminals, proto strings (valid UTF-8 only) and reports.
  lines_.push_back(BadLine{line_number, EscapeLineBytes(text), std::string(reason)});
}

std::string FormatBadLine(const BadLine& bad, absl::string_view file_name, absl::string_view what) {
  return absl::StrCat(file_name, ":", bad.line_number, ": bad ", what, " '", bad.text,
                      "': ", bad.reason);
}

}  // namespace tlsweep::backends
