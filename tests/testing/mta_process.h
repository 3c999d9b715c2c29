// Plumbing shared by the real-MTA fixtures (Exim, OpenSMTPD, Haraka): where
// tests/testing/fetch_mtas unpacked them, starting a daemon in the foreground inside a private
// mount namespace, waiting for its greeting, stopping and reaping it, reading its log.
//
// Why a mount namespace: the daemons must never send a DNS query off this machine, and some
// cannot be told to skip every lookup (OpenSMTPD's resolver asks for the client's PTR record on
// each connection). Inside the namespace /etc/resolv.conf is replaced by one that names a dead
// loopback address of the fixture's own block (and says "lookup file" to OpenSMTPD's libasr),
// and the paths a daemon hard-codes (/var/spool/smtpd, /run) can be private to one instance.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tlsweep::testing {

// ${TLSWEEP_MTA_DIR:-/opt/tlsweep-mtas}: where tests/testing/fetch_mtas puts the MTAs.
std::string MtaDirectory();

// OK if MtaDirectory()/relative_path exists and is executable; otherwise FailedPrecondition
// with a message that says to run tests/testing/fetch_mtas.
absl::Status RequireMtaProgram(const std::string& relative_path, absl::string_view what);

struct DaemonSpec {
  std::string program;
  std::vector<std::string> args;
  std::string log_file;  // Standard output and error (appended).
  // Mounted over system paths inside the daemon's private mount namespace: {source, target}.
  std::vector<std::pair<std::string, std::string>> bind_mounts;
  std::vector<std::string> tmpfs_mounts;  // Empty tmpfs over these paths (e.g. "/run").
};

// Starts `spec.program` as a child of this process (posix_spawn: see child_process.h for why
// not fork) in a new process group, through unshare(1) and a shell that sets up the mounts and
// then execs the program, so the returned pid is the daemon's own. stdin is /dev/null. This
// process becomes a child subreaper, so the daemon's own children are reaped by StopDaemon.
absl::StatusOr<pid_t> StartDaemon(const DaemonSpec& spec);

// False once the daemon has exited (and reaps it then).
bool DaemonRunning(pid_t pid);

// SIGTERM to the daemon's process group, up to `grace` for it to exit, then SIGKILL to whatever
// is left of the group, and reaps every member that is (or became) our child.
void StopDaemon(pid_t pid, absl::Duration grace = absl::Seconds(5));

// A resolv.conf for a daemon's namespace: the only name server is `dead_address` (a loopback
// address where nothing listens, so a stray query fails at once and never leaves the host).
std::string NoDnsResolvConf(const std::string& dead_address);

// Connects from `source` (empty: any) to address:port and reads one complete SMTP reply (all
// continuation lines); OK only if it is a 220 greeting. Sends QUIT and closes.
absl::StatusOr<std::string> ReadGreeting(const std::string& source, const std::string& address,
                                         uint16_t port, absl::Duration timeout);

// ReadGreeting until it succeeds; fails early if the daemon `pid` exits, or after `timeout`.
absl::StatusOr<std::string> WaitForGreeting(pid_t pid, const std::string& source,
                                            const std::string& address, uint16_t port,
                                            absl::Duration timeout);

absl::Status WriteTextFile(const std::string& path, absl::string_view content, mode_t mode = 0644);
absl::StatusOr<std::string> ReadTextFile(const std::string& path);
// The last `lines` lines of a file, or "(no PATH)".
std::string FileTail(const std::string& path, int lines = 30);

// Copies `from` to `to` with `mode`, owned by `user` (empty: root): daemons that drop privileges
// read their certificate and key after doing so.
absl::Status CopyFileForUser(const std::string& from, const std::string& to,
                             const std::string& user, mode_t mode);
// chown -R to `user` and its primary group.
absl::Status ChownTree(const std::string& path, const std::string& user);

// "name" with everything but letters, digits and '-' replaced by '_' (file and ACL names).
std::string SafeFileName(absl::string_view name);

}  // namespace tlsweep::testing
