#include "tests/testing/postfix_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

// Fixture addresses are 127.25.B.x: each running instance owns one /24 block, claimed with an
// flock so that two test programs (ctest -j) never share one.
constexpr int kSecondOctet = 25;
constexpr int kFirstListenerHost = 2;
constexpr int kProbeSourceHost = 254;

// Debian's master.cf services, minus the public smtpd and the pipe(8) transports, with chroot
// off: a chroot would be our private queue directory, which holds no /etc files.
constexpr char kMasterCfServices[] =
    R"(pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
)";

absl::Status WriteFile(const std::string& path, absl::string_view content, mode_t mode = 0644) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  if (chmod(path.c_str(), mode) != 0) return absl::InternalError(absl::StrCat("chmod ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

bool IsLoopback(const std::string& address) {
  in_addr parsed{};
  if (inet_pton(AF_INET, address.c_str(), &parsed) != 1) return false;
  return (ntohl(parsed.s_addr) >> 24) == 127;
}

sockaddr_in SocketAddress(const std::string& address, uint16_t port) {
  sockaddr_in result{};
  result.sin_family = AF_INET;
  result.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &result.sin_addr);
  return result;
}

// True if nothing listens on address:port. SO_REUSEADDR makes TIME_WAIT leftovers of an earlier
// instance not count (Postfix's master sets it too).
bool PortIsFree(const std::string& address, uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const sockaddr_in addr = SocketAddress(address, port);
  const bool free = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

// A Postfix parameter name: letters, digits and underscores.
bool IsParameterName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// One master.cf "-o" line. Postfix 3.0+ reads "-o { name = value }" for values with spaces.
absl::StatusOr<std::string> OverrideLine(absl::string_view name, absl::string_view value) {
  if (!IsParameterName(name)) return absl::InvalidArgumentError(absl::StrCat("bad name ", name));
  if (absl::StrContains(value, '\n') || absl::StrContains(value, '}')) {
    return absl::InvalidArgumentError(absl::StrCat("bad value for ", name));
  }
  if (absl::StrContains(value, ' ') || absl::StrContains(value, '\t')) {
    return absl::StrCat("  -o { ", name, " = ", value, " }\n");
  }
  return absl::StrCat("  -o ", name, "=", value, "\n");
}

// Fields of /proc/PID/stat we need; nullopt-like `ok=false` when the process is gone.
struct ProcStat {
  bool ok = false;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

ProcStat ReadProcStat(pid_t pid) {
  ProcStat result;
  absl::StatusOr<std::string> stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return result;
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
  const size_t close_paren = stat->rfind(')');
  if (close_paren == std::string::npos) return result;
  std::vector<std::string> fields =
      absl::StrSplit(stat->substr(close_paren + 1), ' ', absl::SkipEmpty());
  if (fields.size() < 3 || fields[0].empty()) return result;
  result.state = fields[0][0];
  if (!absl::SimpleAtoi(fields[1], &result.ppid) || !absl::SimpleAtoi(fields[2], &result.pgrp)) {
    return result;
  }
  result.ok = true;
  return result;
}

// Running (not gone, not a zombie).
bool IsRunning(pid_t pid) {
  const ProcStat stat = ReadProcStat(pid);
  return stat.ok && stat.state != 'Z' && stat.state != 'X';
}

std::vector<pid_t> ProcessGroupMembers(pid_t pgrp) {
  std::vector<pid_t> members;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const ProcStat stat = ReadProcStat(pid);
    if (stat.ok && stat.pgrp == pgrp) members.push_back(pid);
  }
  return members;
}

// Becomes the reaper of orphaned descendants: Postfix's master daemonizes, and in containers
// PID 1 often never reaps, leaving "[master] <defunct>" behind after every test. As subreaper we
// inherit master and its children and reap them in Stop().
void BecomeSubreaper() {
  static const bool done = [] {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return true;
  }();
  (void)done;
}

// Reaps our (adopted) children that are dead Postfix programs, e.g. the master of a failed
// start whose pid we never learnt. Only zombies: nothing running is touched.
void ReapPostfixZombies() {
  static constexpr absl::string_view kPrograms[] = {
      "master", "postlogd", "smtpd",    "anvil",           "pickup",
      "qmgr",   "tlsmgr",   "proxymap", "trivial-rewrite", "cleanup",
      "bounce", "error",    "scache",   "showq",           "postfix-script"};
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const ProcStat stat = ReadProcStat(pid);
    if (!stat.ok || stat.ppid != getpid() || stat.state != 'Z') continue;
    absl::StatusOr<std::string> comm = ReadFile(absl::StrCat("/proc/", pid, "/comm"));
    if (!comm.ok()) continue;
    const absl::string_view name = absl::StripAsciiWhitespace(*comm);
    for (absl::string_view program : kPrograms) {
      if (name == program) waitpid(pid, nullptr, WNOHANG);
    }
  }
}

// Reaps `pid` if it is our (adopted) child and has exited; true if it is gone.
bool ReapIfExited(pid_t pid) {
  const pid_t reaped = waitpid(pid, nullptr, WNOHANG);
  if (reaped == pid) return true;
  return !IsRunning(pid);
}

absl::Status ConnectAndReadBanner(const std::string& source, const std::string& address,
                                  uint16_t port, absl::Duration timeout, std::string* banner) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket()");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  const sockaddr_in from = SocketAddress(source, 0);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof(from)) != 0) {
    return absl::InternalError(absl::StrCat("bind ", source, ": ", strerror(errno)));
  }
  const sockaddr_in to = SocketAddress(address, port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect ", address, ":", port, ": ", strerror(errno)));
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::string received;
  while (!absl::StrContains(received, "\r\n")) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) break;
    pollfd entry{fd, POLLIN, 0};
    if (poll(&entry, 1, static_cast<int>(left)) <= 0) break;
    char buffer[512];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  *banner = received.substr(0, received.find("\r\n"));
  if (!absl::StartsWith(received, "220 ") || !absl::StrContains(received, "\r\n")) {
    return absl::UnavailableError(absl::StrCat("no 220 banner from ", address, ":", port,
                                               " (got \"", absl::CEscape(*banner), "\")"));
  }
  static constexpr char kQuit[] = "QUIT\r\n";
  (void)!write(fd, kQuit, sizeof(kQuit) - 1);
  return absl::OkStatus();
}

