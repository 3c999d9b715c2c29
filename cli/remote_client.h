// The operator's side of the coordinator's API: flags that say which coordinator and how to
// authenticate, the channel they make, and the target-list upload that `tlsweep remote submit`
// and `tlsweep schedule add` share.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/enumeration_reuse_flags.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::cli {

struct RemoteFlags {
  std::string coordinator;  // HOST:PORT; default $TLSWEEP_COORDINATOR, else 127.0.0.1:7443.
  std::string token_file;   // Bearer token (first non-comment line); default $TLSWEEP_TOKEN.
  std::string ca_file;      // --tls-ca: CA of the coordinator's certificate; default: roots.
  std::string tls_cert;     // Optional client certificate (instead of, or with, a token).
  std::string tls_key;
  std::string tls_server_name;  // Name to verify when it differs from HOST.
  bool insecure_dev = false;    // --dev: plain text to a --dev coordinator on loopback.
  std::string misused_ca_file;  // --ca-file given to a remote command: refused with the reason.
  int timeout_ms = 30'000;      // Per call (not for watch).
};

// Adds the flags above to `command`.
void AddRemoteFlags(CLI::App& command, RemoteFlags& flags);

class RemoteConnection {
 public:
  static absl::StatusOr<RemoteConnection> Open(const RemoteFlags& flags);

  grpc::Channel& channel() const { return *channel_; }
  std::shared_ptr<grpc::Channel> shared_channel() const { return channel_; }
  // Adds the token and, unless `streaming`, the call deadline.
  void Prepare(grpc::ClientContext& context, bool streaming = false) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
  int timeout_ms_ = 30'000;
};

// The candidates of --profile, --candidate-from and --candidate, validated, as a ProbeProfile.
struct ProfileFlags {
  std::string profile_file;
  std::vector<std::string> candidate_files;
  std::vector<std::string> candidate_specs;
  bool enumerate = false;
  EnumerationReuseFlags reuse;
};
void AddProfileFlags(CLI::App& command, ProfileFlags& flags);
absl::StatusOr<tlsweep::v1::ProbeProfile> BuildProfile(const ProfileFlags& flags);

// Calls `send(chunk)` for each piece of `path` ("-": standard input), at most `chunk_bytes`
// at a time; stops early (returning Ok) when send returns false.
// NotFound / InvalidArgument when `path` (not "-") cannot be read as a list: missing, a
// directory, not readable. Checked before a call starts, so that a bad path leaves nothing
// behind on the coordinator.
absl::Status CheckListFile(const std::string& path);

absl::Status StreamFile(const std::string& path, size_t chunk_bytes,
                        const std::function<bool(std::string)>& send);

// "eu,us" -> {"eu", "us"}; each entry trimmed, empty ones dropped.
std::vector<std::string> SplitRegions(const std::vector<std::string>& flags);

// Prints a gRPC failure as "tlsweep CMD: MESSAGE" and returns an exit code (3 for not found,
// 4 for authentication, 1 otherwise).
int ReportRpcError(absl::string_view command, const grpc::Status& status);

// "2024-05-01 03:00:00Z" (UTC); "-" for 0.
std::string FormatUnixMs(int64_t unix_ms);

}  // namespace tlsweep::cli
