#include "coordinator/list_upload.h"

#include "absl/strings/str_cat.h"
#include "backends/target/list_line_reader.h"
#include "backends/target/shard_target.h"
#include "backends/target/target.h"

namespace tlsweep::coordinator {
namespace {

constexpr size_t kErrorsInStatus = 20;

}  // namespace

absl::Status ReadTargetList(std::istream& in, uint16_t default_port, uint64_t max_lines,
                            SubmissionWriter& writer, SubmissionStats& stats) {
  backends::ListLineReader lines(in);
  backends::BadLineLog bad_lines;
  backends::ListLine line;
  while (lines.Next(line)) {
    if (line.line_number > max_lines) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the list has more than ", max_lines,
                       " lines, the coordinator's limit (--max-list-lines); split it"));
    }
    if (line.too_long) {
      bad_lines.Add(line.line_number, line.text, "line too long");
      continue;
    }
    absl::StatusOr<backends::Target> target = backends::ParseTarget(line.text, default_port);
    if (!target.ok()) {
      bad_lines.Add(line.line_number, line.text, target.status().message());
      continue;
    }
    TargetRow row;
    row.line_number = line.line_number;
    row.input = target->input;
    row.key = backends::TargetKey(*target);
    if (target->kind == backends::Target::Kind::kDomain) row.domain = target->name;
    row.weight = target->weight;
    row.kind = backends::TargetKindOf(target->kind);
    row.name = target->name;
    row.port = target->port;
    absl::StatusOr<bool> added = writer.AddTarget(row);
    if (!added.ok()) return added.status();
    if (*added) ++stats.targets;
  }
  stats.lines = lines.lines_read();
  stats.bad_line_count = bad_lines.count();
  for (const backends::BadLine& bad : bad_lines.lines()) {
    tlsweep::v1::LineError* error = &stats.bad_lines.emplace_back();
    error->set_line_number(bad.line_number);
    error->set_text(bad.text);
    error->set_reason(bad.reason);
  }
  return absl::OkStatus();
}

absl::Status RejectionOf(const SubmissionStats& stats) {
  std::string message = absl::StrCat(stats.bad_line_count, " bad line(s); the list is rejected:");
  for (size_t i = 0; i < stats.bad_lines.size() && i < kErrorsInStatus; ++i) {
    const tlsweep::v1::LineError& bad = stats.bad_lines[i];
    backends::BadLine line;
    line.line_number = bad.line_number();
    line.text = bad.text();
    line.reason = bad.reason();
    absl::StrAppend(&message, "\n", backends::FormatBadLine(line, "list"));
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace tlsweep::coordinator