std::string SafeName(absl::string_view name) {
  std::string result(name);
  for (char& c : result) {
    if (!absl::ascii_isalnum(c) && c != '-') c = '_';
  }
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostfixFixture>> PostfixFixture::Start(
    std::vector<PostfixListener> listeners, std::vector<std::string> main_cf_extra) {
  if (geteuid() != 0) {
    return absl::FailedPreconditionError("PostfixFixture needs root (port 25, postfix start)");
  }
  if (listeners.empty()) return absl::InvalidArgumentError("no listeners");
  auto fixture = absl::WrapUnique(new PostfixFixture());
  fixture->listeners_ = std::move(listeners);
  for (size_t i = 0; i < fixture->listeners_.size(); ++i) {
    const std::string& name = fixture->listeners_[i].name;
    if (name.empty() || !fixture->by_name_.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("listener names must be unique: ", name));
    }
  }
  fixture->directory_ = MakeTempDirectory("tlsweep-postfix");
  if (fixture->directory_.empty()) return absl::InternalError("cannot create a temp directory");
  if (absl::Status status = fixture->AssignAddresses(); !status.ok()) return status;
  if (absl::Status status = fixture->WriteConfiguration(main_cf_extra); !status.ok()) {
    return status;
  }

  BecomeSubreaper();
  fixture->started_ = true;  // From here on the destructor stops whatever did start.
  // stdin from /dev/null and stderr folded in: fatal start-up errors go to the maillog only
  // (no syslog or terminal here), but postfix-script's own complaints come this way.
  absl::StatusOr<CommandResult> result = RunCommand(absl::StrCat(
      "postfix -c ", ShellQuote(fixture->config_directory()), " start </dev/null 2>&1"));
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(absl::StrCat("postfix start exited ", result->exit_code, ": ",
                                            result->output, "\nmaillog:\n",
                                            fixture->MaillogTail()));
  }
  absl::StatusOr<std::string> pid_file =
      ReadFile(absl::StrCat(fixture->directory_, "/queue/pid/master.pid"));
  if (!pid_file.ok() ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid_file), &fixture->master_pid_)) {
    return absl::InternalError(
        absl::StrCat("no master.pid after postfix start\nmaillog:\n", fixture->MaillogTail()));
  }
  if (absl::Status status = fixture->WaitUntilReady(absl::Seconds(20)); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), "\nmaillog (", fixture->maillog_path(),
                                     "):\n", fixture->MaillogTail()));
  }
  return fixture;
}

