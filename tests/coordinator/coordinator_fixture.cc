#include "tests/coordinator/coordinator_fixture.h"

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

// cert_factory issues serverAuth leaves; gRPC's OpenSSL checks a client certificate's purpose,
// so agent certificates are minted with clientAuth from the same CA (its key is in the
// factory's directory). `uris` are the URI names that give it its roles (peer_roles.h).
absl::StatusOr<IssuedCertificate> IssueClientCertificate(const std::string& directory,
                                                         const std::string& ca_file,
                                                         const std::string& ca_key_file,
                                                         const std::string& name,
                                                         const std::vector<std::string>& uris) {
  IssuedCertificate issued{directory + "/" + name + ".pem", directory + "/" + name + "-key.pem"};
  const std::string ext = directory + "/" + name + ".ext";
  std::ofstream(ext) << "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n"
                     << "subjectAltName=DNS:" << name;
  for (const std::string& uri : uris) std::ofstream(ext, std::ios::app) << ",URI:" << uri;
  std::ofstream(ext, std::ios::app) << "\n";
  const std::string command = absl::StrCat(
      "cd ", ShellQuote(directory),
      " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes", " -keyout ",
      ShellQuote(issued.key_file), " -subj /CN=", name, " -out ", name, ".csr",
      " 2>/dev/null && openssl x509 -req -in ", name, ".csr -CA ", ShellQuote(ca_file), " -CAkey ",
      ShellQuote(ca_key_file), " -CAcreateserial -days 2 -extfile ", ShellQuote(ext), " -out ",
      ShellQuote(issued.chain_file), " 2>/dev/null && echo ok");
  absl::StatusOr<CommandResult> result = RunCommand(command);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) return absl::InternalError("openssl failed: " + command);
  return issued;
}

CoordinatorPki* MakePki() {
  auto* pki = new CoordinatorPki();
  pki->directory = MakeTempDirectory("tlsweep-coordinator-pki");
  absl::StatusOr<CertFactory> factory = CertFactory::Create(pki->directory + "/ca");
  absl::StatusOr<CertFactory> other = CertFactory::Create(pki->directory + "/other-ca");
  if (!factory.ok() || !other.ok()) return nullptr;
  pki->ca_file = factory->ca_file();
  absl::StatusOr<IssuedCertificate> server =
      factory->Issue("coordinator", {kServerName}, KeyKind::kEcdsaP256);
  auto client = [&](const std::string& name, const std::vector<std::string>& uris) {
    return IssueClientCertificate(pki->directory + "/ca", factory->ca_file(),
                                  pki->directory + "/ca/ca-key.pem", name, uris);
  };
  absl::StatusOr<IssuedCertificate> agent =
      client("agent-1", {"spiffe://tlsweep/agent/eu/*", "spiffe://tlsweep/agent/us/*"});
  absl::StatusOr<IssuedCertificate> agent_eu =
      client("agent-eu", {"spiffe://tlsweep/agent/eu/agent-eu"});
  absl::StatusOr<IssuedCertificate> api = client("ops", {"spiffe://tlsweep/api/ops"});
  absl::StatusOr<IssuedCertificate> unnamed = client("unnamed", {});
  absl::StatusOr<IssuedCertificate> stranger = IssueClientCertificate(
      pki->directory + "/other-ca", other->ca_file(), pki->directory + "/other-ca/ca-key.pem",
      "stranger", {"spiffe://tlsweep/agent/eu/*"});
  for (const auto* issued : {&agent, &agent_eu, &api, &unnamed, &stranger}) {
    if (!issued->ok()) return nullptr;
  }
  if (!server.ok()) return nullptr;
  pki->server = *server;
  pki->agent = *agent;
  pki->agent_eu = *agent_eu;
  pki->api = *api;
  pki->unnamed = *unnamed;
  pki->stranger = *stranger;
  pki->token_file = pki->directory + "/tokens";
  std::ofstream(pki->token_file) << "# scan API tokens\n" << kToken << "\n";
  return pki;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

const CoordinatorPki& SharedCoordinatorPki() {
  static const CoordinatorPki* pki = MakePki();
  if (pki == nullptr) abort();
  return *pki;
}

coordinator::ServerOptions TlsServerOptions(const std::string& store_path) {
  const CoordinatorPki& pki = SharedCoordinatorPki();
  coordinator::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.store_path = store_path;
  options.tls_cert_file = pki.server.chain_file;
  options.tls_key_file = pki.server.key_file;
  options.client_ca_file = pki.ca_file;
  options.token_file = pki.token_file;
  options.coordinator.expiry_check_ms = 100;
  return options;
}

std::shared_ptr<grpc::Channel> TlsChannel(int port, const IssuedCertificate* client_cert) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Slurp(SharedCoordinatorPki().ca_file);
  if (client_cert != nullptr) {
    ssl.pem_cert_chain = Slurp(client_cert->chain_file);
    ssl.pem_private_key = Slurp(client_cert->key_file);
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(kServerName);
  // A channel of its own (not a subchannel shared with earlier channels and their reconnect
  // backoff), retrying quickly when a test restarts the coordinator.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), grpc::SslCredentials(ssl),
                                   args);
}

