// The line format shared by tlsweep's list files (targets, opt-outs): one entry a line, '#'
// comments, blank lines, CRLF and a leading UTF-8 BOM tolerated. Reads a stream piece by piece
// so that a list of millions of lines is never held in memory.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::backends {

// One entry: its 1-based line number and its text, comment removed and whitespace trimmed
// (empty only for a too-long line of blanks).
struct ListLine {
  uint64_t line_number = 0;
  std::string text;
  // The line was longer than ListLineReader::kMaxLineLength; `text` holds its start only. The
  // caller reports it as a bad line rather than guess at what was cut off.
  bool too_long = false;
};

class ListLineReader {
 public:
  // Longer lines cannot be a target or a rule; bounding them bounds memory on a file with no
  // newlines at all.
  static constexpr size_t kMaxLineLength = 4096;

  explicit ListLineReader(std::istream& in) : in_(in) {}

  // Fills `line` with the next non-blank, non-comment entry; false at end of input.
  bool Next(ListLine& line);

  // Physical lines consumed so far, blank and comment lines included.
  uint64_t lines_read() const { return lines_read_; }

  // True when the stream failed for a reason other than reaching its end.
  bool failed() const { return in_.bad(); }

 private:
  // Reads one physical line into `raw` (up to kMaxLineLength bytes); false at end of input.
  bool ReadPhysicalLine(std::string& raw, bool& too_long);

  std::istream& in_;
  uint64_t lines_read_ = 0;
  std::string raw_;
};

// A line that could not be used, for the user to fix.
struct BadLine {
  uint64_t line_number = 0;
  std::string text;    // the entry as written (trimmed, comment removed, at most 200 bytes)
  std::string reason;  // e.g. "empty label"
};

// Keeps the first `capacity` bad lines and counts them all: a garbage file must not grow memory.
class BadLineLog {
 public:
  static constexpr size_t kDefaultCapacity = 1000;

  explicit BadLineLog(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  void Add(uint64_t line_number, absl::string_view text, absl::string_view reason);
  const std::vector<BadLine>& lines() const { return lines_; }
  uint64_t count() const { return count_; }

 private:
  size_t capacity_;
  std::vector<BadLine> lines_;
  uint64_t count_ = 0;
};

// "targets.txt:12: bad target 'x..y': empty label". `what` names the kind of entry.
std::string FormatBadLine(const BadLine& bad, absl::string_view file_name,
                          absl::string_view what = "target");

}  // namespace tlsweep::backends
