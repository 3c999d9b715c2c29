// Shared setup for coordinator tests: a PKI with server and client (clientAuth) certificates,
// a coordinator on 127.0.0.1 with mutual TLS, scan API calls and a raw agent stream for
// playing misbehaving agents.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/server.h"
#include "tests/testing/cert_factory.h"
#include "tlsweep/v1/agent_stream.grpc.pb.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::testing {

inline constexpr char kServerName[] = "coordinator.test";
inline constexpr char kToken[] = "test-token-0123456789";

struct CoordinatorPki {
  std::string directory;
  std::string ca_file;
  IssuedCertificate server;
  IssuedCertificate agent;     // clientAuth, signed by the CA: any agent of regions eu and us.
  IssuedCertificate agent_eu;  // Only agent "agent-eu" of region eu.
  IssuedCertificate api;       // A scan API client ("ops"), not an agent.
  IssuedCertificate unnamed;   // clientAuth from the CA, but with no tlsweep URI name.
  IssuedCertificate stranger;  // clientAuth, signed by another CA.
  std::string token_file;
};
const CoordinatorPki& SharedCoordinatorPki();

// TLS options for a coordinator with the shared PKI, storing in `store_path`.
coordinator::ServerOptions TlsServerOptions(const std::string& store_path);

// A channel to 127.0.0.1:port with TLS; with the agent certificate when `client_cert`.
std::shared_ptr<grpc::Channel> TlsChannel(int port, const IssuedCertificate* client_cert);

// Submits `list` (one chunk per `chunk_bytes`) with the bearer token (unless empty).
grpc::Status Submit(grpc::Channel& channel, const tlsweep::v1::ScanHeader& header,
                    const std::string& list, tlsweep::v1::Scan* scan,
                    const std::string& token = kToken, size_t chunk_bytes = 7);

grpc::Status GetScan(grpc::Channel& channel, const std::string& scan_id, tlsweep::v1::Scan* scan);

// Polls GetScan until the scan is done (or `timeout_ms`); returns the last state seen.
tlsweep::v1::Scan WaitForScanEnd(grpc::Channel& channel, const std::string& scan_id,
                                 int timeout_ms);

// One agent stream driven by hand.
class RawAgent {
 public:
  RawAgent(std::shared_ptr<grpc::Channel> channel, const std::string& agent_id,
           const std::string& region);
  ~RawAgent();
  bool Send(const tlsweep::v1::AgentMessage& message);
  // Next message, or false when the stream ended.
  bool Read(tlsweep::v1::CoordinatorMessage* message);
  // Reads until a message of `body` case arrives (others dropped); false if the stream ends.
  bool ReadUntil(tlsweep::v1::CoordinatorMessage::BodyCase body,
                 tlsweep::v1::CoordinatorMessage* message);
  grpc::Status Finish();
  void Cancel() { context_.TryCancel(); }

  bool Hello(int capacity = 1);
  bool RequestLease(int shards);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<tlsweep::v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<tlsweep::v1::AgentMessage, tlsweep::v1::CoordinatorMessage>>
      stream_;
  std::string agent_id_;
  std::string region_;
  bool finished_ = false;
};

// "127.0.0.77:P\n127.0.0.77:P+1\n...": n distinct targets that are refused at once (no DNS).
std::string RefusedTargets(int first_port, int n);

}  // namespace tlsweep::testing
