// A running coordinator: the store, the core and both gRPC services on one listening port.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/plugin_loader.h"
#include "coordinator/coordinator.h"

namespace grpc {
class Server;
}

namespace tlsweep::coordinator {

struct ServerOptions {
  std::string listen = "127.0.0.1:7443";  // host:port; port 0 picks one (see port()).
  std::string store_path;
  // TLS (required unless dev): the coordinator's chain and key, and the CA that signs agent
  // (and optionally operator) client certificates.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  // Bearer tokens for the scan API, one a line ('#' comments).
  std::string token_file;
  // Plain-text gRPC and no authentication; refused unless `listen` is a loopback address.
  bool dev = false;
  // Memory gRPC may use for its buffers (HTTP/2 receive windows grow to fit fast uploads);
  // under pressure it shrinks windows, which slows senders down instead of growing memory.
  size_t grpc_memory_bytes = size_t{512} << 20;
  // The backend plugins, for the reports the scan API serves (what-if, failure causes from the
  // negotiation model); may be null. Must outlive the server.
  const backends::BackendRegistry* registry = nullptr;
  CoordinatorOptions coordinator;
};

// An exclusive lock on STORE.lock (flock, with the holder's pid in it), so that a second
// coordinator on the same store fails at once instead of leasing and scheduling beside the
// first. Released when the holder exits, however it exits.
class StoreLock {
 public:
  static absl::StatusOr<StoreLock> Take(const std::string& store_path);
  StoreLock() = default;
  StoreLock(StoreLock&& other) noexcept { *this = std::move(other); }
  StoreLock& operator=(StoreLock&& other) noexcept;
  ~StoreLock();

 private:
  int fd_ = -1;
};

class CoordinatorServer {
 public:
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(ServerOptions options);
  ~CoordinatorServer();  // Shutdown().

  int port() const { return port_; }
  Coordinator& coordinator() { return *coordinator_; }
  // Stops accepting, cancels open streams, then stops the core.
  void Shutdown();
  void Wait();

 private:
  CoordinatorServer() = default;
  struct Services;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
  StoreLock store_lock_;
  int port_ = 0;
  bool shut_down_ = false;
};

// True for "127.x.y.z:PORT", "[::1]:PORT" and "localhost:PORT": the address is parsed, so
// "127.0.0.1.nip.io:PORT" is not loopback. What --dev allows for every listener.
bool IsLoopbackListen(absl::string_view listen);

// The tokens of a --token-file: one a line, blank lines and '#' comments skipped; at least one.
absl::StatusOr<std::vector<std::string>> ReadTokens(const std::string& path);

}  // namespace tlsweep::coordinator
