// Streams targets out of a target file (one a line, see target.h for the syntax and
// list_line_reader.h for comments and blank lines), skipping bad lines and duplicates.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "backends/target/list_line_reader.h"
#include "backends/target/target.h"

namespace tlsweep::backends {

struct TargetLine {
  uint64_t line_number = 0;
  Target target;
};

// A skipped repeat of an earlier target (same TargetKey after normalisation).
struct DuplicateLine {
  uint64_t line_number = 0;
  std::string text;  // as written
};

class TargetListReader {
 public:
  // Bad and duplicate lines kept for reporting; all are counted.
  static constexpr size_t kMaxStoredLines = 1000;

  explicit TargetListReader(std::istream& in, uint16_t default_port = 25);

  // The next good, first-seen target, or nullopt at end of input. Bad lines and duplicates
  // met on the way are recorded.
  std::optional<TargetLine> Next();

  const std::vector<BadLine>& bad_lines() const { return bad_lines_.lines(); }
  uint64_t bad_line_count() const { return bad_lines_.count(); }
  // Duplicates skipped; the first occurrence is the one returned.
  const std::vector<DuplicateLine>& duplicate_lines() const { return duplicate_lines_; }
  uint64_t duplicate_count() const { return duplicate_count_; }
  uint64_t lines_read() const { return lines_.lines_read(); }
  // Targets returned so far.
  uint64_t target_count() const { return seen_.size(); }

  // DataLoss when the stream failed before its end (the targets read so far are incomplete).
  absl::Status status() const;

 private:
  ListLineReader lines_;
  uint16_t default_port_;
  BadLineLog bad_lines_{kMaxStoredLines};
  std::vector<DuplicateLine> duplicate_lines_;
  uint64_t duplicate_count_ = 0;
  // 64-bit hashes of TargetKey rather than the keys: ~8-9 bytes a target (about 150 MB of
  // table at 10M targets, counting the load factor) instead of strings. Two different targets
  // collide with probability ~n^2/2^65 (~3e-6 at 10M); the loser would be reported as a
  // duplicate of the other.
  absl::flat_hash_set<uint64_t> seen_;
};

// "targets.txt:40: duplicate target 'Example.COM.' skipped".
std::string FormatDuplicateLine(const DuplicateLine& duplicate, absl::string_view file_name);

}  // namespace tlsweep::backends
