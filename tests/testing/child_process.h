// A program started by a test in the background (posix_spawn, not fork(): gRPC's fork handlers
// in a threaded test process would leave its client side unable to reconnect). Killed with
// SIGKILL and reaped when the object goes, however the test ends.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tlsweep::testing {

class ChildProcess {
 public:
  // Runs `program` with `args` (argv[1..]); its stdout and stderr go to `log_file`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::string& program,
                                                             const std::vector<std::string>& args,
                                                             const std::string& log_file);
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Sends `signal` and waits for the process to end; returns its wait status.
  int Kill(int signal);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

}  // namespace tlsweep::testing
