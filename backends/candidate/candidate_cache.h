// Candidates built once per process: an agent gets the same profile with every unit it leases,
// and building a candidate means asking the backend to Expand its configuration. The cache
// keys on the settings' bytes (with the CA file), so each distinct candidate is expanded once.
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "backends/candidate/tls_candidate.h"

namespace tlsweep::backends {

class CandidateCache {
 public:
  // `registry` must outlive the cache (its candidates point at the registry's backends).
  CandidateCache(const BackendRegistry& registry, std::string ca_file)
      : registry_(registry), ca_file_(std::move(ca_file)) {}

  // BuildCandidate(settings, registry, ca_file), or the candidate built for the same settings
  // before. Errors are not cached: they are rare and cheap to find again.
  absl::StatusOr<TlsCandidate> Get(const tlsweep::v1::TlsClientSettings& settings);

  int64_t built() const;  // Candidates built (expanded), not served from the cache.

 private:
  const BackendRegistry& registry_;
  const std::string ca_file_;
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<std::string, TlsCandidate> candidates_ ABSL_GUARDED_BY(mutex_);
  int64_t built_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace tlsweep::backends
