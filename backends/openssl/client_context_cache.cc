#include "backends/openssl/client_context_cache.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tlsweep::backends::openssl {
namespace {

std::string CacheKey(const ClientConfig& config) {
  return absl::StrCat(config.ciphers.openssl_ciphers, "\n", config.ciphers.openssl_ciphersuites,
                      "\n", config.ciphers.gnutls_priority, "\n",
                      config.min_version ? static_cast<int>(*config.min_version) : -1, "\n",
                      config.max_version ? static_cast<int>(*config.max_version) : -1, "\n",
                      absl::StrJoin(config.groups, ":"), "\n", config.ca_file, "\n",
                      config.legacy ? 1 : 0);
}

SslCtxPtr NewReference(SSL_CTX* ctx) {
  SSL_CTX_up_ref(ctx);
  return SslCtxPtr(ctx);
}

}  // namespace

absl::StatusOr<SslCtxPtr> ClientContextCache::Get(const ClientConfig& config) {
  const std::string key = CacheKey(config);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = contexts_.find(key);
    if (it != contexts_.end()) return NewReference(it->second.get());
  }
  // Built outside the lock: two threads may both build one; the second simply wins the slot.
  absl::StatusOr<SslCtxPtr> built = NewClientContext(config);
  if (!built.ok()) return built.status();
  std::lock_guard<std::mutex> lock(mutex_);
  if (contexts_.size() >= kMaxEntries) contexts_.clear();
  SslCtxPtr reference = NewReference(built->get());
  contexts_[key] = *std::move(built);
  return reference;
}

}  // namespace tlsweep::backends::openssl
