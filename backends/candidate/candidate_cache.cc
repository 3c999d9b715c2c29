#include "backends/candidate/candidate_cache.h"

namespace tlsweep::backends {

absl::StatusOr<TlsCandidate> CandidateCache::Get(const tlsweep::v1::TlsClientSettings& settings) {
  std::string key;
  settings.SerializeToString(&key);
  {
    absl::MutexLock lock(&mutex_);
    auto it = candidates_.find(key);
    if (it != candidates_.end()) return it->second;
  }
  // Built outside the lock: Expand may take a while, and two units building the same candidate
  // at once only cost one extra Expand.
  absl::StatusOr<TlsCandidate> candidate = BuildCandidate(settings, registry_, ca_file_);
  if (!candidate.ok()) return candidate.status();
  absl::MutexLock lock(&mutex_);
  ++built_;
  return candidates_.try_emplace(key, *std::move(candidate)).first->second;
}

int64_t CandidateCache::built() const {
  absl::MutexLock lock(&mutex_);
  return built_;
}

}  // namespace tlsweep::backends
