#include "coordinator/server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

namespace {

bool IsLoopbackListen(absl::string_view listen) {
  return absl::StartsWith(listen, "127.") || absl::StartsWith(listen, "[::1]:") ||
         absl::StartsWith(listen, "localhost:");
}

absl::StatusOr<std::vector<std::string>> ReadTokens(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
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

}  // namespace

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
    absl::StatusOr<std::string> ca = ReadFileToString(options.client_ca_file);
    if (!ca.ok()) return ca.status();
    absl::StatusOr<std::string> cert = ReadFileToString(options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFileToString(options.tls_key_file);
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

  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options.store_path);
  if (!store.ok()) return store.status();
  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer());
  server->coordinator_ = std::make_unique<Coordinator>(*std::move(store), options.coordinator);
  if (absl::Status status = server->coordinator_->Start(); !status.ok()) return status;
  server->services_ = std::make_unique<Services>();
  server->services_->agents =
      std::make_unique<AgentServiceImpl>(*server->coordinator_, /*require_client_certificate=*/
                                         !options.dev);
  server->services_->scans = std::make_unique<ScanServiceImpl>(*server->coordinator_, auth);
  server->services_->scheduler = std::make_unique<Scheduler>(*server->coordinator_);
  server->services_->schedules = std::make_unique<ScheduleServiceImpl>(
      *server->coordinator_, auth, server->services_->scheduler.get());

  grpc::ServerBuilder builder;
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
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
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
