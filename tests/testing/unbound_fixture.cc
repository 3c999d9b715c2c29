#include "tests/testing/unbound_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tlsweep::testing {
namespace {

constexpr int kAttempts = 5;
constexpr auto kStartDeadline = std::chrono::seconds(15);

// A distinct loopback address per process and instance (127.53+n.pid_hi.pid_lo): test programs
// running in parallel never compete for an address, whatever ports they pick.
std::string PickAddress() {
  static std::atomic<int> instance{0};
  const int n = instance++;
  const unsigned pid = static_cast<unsigned>(getpid());
  return absl::StrCat("127.", 53 + n % 64, ".", (pid >> 8) & 0xff, ".", pid & 0xff);
}

// A port free for both UDP and TCP on `ip`, from the kernel's ephemeral range.
absl::StatusOr<uint16_t> PickPort(const std::string& ip) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
    const int udp = socket(AF_INET, SOCK_DGRAM, 0);
    if (udp < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
    if (bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      close(udp);
      return absl::InternalError(absl::StrCat("bind ", ip, ": ", strerror(errno)));
    }
    socklen_t length = sizeof(address);
    getsockname(udp, reinterpret_cast<sockaddr*>(&address), &length);
    const int tcp = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free =
        tcp >= 0 && bind(tcp, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    if (tcp >= 0) close(tcp);
    close(udp);
    if (tcp_free) return ntohs(address.sin_port);
  }
  return absl::InternalError(absl::StrCat("no free port on ", ip));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A DNS query for "example.test. SOA" with the given id: enough to see the server answer.
std::string ProbeQuery(uint16_t id) {
  std::string query = {static_cast<char>(id >> 8),
                       static_cast<char>(id & 0xff),
                       1,
                       0,  // RD.
                       0,
                       1,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0};
  query +=
      "\x07"
      "example"
      "\x04"
      "test";
  query += std::string("\0\0\x06\0\x01", 5);  // Root label, type SOA, class IN.
  return query;
}

// Root's PATH has /usr/sbin, a CI shell's may not; execvp("unbound") is the fallback.
constexpr char kUnboundPath[] = "/usr/sbin/unbound";

}  // namespace

absl::StatusOr<std::unique_ptr<UnboundFixture>> UnboundFixture::Start(
    const std::vector<std::string>& records, const std::vector<std::string>& extra_server_config) {
  absl::Status last_error;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::unique_ptr<UnboundFixture> fixture(new UnboundFixture());
    last_error = fixture->Launch(records, extra_server_config);
    if (last_error.ok()) last_error = fixture->WaitUntilAnswering();
    if (last_error.ok()) return fixture;
    // The destructor stops whatever was started; another address/port is tried.
  }
  return last_error;
}

