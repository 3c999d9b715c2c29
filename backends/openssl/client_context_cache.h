// Client SSL_CTX objects, shared by every probe with the same configuration. Building one
// (cipher parsing, and above all loading a CA bundle of ~150 certificates) costs more than the
// handshake itself; an SSL_CTX is reference-counted and safe to share across threads once built.
#pragma once

#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "backends/openssl/openssl_context.h"

namespace tlsweep::backends::openssl {

class ClientContextCache {
 public:
  // A new reference to the context for `config` (SNI and verify name are per connection and
  // do not count), built on first use.
  absl::StatusOr<SslCtxPtr> Get(const ClientConfig& config);

 private:
  // Distinct configs in one run are few (candidates x enumeration offers); a full cache is
  // simply emptied rather than tracked for recency.
  static constexpr size_t kMaxEntries = 256;

  std::mutex mutex_;
  absl::flat_hash_map<std::string, SslCtxPtr> contexts_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace tlsweep::backends::openssl
