#include "agent/client/channel_credentials.h"

#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/file_contents.h"

namespace tlsweep::agent {
namespace {

// The file's contents, or its reader's error prefixed with what the file is for.
absl::StatusOr<std::string> ReadPem(absl::string_view role, const std::string& path) {
  absl::StatusOr<std::string> text = backends::ReadFileContents(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat(role, ": ", text.status().message()));
  }
  if (!absl::StrContains(*text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(role, ": '", path, "' holds no PEM block"));
  }
  return text;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ChannelCredentialsOptions& options) {
  if (options.insecure) {
    if (!options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "a plain-text (insecure) channel takes no CA file, client certificate or key");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(options.cert_file.empty()
                                          ? "a client key needs its certificate (--tls-cert)"
                                          : "a client certificate needs its key (--tls-key)");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("CA file", options.ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem("client certificate", options.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("client key", options.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace tlsweep::agent
