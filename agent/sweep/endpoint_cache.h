// One probe per unique (MX host, address, port, TLS candidate) per sweep: many domains share a
// few providers' MX hosts, and probing each once is both faster and politer. The first
// domain to need an endpoint probes it; the others wait for that result and get a copy.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "asio.hpp"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

class EndpointCache {
 public:
  explicit EndpointCache(size_t capacity) : capacity_(capacity) {}

  // The result of an earlier or running probe of `key` (waiting for it if needed), or nullopt:
  // then the caller probes and must call Complete(key, ...) even on failure.
  asio::awaitable<std::optional<tlsweep::v1::ProbeResult>> Claim(const std::string& key);

  // Publishes the result of a claimed probe and wakes whoever waits for it. The cached copy
  // drops certificate DER (the parsed summaries stay) to bound memory.
  void Complete(const std::string& key, const tlsweep::v1::ProbeResult& result);

 private:
  struct Waiter {
    asio::any_io_executor executor;
    std::shared_ptr<asio::steady_timer> timer;
  };
  struct Entry {
    bool done = false;
    tlsweep::v1::ProbeResult result;
    std::vector<Waiter> waiters;
  };

  const size_t capacity_;
  std::mutex mutex_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace tlsweep::agent
