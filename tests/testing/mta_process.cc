#include "tests/testing/mta_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/testing/loopback_block.h"
#include "tests/testing/run_command.h"

extern char** environ;

namespace tlsweep::testing {
namespace {

constexpr char kUnshare[] = "/usr/bin/unshare";

sockaddr_in SocketAddress(const std::string& address, uint16_t port) {
  sockaddr_in result{};
  result.sin_family = AF_INET;
  result.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &result.sin_addr);
  return result;
}

// True once `text` holds a complete SMTP reply: a CRLF-terminated line that is not a
// "ddd-" continuation ends it.
bool IsCompleteReply(absl::string_view text) {
  size_t start = 0;
  while (true) {
    const size_t end = text.find("\r\n", start);
    if (end == absl::string_view::npos) return false;
    const absl::string_view line = text.substr(start, end - start);
    if (line.size() < 4 || line[3] != '-') return true;
    start = end + 2;
  }
}

}  // namespace

std::string MtaDirectory() {
  const char* dir = std::getenv("TLSWEEP_MTA_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/opt/tlsweep-mtas";
}

absl::Status RequireMtaProgram(const std::string& relative_path, absl::string_view what) {
  const std::string path = absl::StrCat(MtaDirectory(), "/", relative_path);
  if (access(path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " is not unpacked: ", path,
                     " is missing. Run tests/testing/fetch_mtas (as root; it fills "
                     "${TLSWEEP_MTA_DIR:-/opt/tlsweep-mtas})."));
  }
  return absl::OkStatus();
}

absl::StatusOr<pid_t> StartDaemon(const DaemonSpec& spec) {
  if (access(kUnshare, X_OK) != 0) return absl::FailedPreconditionError("no /usr/bin/unshare");
  // The shell runs inside the new namespace: mounts, then exec, so the pid stays the daemon's.
  std::string script = "set -e\n";
  for (const std::string& target : spec.tmpfs_mounts) {
    absl::StrAppend(&script, "mount -t tmpfs -o mode=0755 tlsweep ", ShellQuote(target), "\n");
  }
  for (const auto& [source, target] : spec.bind_mounts) {
    absl::StrAppend(&script, "mount --bind ", ShellQuote(source), " ", ShellQuote(target), "\n");
  }
  absl::StrAppend(&script, "exec \"$@\"\n");
  std::vector<std::string> owned = {
      kUnshare,  "--mount", "--propagation", "private",     "--",
      "/bin/sh", "-c",      script,          "tlsweep-mta", spec.program};
  owned.insert(owned.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // Orphans of the daemon (its per-connection children, when it dies first) come to us, so
  // StopDaemon can reap them instead of leaving zombies under a PID 1 that never reaps.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, spec.log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);  // Its own group: StopDaemon signals all of it.
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, kUnshare, &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", spec.program, ": ", strerror(rc)));
  }
  return pid;
}

bool DaemonRunning(pid_t pid) {
  if (pid <= 1) return false;
  const pid_t reaped = waitpid(pid, nullptr, WNOHANG);
  if (reaped == pid) return false;
  if (reaped < 0 && errno == ECHILD) return kill(pid, 0) == 0;
  return true;
}

