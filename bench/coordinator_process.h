// A tlsweep-coordinator run as a child process (--dev, on 127.0.0.1, the port chosen by the
// kernel), so that its memory can be read from /proc/PID/status apart from the client's.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tlsweep::bench {

// A "VmRSS:"-style field of /proc/PID/status in KiB; -1 when it cannot be read.
long ProcStatusKb(pid_t pid, const char* field);

class CoordinatorProcess {
 public:
  // Starts `binary` with `--dev --listen 127.0.0.1:0 --store store_path` and waits for the
  // port it prints.
  static absl::StatusOr<std::unique_ptr<CoordinatorProcess>> Start(const std::string& binary,
                                                                   const std::string& store_path);
  ~CoordinatorProcess();  // Stop().

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  long StatusKb(const char* field) const { return ProcStatusKb(pid_, field); }

  // SIGTERM and waits (SIGKILL after 30 s); returns the wait status.
  int Stop();

 private:
  CoordinatorProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

}  // namespace tlsweep::bench
