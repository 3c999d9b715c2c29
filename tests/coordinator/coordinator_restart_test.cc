// The real tlsweep-coordinator killed (SIGKILL) in the middle of a scan and started again on
// the same store: the agent reconnects, resends what was not acknowledged, and the scan ends
// with exactly one result per target, each of its unique endpoints probed once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/client/agent_client.h"
#include "coordinator/store/store.h"
#include "tests/coordinator/coordinator_fixture.h"

namespace tlsweep::testing {
namespace {

using ::tlsweep::v1::Scan;

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

pid_t SpawnCoordinator(int port, const std::string& store) {
  const CoordinatorPki& pki = SharedCoordinatorPki();
  // Everything is built before fork(): the child of a threaded process may only exec.
  std::vector<std::string> args = {"tlsweep-coordinator",
                                   "--listen",
                                   absl::StrCat("127.0.0.1:", port),
                                   "--store",
                                   store,
                                   "--tls-cert",
                                   pki.server.chain_file,
                                   "--tls-key",
                                   pki.server.key_file,
                                   "--client-ca",
                                   pki.ca_file,
                                   "--token-file",
                                   pki.token_file,
                                   "--lease-ms",
                                   "5000",
                                   "--heartbeat-ms",
                                   "200",
                                   "--restart-grace-ms",
                                   "5000"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // posix_spawn, not fork(): gRPC's fork handlers in this threaded process would leave its
  // client side unable to reconnect.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, TLSWEEP_COORDINATOR_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

bool WaitUntilServing(grpc::Channel& channel) {
  grpc::Status status;
  for (int i = 0; i < 200; ++i) {
    Scan scan;
    status = GetScan(channel, "none", &scan);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "not serving: " << status.error_code() << " " << status.error_message();
  return false;
}

// Kills the coordinator process when the test ends, however it ends.
struct ProcessGuard {
  pid_t* pid;
  ~ProcessGuard() {
    if (*pid > 0) {
      kill(*pid, SIGKILL);
      waitpid(*pid, nullptr, 0);
    }
  }
};

// Answers like a real agent after a short pause per item, without the network: a resolve
// unit gets one route per target (its address and port), a probe unit one refused result per
// endpoint. Stops when cancelled.
absl::Status SlowRunner(const v1::ShardAssignment& assignment,
                        const std::function<void(v1::ProbeResult)>& emit,
                        const std::atomic<bool>& cancelled) {
  for (const v1::ShardEndpoint& endpoint : assignment.endpoints()) {
    if (cancelled) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    v1::ProbeResult result;
    result.set_mx_host(endpoint.mx_host());
    result.set_address(endpoint.address());
    result.set_port(endpoint.port());
    result.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
    result.set_failure(v1::TCP_REFUSED);
    emit(result);
  }
  for (const v1::ShardTarget& target : assignment.targets()) {
    if (cancelled) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const std::vector<std::string> host_port = absl::StrSplit(target.input(), ':');
    v1::ProbeResult route;
    route.set_target(target.input());
    route.set_line_number(target.line_number());
    route.set_mx_host(host_port[0]);
    route.set_address(host_port[0]);
    route.set_port(static_cast<uint32_t>(std::stoi(host_port[1])));
    route.set_probe_kind(tlsweep::v1::PROBE_KIND_ROUTE);
    emit(route);
  }
  return absl::OkStatus();
}

TEST(CoordinatorRestartTest, KilledCoordinatorResumesEveryScan) {
  const std::string directory = MakeTempDirectory("tlsweep-restart");
  const std::string store = directory + "/store.db";
  const int port = FreeLoopbackPort();
  pid_t coordinator = SpawnCoordinator(port, store);
  ProcessGuard guard{&coordinator};
  std::shared_ptr<grpc::Channel> channel = TlsChannel(port, nullptr);
  ASSERT_TRUE(WaitUntilServing(*channel));

  constexpr int kTargets = 150;
  v1::ScanHeader header;
  header.add_regions("eu");
  header.set_shard_size(10);
  Scan scan;
  grpc::Status submitted =
      Submit(*channel, header, RefusedTargets(30001, kTargets), &scan, kToken, 4096);
  ASSERT_TRUE(submitted.ok()) << submitted.error_message();

  const CoordinatorPki& pki = SharedCoordinatorPki();
  agent::AgentClientOptions options;
  options.coordinator = absl::StrCat("127.0.0.1:", port);
  options.agent_id = "agent-restart";
  options.region = "eu";
  options.capacity = 2;
  options.runs_endpoint_units = true;  // SlowRunner answers both unit kinds.
  options.ca_file = pki.ca_file;
  options.cert_file = pki.agent.chain_file;
  options.key_file = pki.agent.key_file;
  options.server_name = kServerName;
  options.spool_path = directory + "/spool.db";
  options.batch_size = 3;
  options.poll_ms = 100;
  options.backoff_min_ms = 50;
  options.backoff_max_ms = 300;
  auto client = agent::AgentClient::Create(options, SlowRunner);
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });

  // Kill it while shards are out and results are flowing.
  for (int i = 0; i < 500; ++i) {
    Scan now;
    if (GetScan(*channel, scan.scan_id(), &now).ok() && now.progress(0).shards_done() >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(coordinator, SIGKILL);
  waitpid(coordinator, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  coordinator = SpawnCoordinator(port, store);
  channel = TlsChannel(port, nullptr);  // Not one in reconnect backoff since the kill.
  ASSERT_TRUE(WaitUntilServing(*channel));

  Scan done = WaitForScanEnd(*channel, scan.scan_id(), 60'000);
  (*client)->Stop();
  run.join();
  kill(coordinator, SIGTERM);
  waitpid(coordinator, nullptr, 0);
  coordinator = 0;

  EXPECT_EQ(done.state(), v1::SCAN_DONE);
  EXPECT_EQ(done.progress(0).shards_done(), 15u);
  EXPECT_EQ(done.progress(0).results(), static_cast<uint64_t>(kTargets));
  EXPECT_EQ(done.progress(0).endpoints(), static_cast<uint64_t>(kTargets));
  EXPECT_EQ(done.progress(0).endpoint_results(), static_cast<uint64_t>(kTargets))
      << "each endpoint's result stored once";
  EXPECT_GE((*client)->stats().connects.load(), 2);
  auto reopened = coordinator::OpenSqliteStore(store);
  ASSERT_TRUE(reopened.ok());
  std::vector<v1::ProbeResult> results = (*reopened)->Results(scan.scan_id(), "eu").value();
  std::map<uint64_t, int> per_line;
  for (const v1::ProbeResult& result : results) ++per_line[result.line_number()];
  EXPECT_EQ(results.size(), static_cast<size_t>(kTargets));
  EXPECT_EQ(per_line.size(), static_cast<size_t>(kTargets));
  for (const auto& [line, count] : per_line) EXPECT_EQ(count, 1) << "line " << line;
}

}  // namespace
}  // namespace tlsweep::testing