void StopDaemon(pid_t pid, absl::Duration grace) {
  if (pid <= 1) return;
  kill(-pid, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  while (DaemonRunning(pid) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  kill(-pid, SIGKILL);
  (void)DaemonRunning(pid);
  // The rest of the group: adopted children (we are a subreaper) that SIGKILL just ended.
  const absl::Time reap_deadline = absl::Now() + absl::Seconds(2);
  while (absl::Now() < reap_deadline) {
    while (waitpid(-pid, nullptr, WNOHANG) > 0) {
    }
    if (kill(-pid, 0) != 0 && errno == ESRCH) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

std::string NoDnsResolvConf(const std::string& dead_address) {
  return absl::StrCat(
      "# Written by a tlsweep test fixture: nothing listens here, so no query leaves the host.\n"
      "nameserver ",
      dead_address,
      "\n"
      "options timeout:1 attempts:1\n"
      // OpenBSD's resolver (libasr, in OpenSMTPD): hosts file only, never DNS.
      "lookup file\n");
}

absl::StatusOr<std::string> ReadGreeting(const std::string& source, const std::string& address,
                                         uint16_t port, absl::Duration timeout) {
  if (!IsLoopbackAddress(address)) {
    return absl::InvalidArgumentError(absl::StrCat("not a loopback address: ", address));
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket()");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (!source.empty()) {
    const sockaddr_in from = SocketAddress(source, 0);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof(from)) != 0) {
      return absl::InternalError(absl::StrCat("bind ", source, ": ", strerror(errno)));
    }
  }
  const sockaddr_in to = SocketAddress(address, port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect ", address, ":", port, ": ", strerror(errno)));
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::string received;
  while (!IsCompleteReply(received) && received.size() < 16384) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    pollfd entry{fd, POLLIN, 0};
    if (poll(&entry, 1, static_cast<int>(left)) <= 0) break;
    char buffer[1024];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  if (!IsCompleteReply(received) || !absl::StartsWith(received, "220")) {
    return absl::UnavailableError(absl::StrCat("no 220 greeting from ", address, ":", port,
                                               " (got \"", absl::CEscape(received), "\")"));
  }
  static constexpr char kQuit[] = "QUIT\r\n";
  (void)!write(fd, kQuit, sizeof(kQuit) - 1);
  return received;
}

absl::StatusOr<std::string> WaitForGreeting(pid_t pid, const std::string& source,
                                            const std::string& address, uint16_t port,
                                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    // Each attempt is short, so that a daemon that died is noticed soon.
    const absl::Duration attempt =
        std::clamp(deadline - absl::Now(), absl::Seconds(1), absl::Seconds(5));
    absl::StatusOr<std::string> greeting = ReadGreeting(source, address, port, attempt);
    if (greeting.ok()) return greeting;
    if (!DaemonRunning(pid)) {
      return absl::InternalError(
          absl::StrCat("the daemon exited during start-up (", greeting.status().message(), ")"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(address, ":", port, " not ready after ",
                                                      absl::FormatDuration(timeout), ": ",
                                                      greeting.status().message()));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status WriteTextFile(const std::string& path, absl::string_view content, mode_t mode) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  if (chmod(path.c_str(), mode) != 0) return absl::InternalError(absl::StrCat("chmod ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string FileTail(const std::string& path, int lines) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return absl::StrCat("(no ", path, ")");
  std::vector<absl::string_view> all = absl::StrSplit(*text, '\n', absl::SkipEmpty());
  const size_t first = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + first, all.end(), "\n");
}

absl::Status ChownTree(const std::string& path, const std::string& user) {
  const passwd* entry = getpwnam(user.c_str());
  if (entry == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no user ", user, " (tests/testing/fetch_mtas creates it)"));
  }
  std::error_code error;
  if (lchown(path.c_str(), entry->pw_uid, entry->pw_gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", path, ": ", strerror(errno)));
  }
  if (!std::filesystem::is_directory(path, error)) return absl::OkStatus();
  for (const auto& item : std::filesystem::recursive_directory_iterator(path, error)) {
    if (lchown(item.path().c_str(), entry->pw_uid, entry->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("chown ", item.path().string()));
    }
  }
  return absl::OkStatus();
}

absl::Status CopyFileForUser(const std::string& from, const std::string& to,
                             const std::string& user, mode_t mode) {
  absl::StatusOr<std::string> content = ReadTextFile(from);
  if (!content.ok()) return content.status();
  if (absl::Status status = WriteTextFile(to, *content, mode); !status.ok()) return status;
  return user.empty() ? absl::OkStatus() : ChownTree(to, user);
}

std::string SafeFileName(absl::string_view name) {
  std::string result(name);
  for (char& c : result) {
    if (!absl::ascii_isalnum(c) && c != '-') c = '_';
  }
  return result;
}

}  // namespace tlsweep::testing
