// A target list as a user uploads it: the bytes go through TargetListReader (ListLineReader's
// comments, BOM, CRLF and long lines; ParseTarget's IDN names, ports, brackets and weights;
// de-duplication). Every accepted target must be in canonical form: its normalised name
// normalises to itself and its canonical spelling parses to the same key; every bad line's
// stored text must be printable (it goes into proto strings, terminals and reports).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/target/host_name.h"
#include "backends/target/line_bytes.h"
#include "backends/target/list_line_reader.h"
#include "backends/target/target.h"
#include "backends/target/target_list_reader.h"
#include "tests/fuzz/fuzz_check.h"

using tlsweep::backends::Target;

namespace {

// The spelling of `target` a user would write to get exactly it again.
std::string Canonical(const Target& target) {
  switch (target.kind) {
    case Target::Kind::kDomain:
      return target.name;
    case Target::Kind::kHost:
      return absl::StrCat("[", target.name, "]:", target.port);
    case Target::Kind::kAddress:
      return absl::StrCat("[", target.name, "]:", target.port);
  }
  return "";
}

void CheckTarget(const Target& target, uint16_t default_port) {
  FUZZ_CHECK(!target.name.empty());
  FUZZ_CHECK(std::isfinite(target.weight) && target.weight >= 0);
  FUZZ_CHECK(target.port != 0);
  FUZZ_CHECK(target.address.has_value() == (target.kind == Target::Kind::kAddress));
  FUZZ_CHECK(tlsweep::backends::CheckLineBytes(target.input).ok());
  if (target.kind == Target::Kind::kAddress) {
    FUZZ_CHECK(target.address->to_string() == target.name);
  } else {
    absl::StatusOr<std::string> again = tlsweep::backends::NormalizeHostName(target.name);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == target.name);
  }
  if (target.kind == Target::Kind::kDomain) FUZZ_CHECK(target.port == default_port);
  absl::StatusOr<Target> reparsed = tlsweep::backends::ParseTarget(Canonical(target), default_port);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(TargetKey(*reparsed) == TargetKey(target));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The whole input is the list (seeds are real list files); the default port varies with the
  // input's length so that lists are also read with a port other than 25.
  const uint16_t default_port = size % 3 == 0 ? 587 : 25;
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  // Each line alone, as the CLI reads a target argument.
  std::istringstream lines_in(bytes);
  tlsweep::backends::ListLineReader lines(lines_in);
  tlsweep::backends::ListLine line;
  while (lines.Next(line)) {
    FUZZ_CHECK(line.text.size() <= tlsweep::backends::ListLineReader::kMaxLineLength);
    absl::StatusOr<Target> target = tlsweep::backends::ParseTarget(line.text, default_port);
    if (target.ok()) CheckTarget(*target, default_port);
  }

  // The whole list, as a scan submission reads it.
  std::istringstream list_in(bytes);
  tlsweep::backends::TargetListReader reader(list_in, default_port);
  uint64_t targets = 0;
  while (std::optional<tlsweep::backends::TargetLine> next = reader.Next()) {
    FUZZ_CHECK(next->line_number >= 1 && next->line_number <= reader.lines_read());
    CheckTarget(next->target, default_port);
    ++targets;
  }
  FUZZ_CHECK(reader.status().ok());
  FUZZ_CHECK(targets == reader.target_count());
  FUZZ_CHECK(targets + reader.bad_line_count() + reader.duplicate_count() <= reader.lines_read());
  for (const tlsweep::backends::BadLine& bad : reader.bad_lines()) {
    FUZZ_CHECK(tlsweep::backends::CheckLineBytes(bad.text).ok());
    FUZZ_CHECK(!bad.reason.empty());
    (void)tlsweep::backends::FormatBadLine(bad, "targets.txt");
  }
  for (const tlsweep::backends::DuplicateLine& duplicate : reader.duplicate_lines()) {
    (void)tlsweep::backends::FormatDuplicateLine(duplicate, "targets.txt");
  }
  return 0;
}
