#include "bench/coordinator_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace tlsweep::bench {
namespace {

constexpr int kStartTimeoutMs = 30'000;
constexpr absl::string_view kListening = "listening on port ";

}  // namespace

long ProcStatusKb(pid_t pid, const char* field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<CoordinatorProcess>> CoordinatorProcess::Start(
    const std::string& binary, const std::string& store_path) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  std::vector<std::string> args = {binary,        "--dev",   "--listen",
                                   "127.0.0.1:0", "--store", store_path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // posix_spawn, not fork(): this process runs gRPC threads.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return absl::NotFoundError(absl::StrCat("cannot start ", binary, ": ", strerror(rc)));
  }
  std::unique_ptr<CoordinatorProcess> process(new CoordinatorProcess(pid, out[0]));

  // The first line on its stdout names the port.
  std::string text;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
  while (text.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd readable{out[0], POLLIN, 0};
    if (left <= 0 || poll(&readable, 1, static_cast<int>(left)) <= 0) {
      return absl::DeadlineExceededError("the coordinator printed no port");
    }
    char buffer[256];
    const ssize_t got = read(out[0], buffer, sizeof(buffer));
    if (got <= 0) return absl::UnavailableError("the coordinator exited at start-up");
    text.append(buffer, static_cast<size_t>(got));
  }
  absl::string_view line = absl::string_view(text).substr(0, text.find('\n'));
  if (!absl::ConsumePrefix(&line, kListening) || !absl::SimpleAtoi(line, &process->port_)) {
    return absl::InternalError(absl::StrCat("unexpected first line '", line, "'"));
  }
  return process;
}

CoordinatorProcess::~CoordinatorProcess() { Stop(); }

int CoordinatorProcess::Stop() {
  int status = 0;
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
  return status;
}

}  // namespace tlsweep::bench
