#include "coordinator/server.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "asio/ip/address.hpp"
#include "backends/file_contents.h"
#include "coordinator/agent_service.h"
#include "coordinator/scan_service.h"
#include "coordinator/schedule/schedule_service.h"
#include "coordinator/schedule/scheduler.h"

namespace tlsweep::coordinator {

struct CoordinatorServer::Services {
  std::unique_ptr<AgentServiceImpl> agents;
  std::unique_ptr<ScanServiceImpl> scans;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<ScheduleServiceImpl> schedules;
};

bool IsLoopbackListen(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = listen.substr(0, colon);
  if (host == "localhost") return true;
  const bool bracketed = absl::ConsumePrefix(&host, "[");
  if (bracketed && !absl::ConsumeSuffix(&host, "]")) return false;
  if (!bracketed && absl::StrContains(host, ':')) return false;  // IPv6 needs its brackets.
  asio::error_code error;
  const asio::ip::address address = asio::ip::make_address(std::string(host), error);
  return !error && address.is_loopback();
}

absl::StatusOr<StoreLock> StoreLock::Take(const std::string& store_path) {
  const std::string path = store_path + ".lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  StoreLock lock;
  lock.fd_ = fd;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    const ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
    return absl::FailedPreconditionError(absl::StrCat(
        store_path, " is in use by another tlsweep-coordinator",
        n > 0 ? absl::StrCat(" (pid ", absl::StripAsciiWhitespace(pid), ")") : "",
        ": two coordinators on one store would both lease and schedule; stop it or use another "
        "--store"));
  }
  const std::string mine = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, mine.data(), mine.size(), 0);
  return lock;
}

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) close(fd_);  // Closing the descriptor releases the flock.
}

absl::StatusOr<std::vector<std::string>> ReadTokens(const std::string& path) {
  absl::StatusOr<std::string> text = backends::ReadFileContents(path);
  if (!text.ok()) return text.status();
  std::vector<std::string> tokens;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    tokens.emplace_back(line);
  }
  if (tokens.empty()) return absl::InvalidArgumentError(absl::StrCat("no token in '", path, "'"));
  return tokens;
}

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(ServerOptions options) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  ScanApiAuth auth;
  if (options.dev) {
    if (!IsLoopbackListen(options.listen)) {
      return absl::InvalidArgumentError(
          "--dev (no TLS, no authentication) listens on loopback only");
    }
    credentials = grpc::InsecureServerCredentials();
    auth.open = true;
  } else {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty() ||
        options.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "TLS needs --tls-cert, --tls-key and --client-ca (or --dev on loopback)");
    }
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    absl::StatusOr<std::string> ca = backends::ReadFileContents(options.client_ca_file);
    if (!ca.ok()) return ca.status();
    absl::StatusOr<std::string> cert = backends::ReadFileContents(options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = backends::ReadFileContents(options.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_root_certs = *ca;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
    if (!options.token_file.empty()) {
      absl::StatusOr<std::vector<std::string>> tokens = ReadTokens(options.token_file);
      if (!tokens.ok()) return tokens.status();
      auth.tokens = *std::move(tokens);
    }
  }

  // One coordinator per store: taken before the store is opened, held until the server ends.
  absl::StatusOr<StoreLock> lock = StoreLock::Take(options.store_path);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options.store_path);
  if (!store.ok()) return store.status();
  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer());
  server->store_lock_ = *std::move(lock);
  server->coordinator_ = std::make_unique<Coordinator>(*std::move(store), options.coordinator);
  if (absl::Status status = server->coordinator_->Start(); !status.ok()) return status;
  server->services_ = std::make_unique<Services>();
  server->services_->agents =
      std::make_unique<AgentServiceImpl>(*server->coordinator_, /*require_client_certificate=*/
                                         !options.dev);
  server->services_->scans = std::make_unique<ScanServiceImpl>(
      *server->coordinator_, auth, ReportAccess{options.store_path, options.registry});
  server->services_->scheduler = std::make_unique<Scheduler>(*server->coordinator_);
  server->services_->schedules = std::make_unique<ScheduleServiceImpl>(
      *server->coordinator_, auth, server->services_->scheduler.get());

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second coordinator on a busy port would start and take
  // half the clients. Without it, the second one fails to bind.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.RegisterService(server->services_->agents.get());
  builder.RegisterService(server->services_->scans.get());
  builder.RegisterService(server->services_->schedules.get());
  // Agents keep one stream open for days; keepalives find dead peers behind NATs.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.SetMaxReceiveMessageSize(64 << 20);
  grpc::ResourceQuota quota("tlsweep-coordinator");
  quota.Resize(options.grpc_memory_bytes);
  builder.SetResourceQuota(quota);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (in use, or not an address here)"));
  }
  if (options.coordinator.run_scheduler) server->services_->scheduler->Start();
  return server;
}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

void CoordinatorServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
  if (services_ != nullptr && services_->scheduler != nullptr) services_->scheduler->Stop();
  if (coordinator_ != nullptr) coordinator_->Stop();
}

void CoordinatorServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace tlsweep::coordinator
