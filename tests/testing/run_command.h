// Runs a shell command from a test and captures its standard output.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace tlsweep::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // Standard output only.
};

absl::StatusOr<CommandResult> RunCommand(const std::string& command);

// Wraps `text` in single quotes for /bin/sh.
std::string ShellQuote(const std::string& text);

}  // namespace tlsweep::testing
