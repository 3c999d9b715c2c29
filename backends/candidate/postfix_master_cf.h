// The services of a Postfix master.cf and the `-o name=value` parameter overrides each one
// passes to its program: what makes the `smtp` transport differ from main.cf.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends {

struct PostfixServiceOverride {
  std::string name;
  std::string value;  // As written: expanded later, like a main.cf value.
  int line = 0;
};

struct PostfixService {
  std::string name;     // "smtp", "relay", "127.0.0.1:10025"...
  std::string type;     // inet, unix, unix-dgram, fifo, pass.
  std::string command;  // The program: "smtp", "smtpd", "pipe"...
  int line = 0;
  std::vector<PostfixServiceOverride> overrides;  // In order: a later one wins.
};

// Syntax as master(5): a logical line starts in column 1 and continues on lines starting with
// whitespace; `#` comment lines and empty lines are skipped; fields are separated by whitespace
// (a {...} group keeps its spaces): service type private unpriv chroot wakeup maxproc command
// [args]. Overrides: `-o name=value`, `-o { name = value }` (Postfix 3.0) and `-oname=value`
// (getopt's attached form). Errors (fewer than 8 fields, a -o without name=value, an
// unbalanced brace) carry file:line.
absl::StatusOr<std::vector<PostfixService>> ParsePostfixMasterCf(absl::string_view content,
                                                                 absl::string_view file_name);

}  // namespace tlsweep::backends