absl::Status PostfixFixture::AssignAddresses() {
  // The block: start at a pid-derived one and take the first whose lock we get and whose ports
  // are free.
  static std::atomic<int> instance{0};
  const int start = static_cast<int>(getpid() % 250) + 7 * instance.fetch_add(1);
  for (int attempt = 0; attempt < 250; ++attempt) {
    const int block = (start + attempt) % 250 + 1;
    const std::string prefix = absl::StrCat("127.", kSecondOctet, ".", block, ".");
    const std::string lock_path = absl::StrCat("/tmp/tlsweep-postfix-", prefix, "lock");
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", lock_path));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      continue;
    }
    bool free = true;
    int host = kFirstListenerHost;
    for (const PostfixListener& listener : listeners_) {
      if (!listener.address.empty()) continue;
      free = free && PortIsFree(absl::StrCat(prefix, host++), listener.port);
    }
    if (!free) {
      close(fd);
      continue;
    }
    block_lock_fd_ = fd;
    probe_source_ = absl::StrCat(prefix, kProbeSourceHost);
    host = kFirstListenerHost;
    for (PostfixListener& listener : listeners_) {
      if (listener.address.empty()) {
        if (host >= kProbeSourceHost) return absl::InvalidArgumentError("too many listeners");
        listener.address = absl::StrCat(prefix, host++);
      } else if (!IsLoopback(listener.address)) {
        return absl::InvalidArgumentError(
            absl::StrCat("listener address must be in 127.0.0.0/8: ", listener.address));
      }
    }
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError("no free 127.25.x.0/24 block for a Postfix fixture");
}

