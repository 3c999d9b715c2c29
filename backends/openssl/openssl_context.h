// Builds OpenSSL SSL_CTX objects from tlsweep configs. Private to the OpenSSL plugin.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "backends/tls_config.h"

namespace tlsweep::backends::openssl {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

absl::StatusOr<SslCtxPtr> NewClientContext(const ClientConfig& config);
absl::StatusOr<SslCtxPtr> NewServerContext(const ServerConfig& config);

// The text of every error on this thread's OpenSSL error queue, joined by "; " (and cleared).
std::string DrainErrorQueue();

// OpenSSL NIDs <-> IANA supported-group ids; 0 when unknown.
uint16_t GroupIdFromNid(int nid);

}  // namespace tlsweep::backends::openssl
