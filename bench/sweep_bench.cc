// Probe engine harness (not a test; prints figures):
//  1. Sweeps N real Postfix STARTTLS listeners on distinct 127.x addresses and prints
//     handshakes per second and the agent's CPU time per completed handshake, against the
//     in-memory floor of the same backend (client-side CPU of the same handshake with no
//     sockets): the ratio is the cost of everything around TLS (SMTP, sockets, coroutines).
//  2. Holds 10,000 connections open against tarpit servers (in a child process, so their
//     memory is not counted) and prints the agent's resident memory per in-flight connection.
//
//   build/bin/sweep_bench [--handshakes 400] [--listeners 4] [--held 10000]
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/sweep/sweeper.h"
#include "backends/memory_pump.h"
#include "backends/target/target.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tests/testing/postfix_fixture.h"
#include "tests/testing/probe_runner.h"

namespace {

using namespace tlsweep;  // NOLINT: a harness, not library code.

double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

long StatusKb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return 0;
}

int OpenFds() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

void RaiseFdLimit() {
  rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// Client-side CPU of one in-memory handshake (TLS 1.3, RSA 2048 server), excluding the server.
double InMemoryClientFloor(const std::string& backend_name, int iterations) {
  backends::Backend& backend = testing::GetBackend(backend_name);
  backends::Backend& server_backend = testing::GetBackend("openssl");
  const backends::ServerConfig server_config =
      testing::MakeServerConfig("openssl", testing::SharedPki().rsa);
  double client_cpu = 0;
  for (int i = 0; i < iterations; ++i) {
    double start = ThreadCpuSeconds();
    auto client = backend.NewClient({});
    client_cpu += ThreadCpuSeconds() - start;
    auto server = server_backend.NewServer(server_config);
    // Pump by hand so that only the client's calls are timed.
    for (int round = 0; round < 16; ++round) {
      start = ThreadCpuSeconds();
      const backends::HandshakeState state = (*client)->Advance();
      std::string to_server = (*client)->TakeOutput();
      client_cpu += ThreadCpuSeconds() - start;
      if (!to_server.empty()) (*server)->ReceiveBytes(to_server);
      (*server)->Advance();
      std::string to_client = (*server)->TakeOutput();
      if (state != backends::HandshakeState::kInProgress && to_client.empty()) break;
      start = ThreadCpuSeconds();
      if (!to_client.empty()) (*client)->ReceiveBytes(to_client);
      client_cpu += ThreadCpuSeconds() - start;
    }
  }
  return client_cpu / iterations;
}

agent::SweepOptions BenchOptions(const std::string& backend) {
  agent::SweepOptions options;
  options.candidates.push_back(testing::DefaultCandidate(backend));
  options.allow_private = true;
  options.max_cached_endpoints = 0;  // Every target is a real probe.
  options.politeness.connections_per_second = 0;
  options.politeness.per_ip_spacing = std::chrono::milliseconds(0);
  options.probe.ehlo_name = "bench.example.test";
  return options;
}

void HandshakeThroughput(int listeners, int handshakes) {
  std::vector<testing::PostfixListener> specs;
  for (int i = 0; i < listeners; ++i) {
    testing::PostfixListener listener;
    listener.name = absl::StrCat("l", i);
    listener.chain_file = testing::SharedPki().rsa.chain_file;
    listener.key_file = testing::SharedPki().rsa.key_file;
    listener.extra_options = {"smtpd_client_connection_count_limit=0"};
    specs.push_back(listener);
  }
  auto postfix = testing::PostfixFixture::Start(specs, {"default_process_limit=200"});
  if (!postfix.ok()) {
    std::printf("cannot start Postfix: %s\n", std::string(postfix.status().message()).c_str());
    return;
  }
  std::printf("\n== STARTTLS handshakes against %d Postfix listeners (%d probes each run)\n",
              listeners, handshakes);
  std::printf("%-8s %10s %12s %16s %16s %8s\n", "backend", "wall s", "handshakes/s",
              "agent CPU us/hs", "in-memory us/hs", "ratio");
  for (const std::string& backend : testing::BuiltBackendNames()) {
    for (bool verify : {false, true}) {
      agent::SweepOptions options = BenchOptions(backend);
      // With the system CA bundle, as `tlsweep sweep` runs by default.
      if (verify) options.candidates[0].config.ca_file = "/etc/ssl/certs/ca-certificates.crt";
      options.max_in_flight_targets = 64;
      options.politeness.per_ip_concurrency = 16;
      options.threads = 1;
      std::vector<backends::Target> targets;
      for (int i = 0; i < listeners; ++i) {
        targets.push_back(*backends::ParseTarget(
            absl::StrCat("[", (*postfix)->listener(absl::StrCat("l", i)).address, "]:25")));
      }
      std::atomic<int> next{0};
      agent::TargetSource source = [&]() -> std::optional<backends::TargetLine> {
        const int i = next++;
        if (i >= handshakes) return std::nullopt;
        return backends::TargetLine{static_cast<uint64_t>(i), targets[i % targets.size()]};
      };
      int ok = 0;
      agent::ResultSink sink = [&](tlsweep::v1::ProbeResult result) {
        ok += result.failure() == tlsweep::v1::PROBE_OK;
      };
      agent::Sweeper sweeper(std::move(options));
      const double cpu_start = ProcessCpuSeconds();
      const auto wall_start = std::chrono::steady_clock::now();
      (void)sweeper.Run(source, sink);
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      const double cpu = ProcessCpuSeconds() - cpu_start;
      const double floor = InMemoryClientFloor(backend, 200);
      const double per_handshake = ok > 0 ? cpu / ok : 0;
      std::printf("%-8s %10.2f %12.1f %16.0f %16.0f %8.2f   (%d/%d ok)\n",
                  (backend + (verify ? "+CA" : "")).c_str(), wall, ok / wall, per_handshake * 1e6,
                  floor * 1e6, per_handshake / floor, ok, handshakes);
    }
  }
}

void TarpitMemory(int held) {
  // The tarpits live in a child process so that only the agent's memory is measured.
  int ports_pipe[2];
  if (pipe(ports_pipe) != 0) return;
  constexpr int kServers = 20;
  const pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(ports_pipe[0]);
    std::vector<std::unique_ptr<testing::HostileSmtpServer>> servers;
    std::string ports;
    for (int i = 0; i < kServers; ++i) {
      auto server = testing::HostileSmtpServer::Start(
          testing::HostileSmtpServer::Behaviour::kTarpit, absl::StrCat("127.31.0.", i + 1));
      if (!server.ok()) _exit(1);
      absl::StrAppend(&ports, (*server)->port(), " ");
      servers.push_back(*std::move(server));
    }
    ports += "\n";
    if (write(ports_pipe[1], ports.data(), ports.size()) < 0) _exit(1);
    close(ports_pipe[1]);
    pause();
    _exit(0);
  }
  close(ports_pipe[1]);
  char buffer[512] = {};
  if (read(ports_pipe[0], buffer, sizeof(buffer) - 1) <= 0) {
    std::printf("tarpit child failed\n");
    return;
  }
  std::vector<std::string> ports = absl::StrSplit(buffer, ' ', absl::SkipWhitespace());

  agent::SweepOptions options = BenchOptions("openssl");
  options.max_in_flight_targets = static_cast<size_t>(held);
  options.threads = 1;
  options.politeness.per_ip_concurrency = held;
  options.politeness.per_provider_concurrency = held;
  options.probe.banner_timeout = std::chrono::seconds(300);
  std::vector<backends::Target> targets;
  for (int i = 0; i < kServers; ++i) {
    targets.push_back(
        *backends::ParseTarget(absl::StrCat("[127.31.0.", i + 1, "]:", ports[i].substr(0, 5))));
  }
  std::atomic<int> next{0};
  agent::TargetSource source = [&]() -> std::optional<backends::TargetLine> {
    const int i = next++;
    if (i >= held) return std::nullopt;
    return backends::TargetLine{static_cast<uint64_t>(i), targets[i % targets.size()]};
  };
  agent::ResultSink sink = [](tlsweep::v1::ProbeResult) {};
  const long rss_before = StatusKb("VmRSS:");
  const int fds_before = OpenFds();
  agent::Sweeper sweeper(std::move(options));
  std::thread measure([&] {
    // Wait until every connection is open and parked on its banner read.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (OpenFds() - fds_before < held && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const long rss_held = StatusKb("VmRSS:");
    const int open = OpenFds() - fds_before;
    std::printf("\n== %d connections held open against tarpits (banner never comes)\n", open);
    std::printf("agent RSS before %ld KiB, while held %ld KiB: %.1f KiB per in-flight connection\n",
                rss_before, rss_held, static_cast<double>(rss_held - rss_before) / open);
    kill(child, SIGKILL);  // Every connection now ends (EOF) and the sweep finishes.
  });
  (void)sweeper.Run(source, sink);
  measure.join();
  waitpid(child, nullptr, 0);
  std::printf("peak RSS (VmHWM) %ld KiB\n", StatusKb("VmHWM:"));
}

}  // namespace

int main(int argc, char** argv) {
  int handshakes = 400;
  int listeners = 4;
  int held = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--handshakes") handshakes = std::atoi(argv[i + 1]);
    if (flag == "--listeners") listeners = std::atoi(argv[i + 1]);
    if (flag == "--held") held = std::atoi(argv[i + 1]);
  }
  RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);
  TarpitMemory(held);  // First: before any other thread exists (it forks).
  HandshakeThroughput(listeners, handshakes);
  return 0;
}
