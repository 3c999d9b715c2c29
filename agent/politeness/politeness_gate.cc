#include "agent/politeness/politeness_gate.h"

#include <algorithm>

#include "asio/experimental/as_tuple.hpp"

namespace tlsweep::agent {

ConnectionPermit& ConnectionPermit::operator=(ConnectionPermit&& other) noexcept {
  if (this != &other) {
    if (gate_ != nullptr) gate_->Release(ip_, provider_);
    gate_ = std::exchange(other.gate_, nullptr);
    ip_ = std::move(other.ip_);
    provider_ = std::move(other.provider_);
  }
  return *this;
}

ConnectionPermit::~ConnectionPermit() {
  if (gate_ != nullptr) gate_->Release(ip_, provider_);
}

bool PolitenessGate::TryTake(const std::string& ip, const std::string& provider, uint64_t ticket,
                             Clock::time_point& retry_at) {
  const Clock::time_point now = Clock::now();
  retry_at = Clock::time_point::max();
  HostState& host = hosts_[ip];
  if (host.queue.front() != ticket) return false;  // Woken when the one ahead takes its slot.
  if (host.active >= options_.per_ip_concurrency) return false;  // Woken by a release.
  if (!provider.empty() && providers_[provider] >= options_.per_provider_concurrency) {
    return false;
  }
  if (now < host.next_start) {
    retry_at = host.next_start;
    return false;
  }
  if (now < next_global_start_) {
    retry_at = next_global_start_;
    return false;
  }
  host.queue.pop_front();
  ++host.active;
  if (!provider.empty()) ++providers_[provider];
  host.next_start = now + options_.per_ip_spacing;
  if (options_.connections_per_second > 0) {
    next_global_start_ = std::max(now, next_global_start_) +
                         std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(1.0 / options_.connections_per_second));
  }
  ++connections_started_;
  return true;
}

asio::awaitable<ConnectionPermit> PolitenessGate::Acquire(std::string ip, std::string provider) {
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  uint64_t ticket;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ticket = next_ticket_++;
    hosts_[ip].queue.push_back(ticket);
  }
  while (true) {
    Clock::time_point retry_at;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (TryTake(ip, provider, ticket, retry_at)) {
        // The next in line may now be first (and, below the concurrency, allowed).
        WakeAll();
        break;
      }
      waiters_.push_back({executor, timer});
      timer->expires_at(retry_at);
    }
    // Woken early (cancelled) by a release or back-off change, or at retry_at.
    (void)co_await timer->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  co_return ConnectionPermit(this, std::move(ip), std::move(provider));
}

void PolitenessGate::Release(const std::string& ip, const std::string& provider) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto host = hosts_.find(ip);
  if (host != hosts_.end()) {
    --host->second.active;
    // Forget idle hosts so a sweep of millions of IPs does not keep them all.
    if (host->second.active == 0 && host->second.queue.empty() &&
        host->second.next_start <= Clock::now()) {
      hosts_.erase(host);
    }
  }
  // A host released while its spacing or back-off still ran stays behind; an agent's gate lives
  // for the whole process, so sweep such leftovers out now and then.
  if (++releases_ % kPurgeEvery == 0) {
    const Clock::time_point now = Clock::now();
    absl::erase_if(hosts_, [now](const auto& entry) {
      const HostState& state = entry.second;
      return state.active == 0 && state.queue.empty() && state.next_start <= now;
    });
  }
  if (!provider.empty()) {
    auto it = providers_.find(provider);
    if (it != providers_.end() && --it->second == 0) providers_.erase(it);
  }
  WakeAll();
}

void PolitenessGate::BackOff(const std::string& ip, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mutex_);
  HostState& host = hosts_[ip];
  host.next_start = std::max(host.next_start, Clock::now() + delay);
}

void PolitenessGate::WakeAll() {
  // Each waiter re-checks its own conditions; timers are touched only on their own executor.
  for (Waiter& waiter : waiters_) {
    asio::post(waiter.executor, [timer = waiter.timer] { timer->cancel(); });
  }
  waiters_.clear();
}

int64_t PolitenessGate::connections_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_started_;
}

}  // namespace tlsweep::agent
