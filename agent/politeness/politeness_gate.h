// Decides when the agent may open the next SMTP connection: a global connection rate, a
// per-IP concurrency and spacing, a per-provider concurrency, and back-off after a 421.
// One per agent process, shared by every unit and event loop it runs; waiting is asynchronous (a
// coroutine per waiter, woken by a post to its own executor), never a blocked thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "asio.hpp"

namespace tlsweep::agent {

struct PolitenessOptions {
  double connections_per_second = 50;  // Across all hosts; <= 0: unlimited.
  int per_ip_concurrency = 1;
  std::chrono::milliseconds per_ip_spacing{250};  // Between connection starts to one IP.
  int per_provider_concurrency = 8;               // Providers: registrable domain of the MX host.
};

class PolitenessGate;

// Holds a connection slot; releases it when destroyed.
class ConnectionPermit {
 public:
  ConnectionPermit() = default;
  ConnectionPermit(PolitenessGate* gate, std::string ip, std::string provider)
      : gate_(gate), ip_(std::move(ip)), provider_(std::move(provider)) {}
  ConnectionPermit(ConnectionPermit&& other) noexcept { *this = std::move(other); }
  ConnectionPermit& operator=(ConnectionPermit&& other) noexcept;
  ~ConnectionPermit();

 private:
  PolitenessGate* gate_ = nullptr;
  std::string ip_;
  std::string provider_;
};

class PolitenessGate {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PolitenessGate(PolitenessOptions options) : options_(options) {}

  // Waits until a new connection to `ip` (of `provider`) is allowed and takes a slot.
  asio::awaitable<ConnectionPermit> Acquire(std::string ip, std::string provider);

  // After a 421 or a refusal: no new connection to `ip` before now + `delay`.
  void BackOff(const std::string& ip, std::chrono::milliseconds delay);

  // For tests and progress: connections opened so far.
  int64_t connections_started() const;

 private:
  friend class ConnectionPermit;
  struct Waiter {
    asio::any_io_executor executor;
    std::shared_ptr<asio::steady_timer> timer;
  };
  struct HostState {
    int active = 0;
    Clock::time_point next_start = Clock::time_point::min();
    // Tickets of the coroutines waiting for this host, first come first served: a prober that
    // backs off and asks again goes to the back, so it cannot starve the others.
    std::deque<uint64_t> queue;
  };

  // Takes a slot for `ticket` if it is first in line and allowed now; otherwise returns when
  // to look again (max(): when woken).
  bool TryTake(const std::string& ip, const std::string& provider, uint64_t ticket,
               Clock::time_point& retry_at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Release(const std::string& ip, const std::string& provider);
  void WakeAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const PolitenessOptions options_;
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, HostState> hosts_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, int> providers_ ABSL_GUARDED_BY(mutex_);
  Clock::time_point next_global_start_ ABSL_GUARDED_BY(mutex_) = Clock::time_point::min();
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mutex_);
  int64_t connections_started_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mutex_) = 0;
  static constexpr uint64_t kPurgeEvery = 4096;
  uint64_t releases_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace tlsweep::agent