UnboundFixture::~UnboundFixture() {
  Stop();
  if (!directory_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
}

std::string UnboundFixture::address() const { return absl::StrCat(ip_, ":", port_); }

std::string UnboundFixture::log() const {
  return absl::StrCat(ReadFile(directory_ + "/unbound.log"), ReadFile(directory_ + "/stderr.txt"));
}

absl::Status UnboundFixture::Launch(const std::vector<std::string>& records,
                                    const std::vector<std::string>& extra_server_config) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "tlsweep-unbound-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", strerror(errno)));
  }
  directory_ = pattern;
  ip_ = PickAddress();
  absl::StatusOr<uint16_t> port = PickPort(ip_);
  if (!port.ok()) return port.status();
  port_ = *port;

  const std::string zone_file = directory_ + "/zone";
  {
    std::ofstream zone(zone_file);
    zone << "$TTL 300\n"
         << kZone << " IN SOA ns." << kZone << " hostmaster." << kZone << " 1 3600 600 86400 300\n"
         << kZone << " IN NS ns." << kZone << "\n"
         << "ns." << kZone << " IN A 127.0.0.1\n"
         << absl::StrJoin(records, "\n") << "\n";
    if (!zone) return absl::InternalError("cannot write the zone file");
  }

  const std::string config_file = directory_ + "/unbound.conf";
  std::ofstream config(config_file);
  config << "server:\n"
         << "  interface: " << ip_ << "\n"
         << "  port: " << port_ << "\n"
         << "  username: \"\"\n"
         << "  chroot: \"\"\n"
         << "  directory: \"" << directory_ << "\"\n"
         << "  pidfile: \"" << directory_ << "/unbound.pid\"\n"
         << "  use-syslog: no\n"
         << "  logfile: \"" << directory_ << "/unbound.log\"\n"
         << "  verbosity: 1\n"
         << "  num-threads: 1\n"
         << "  do-ip6: no\n"
         << "  do-not-query-localhost: yes\n"
         << "  access-control: 127.0.0.0/8 allow\n"
         // No validator: a test zone has no trust anchor, and nothing may fetch one.
         << "  module-config: \"iterator\"\n"
         // Never recurse to the Internet: everything outside the test zones is refused.
         << "  local-zone: \".\" refuse\n"
         << "  local-zone: \"" << kZone << "\" transparent\n"
         << "  local-zone: \"servfail.test.\" transparent\n"
         << "  local-zone: \"refused.test.\" refuse\n";
  for (const std::string& line : extra_server_config) config << "  " << line << "\n";
  // for-upstream: the iterator treats the zone as its authority and chases CNAMEs through it,
  // as a recursive resolver does with real zones (a static local-zone would not).
  config << "auth-zone:\n"
         << "  name: \"" << kZone << "\"\n"
         << "  zonefile: \"" << zone_file << "\"\n"
         << "  for-downstream: no\n"
         << "  for-upstream: yes\n"
         << "  fallback-enabled: no\n"
         // do-not-query-localhost leaves this forwarder unusable: queries get SERVFAIL at once.
         << "forward-zone:\n"
         << "  name: \"servfail.test.\"\n"
         << "  forward-addr: 127.0.0.1@9\n"
         << "remote-control:\n"
         << "  control-enable: no\n";
  config.close();
  if (!config) return absl::InternalError("cannot write unbound.conf");

  // Everything the child needs is prepared before fork(): after it only async-signal-safe
  // calls are allowed.
  const std::string output = directory_ + "/stderr.txt";
  const std::string binary = kUnboundPath;
  std::vector<std::string> arguments = {binary, "-d", "-c", config_file};
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid_ == 0) {
    // unbound must not outlive a test program that crashes before its destructor runs.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    execvp("unbound", argv.data());
    _exit(127);
  }
  return absl::OkStatus();
}

absl::Status UnboundFixture::WaitUntilAnswering() {
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port_);
  inet_pton(AF_INET, ip_.c_str(), &server.sin_addr);
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof(server));

  const auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  absl::Status status = absl::DeadlineExceededError("unbound did not answer");
  for (uint16_t id = 1; std::chrono::steady_clock::now() < deadline; ++id) {
    int wait_status = 0;
    if (waitpid(pid_, &wait_status, WNOHANG) == pid_) {
      pid_ = -1;
      status = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 127
                   ? absl::FailedPreconditionError("cannot run unbound: is it installed?")
                   : absl::InternalError(absl::StrCat("unbound exited: ", log()));
      break;
    }
    const std::string query = ProbeQuery(id);
    send(fd, query.data(), query.size(), 0);
    pollfd entry{fd, POLLIN, 0};
    if (poll(&entry, 1, 100) > 0 && (entry.revents & POLLIN) != 0) {
      unsigned char reply[512];
      const ssize_t length = recv(fd, reply, sizeof(reply), 0);
      if (length >= 12 && reply[0] == (id >> 8) && reply[1] == (id & 0xff)) {
        status = absl::OkStatus();
        break;
      }
    } else {
      // ECONNREFUSED before unbound binds: wait a little before asking again.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  close(fd);
  if (!status.ok() && status.code() == absl::StatusCode::kDeadlineExceeded) {
    status = absl::DeadlineExceededError(absl::StrCat("unbound did not answer: ", log()));
  }
  return status;
}

void UnboundFixture::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace tlsweep::testing
