// The credentials of a gRPC channel to the coordinator: plain text for a --dev coordinator, else
// TLS with an optional CA and client certificate. One builder, so the agent and the operator's
// `tlsweep` commands refuse the same mistakes with the same words.
#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tlsweep::agent {

struct ChannelCredentialsOptions {
  bool insecure = false;  // Plain text: takes none of the files below.
  std::string ca_file;    // PEM roots for the coordinator's certificate; empty: system roots.
  std::string cert_file;  // PEM client certificate chain; given with key_file or not at all.
  std::string key_file;   // PEM private key of cert_file.
};

// InvalidArgument for files with plain text, a certificate without its key or a key without
// its certificate, or a file that holds no PEM block (an empty CA file would silently mean the
// system roots to gRPC); ReadFileContents' errors, naming the file's role, for a file that is
// missing, unreadable or a directory.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ChannelCredentialsOptions& options);

}  // namespace tlsweep::agent