grpc::Status Submit(grpc::Channel& channel, const tlsweep::v1::ScanHeader& header,
                    const std::string& list, tlsweep::v1::Scan* scan, const std::string& token,
                    size_t chunk_bytes) {
  auto stub = tlsweep::v1::ScanService::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  auto writer = stub->CreateScan(&context, scan);
  tlsweep::v1::CreateScanRequest request;
  *request.mutable_header() = header;
  bool ok = writer->Write(request);
  for (size_t at = 0; ok && at < list.size(); at += chunk_bytes) {
    request.mutable_chunk()->set_data(list.substr(at, chunk_bytes));
    ok = writer->Write(request);
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status GetScan(grpc::Channel& channel, const std::string& scan_id, tlsweep::v1::Scan* scan) {
  auto stub = tlsweep::v1::ScanService::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  // Waiting for the channel keeps this thread polling while it connects.
  context.set_wait_for_ready(true);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  tlsweep::v1::GetScanRequest request;
  request.set_scan_id(scan_id);
  return stub->GetScan(&context, request, scan);
}

tlsweep::v1::Scan WaitForScanEnd(grpc::Channel& channel, const std::string& scan_id,
                                 int timeout_ms) {
  tlsweep::v1::Scan scan;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (GetScan(channel, scan_id, &scan).ok() && scan.state() != tlsweep::v1::SCAN_RUNNING &&
        scan.state() != tlsweep::v1::SCAN_SUBMITTING) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return scan;
}

RawAgent::RawAgent(std::shared_ptr<grpc::Channel> channel, const std::string& agent_id,
                   const std::string& region)
    : channel_(std::move(channel)),
      stub_(tlsweep::v1::AgentService::NewStub(channel_)),
      agent_id_(agent_id),
      region_(region) {
  stream_ = stub_->Connect(&context_);
}

RawAgent::~RawAgent() {
  if (!finished_) {
    context_.TryCancel();
    (void)stream_->Finish();
  }
}

bool RawAgent::Send(const tlsweep::v1::AgentMessage& message) { return stream_->Write(message); }

bool RawAgent::Read(tlsweep::v1::CoordinatorMessage* message) { return stream_->Read(message); }

bool RawAgent::ReadUntil(tlsweep::v1::CoordinatorMessage::BodyCase body,
                         tlsweep::v1::CoordinatorMessage* message) {
  while (stream_->Read(message)) {
    if (message->body_case() == body) return true;
  }
  return false;
}

grpc::Status RawAgent::Finish() {
  finished_ = true;
  stream_->WritesDone();
  tlsweep::v1::CoordinatorMessage ignored;
  while (stream_->Read(&ignored)) {
  }
  return stream_->Finish();
}

bool RawAgent::Hello(int capacity) {
  tlsweep::v1::AgentMessage message;
  message.mutable_hello()->set_agent_id(agent_id_);
  message.mutable_hello()->set_region(region_);
  message.mutable_hello()->set_capacity(capacity);
  message.mutable_hello()->add_backends()->set_name("openssl");
  message.mutable_hello()->set_runs_endpoint_units(true);
  message.mutable_hello()->set_shares_addresses(true);
  tlsweep::v1::CoordinatorMessage welcome;
  return Send(message) && ReadUntil(tlsweep::v1::CoordinatorMessage::kWelcome, &welcome);
}

bool RawAgent::RequestLease(int shards) {
  tlsweep::v1::AgentMessage message;
  message.mutable_lease_request()->set_shards(shards);
  return Send(message);
}

std::string RefusedTargets(int first_port, int n) {
  std::string list;
  for (int i = 0; i < n; ++i) absl::StrAppend(&list, "127.0.0.77:", first_port + i, "\n");
  return list;
}

}  // namespace tlsweep::testing