absl::Status PostfixFixture::WriteConfiguration(const std::vector<std::string>& main_cf_extra) {
  const std::string config = config_directory();
  const std::string queue = directory_ + "/queue";
  const std::string data = directory_ + "/data";
  std::error_code error;
  for (const std::string& dir : {config, queue, data}) {
    if (!std::filesystem::create_directories(dir, error)) {
      return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", error.message()));
    }
  }
  // mkdtemp makes 0700 dirs; smtpd runs as "postfix" and must reach the queue directory.
  chmod(directory_.c_str(), 0755);
  // master locks data_directory/master.lock after dropping privileges.
  const passwd* postfix_user = getpwnam("postfix");
  if (postfix_user == nullptr) return absl::FailedPreconditionError("no postfix user");
  if (chown(data.c_str(), postfix_user->pw_uid, postfix_user->pw_gid) != 0) {
    return absl::InternalError(absl::StrCat("chown postfix ", data));
  }

  std::string main_cf = absl::StrCat(
      "# Private test instance written by tests/testing/postfix_fixture.cc\n"
      "compatibility_level = 3.6\n",
      "queue_directory = ", queue, "\n",  //
      "data_directory = ", data, "\n",    //
      // postlogd refuses log files outside maillog_file_prefixes (default /var, /dev/stdout).
      "maillog_file = ", maillog_path(), "\n",  //
      "maillog_file_prefixes = ", directory_, "\n",
      "myhostname = mx.example.test\n"
      "mydomain = example.test\n"
      "mydestination =\n"
      "alias_maps =\n"
      "alias_database =\n"
      "biff = no\n"
      // Only the master.cf listeners (explicit ADDRESS:PORT) bind; this is for the SMTP client.
      "inet_interfaces = loopback-only\n"
      "inet_protocols = ipv4\n"
      "smtpd_peername_lookup = no\n"
      "smtpd_banner = $myhostname ESMTP Postfix\n"
      "default_transport = error:test instance never delivers\n"
      "smtpd_relay_restrictions = reject\n"
      "smtpd_tls_loglevel = 1\n"
      "smtpd_client_connection_count_limit = 0\n"
      "smtpd_client_connection_rate_limit = 0\n"
      // Otherwise clients in $mynetworks (127.0.0.1 here) are exempt from all rate limits.
      "smtpd_client_event_limit_exceptions =\n");
  for (const std::string& line : main_cf_extra) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (!IsParameterName(absl::StripAsciiWhitespace(kv.first)) || absl::StrContains(line, '\n')) {
      return absl::InvalidArgumentError(absl::StrCat("bad main.cf line: ", line));
    }
    absl::StrAppend(&main_cf, line, "\n");
  }
  if (absl::Status s = WriteFile(config + "/main.cf", main_cf); !s.ok()) return s;

  // Listeners first: master creates services in file order, and a fatal error (bind: address
  // in use) reaches the maillog only while the postlog socket does not exist yet (master then
  // writes the file itself); after that it goes to a socket no postlogd will ever read.
  std::string master_cf;
  for (const PostfixListener& listener : listeners_) {
    const std::string name = SafeName(listener.name);
    absl::StrAppend(&master_cf, listener.address, ":", listener.port, " inet n - n - - smtpd\n");
    std::vector<std::pair<std::string, std::string>> options = {
        {"syslog_name", "postfix/" + name},  // maillog lines say which listener.
        {"smtpd_tls_security_level", listener.tls_security_level},
    };
    if (!listener.chain_file.empty()) {
      options.emplace_back("smtpd_tls_chain_files",
                           listener.key_file.empty()
                               ? listener.chain_file
                               : absl::StrCat(listener.key_file, ",", listener.chain_file));
    } else if (!listener.key_file.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(listener.name, ": key_file without chain"));
    }
    if (!listener.protocols.empty())
      options.emplace_back("smtpd_tls_protocols", listener.protocols);
    std::string grade = listener.ciphers_grade;
    if (grade.empty() && !listener.cipherlist.empty()) grade = "high";
    if (!grade.empty()) options.emplace_back("smtpd_tls_ciphers", grade);
    if (!listener.cipherlist.empty()) {
      options.emplace_back(absl::StrCat("tls_", grade, "_cipherlist"), listener.cipherlist);
    }
    if (!listener.tls13_ciphersuites.empty()) {
      // OpenSSL looks up the application name in the config's default section.
      const std::string app = absl::StrCat("tlsweep_", name);
      const std::string file = absl::StrCat(config, "/openssl-", name, ".cnf");
      absl::Status s = WriteFile(
          file, absl::StrCat(app, " = ", app, "_app\n\n[", app, "_app]\nssl_conf = ", app,
                             "_ssl\n\n[", app, "_ssl]\nsystem_default = ", app, "_sys\n\n[", app,
                             "_sys]\nCiphersuites = ", listener.tls13_ciphersuites, "\n"));
      if (!s.ok()) return s;
      options.emplace_back("tls_config_file", file);
      options.emplace_back("tls_config_name", app);
    }
    for (const std::string& raw : listener.extra_options) {
      std::pair<std::string, std::string> kv = absl::StrSplit(raw, absl::MaxSplits('=', 1));
      options.emplace_back(absl::StripAsciiWhitespace(kv.first),
                           absl::StripAsciiWhitespace(kv.second));
    }
    for (const auto& [option, value] : options) {
      absl::StatusOr<std::string> line = OverrideLine(option, value);
      if (!line.ok()) return line.status();
      absl::StrAppend(&master_cf, *line);
    }
  }
  absl::StrAppend(&master_cf, kMasterCfServices);
  return WriteFile(config + "/master.cf", master_cf);
}

