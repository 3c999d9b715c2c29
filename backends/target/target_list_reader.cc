#include "backends/target/target_list_reader.h"

#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

TargetListReader::TargetListReader(std::istream& in, uint16_t default_port)
    : lines_(in), default_port_(default_port) {}

std::optional<TargetLine> TargetListReader::Next() {
  ListLine line;
  while (lines_.Next(line)) {
    if (line.too_long) {
      bad_lines_.Add(
          line.line_number, line.text,
          absl::StrCat("line longer than ", ListLineReader::kMaxLineLength, " characters"));
      continue;
    }
    absl::StatusOr<Target> target = ParseTarget(line.text, default_port_);
    if (!target.ok()) {
      bad_lines_.Add(line.line_number, line.text, target.status().message());
      continue;
    }
    if (!seen_.insert(absl::Hash<std::string>{}(TargetKey(*target))).second) {
      ++duplicate_count_;
      if (duplicate_lines_.size() < kMaxStoredLines) {
        duplicate_lines_.push_back(DuplicateLine{line.line_number, std::move(line.text)});
      }
      continue;
    }
    return TargetLine{line.line_number, *std::move(target)};
  }
  return std::nullopt;
}

absl::Status TargetListReader::status() const {
  if (lines_.failed()) {
    return absl::DataLossError(
        absl::StrCat("target list unreadable after line ", lines_.lines_read()));
  }
  return absl::OkStatus();
}

std::string FormatDuplicateLine(const DuplicateLine& duplicate, absl::string_view file_name) {
  return absl::StrCat(file_name, ":", duplicate.line_number, ": duplicate target '", duplicate.text,
                      "' skipped");
}

}  // namespace tlsweep::backends