absl::Status PostfixFixture::WaitUntilReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (const PostfixListener& listener : listeners_) {
    absl::Status last = absl::UnavailableError("not tried");
    while (true) {
      std::string banner;
      last = ConnectAndReadBanner(probe_source_, listener.address, listener.port, absl::Seconds(5),
                                  &banner);
      if (last.ok()) break;
      // A fatal configuration error stops master; no point waiting for the deadline.
      if (!IsRunning(master_pid_)) {
        return absl::InternalError(
            absl::StrCat("postfix master exited during start-up (", last.message(), ")"));
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("listener ", listener.name, " not ready: ", last.message()));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  return absl::OkStatus();
}

PostfixFixture::~PostfixFixture() {
  Stop();
  if (block_lock_fd_ >= 0) close(block_lock_fd_);
  if (!directory_.empty() && std::getenv("TLSWEEP_KEEP_POSTFIX_DIR") == nullptr) {
    std::error_code error;
    std::filesystem::remove_all(directory_, error);
  }
}

void PostfixFixture::Stop() {
  if (!started_) return;
  started_ = false;
  if (master_pid_ <= 1) {
    absl::StatusOr<std::string> pid_file = ReadFile(directory_ + "/queue/pid/master.pid");
    if (pid_file.ok()) (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid_file), &master_pid_);
  }
  if (master_pid_ <= 1 || !IsRunning(master_pid_)) {
    // Start failed before master came up (or it died): `postfix stop` would only sleep a second
    // to say so. Reap what is left.
    (void)ReapIfExited(master_pid_);
    ReapPostfixZombies();
    return;
  }
  // postfix stop sends SIGTERM to master, which signals its process group and exits.
  (void)RunCommand(absl::StrCat("postfix -c ", ShellQuote(config_directory()),
                                " stop </dev/null >/dev/null 2>&1"));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!ReapIfExited(master_pid_) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Master's process group is its own (it calls setsid()); kill whatever is left of it, as
  // postfix-script does for a master that will not stop.
  if (master_pid_ != getpgrp()) kill(-master_pid_, SIGKILL);
  const absl::Time reap_deadline = absl::Now() + absl::Seconds(2);
  while (absl::Now() < reap_deadline) {
    bool any_left = false;
    for (pid_t pid : ProcessGroupMembers(master_pid_)) {
      // Zombies that are not ours (no subreaper) cannot be reaped; they hold nothing.
      if (!ReapIfExited(pid)) any_left = true;
    }
    (void)ReapIfExited(master_pid_);
    if (!any_left) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ReapPostfixZombies();
}

const PostfixListener& PostfixFixture::listener(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    // A typo in a test; there is no sensible listener to return.
    std::fprintf(stderr, "no Postfix listener named %s\n", std::string(name).c_str());
    std::abort();
  }
  return listeners_[it->second];
}

std::string PostfixFixture::endpoint(absl::string_view name) const {
  const PostfixListener& l = listener(name);
  return absl::StrCat(l.address, ":", l.port);
}

std::string PostfixFixture::MaillogTail(int lines) const {
  absl::StatusOr<std::string> log = ReadFile(maillog_path());
  if (!log.ok()) return "(no maillog)";
  std::vector<absl::string_view> all = absl::StrSplit(*log, '\n', absl::SkipEmpty());
  const size_t first = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + first, all.end(), "\n");
}

absl::Status PostfixFixture::WriteChainFile(const std::string& key_file,
                                            const std::string& cert_file,
                                            const std::string& output_file) {
  absl::StatusOr<std::string> key = ReadFile(key_file);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> certs = ReadFile(cert_file);
  if (!certs.ok()) return certs.status();
  return WriteFile(output_file, absl::StrCat(*key, *certs), 0600);
}

}  // namespace tlsweep::testing
