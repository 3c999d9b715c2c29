#include "agent/sweep/endpoint_cache.h"

#include "asio/experimental/as_tuple.hpp"

namespace tlsweep::agent {

asio::awaitable<std::optional<tlsweep::v1::ProbeResult>> EndpointCache::Claim(
    const std::string& key) {
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        if (entries_.size() < capacity_) entries_.emplace(key, std::make_shared<Entry>());
        co_return std::nullopt;
      }
      if (it->second->done) co_return it->second->result;
      it->second->waiters.push_back({executor, timer});
      timer->expires_at(asio::steady_timer::time_point::max());
    }
    // Cancelled by Complete() through a post to this executor, after the wait has started.
    (void)co_await timer->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

void EndpointCache::Complete(const std::string& key, const tlsweep::v1::ProbeResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;  // Over capacity: never cached.
  Entry& entry = *it->second;
  entry.done = true;
  entry.result = result;
  for (auto& certificate : *entry.result.mutable_tls()->mutable_peer_chain()) {
    certificate.clear_der();
  }
  for (Waiter& waiter : entry.waiters) {
    asio::post(waiter.executor, [timer = waiter.timer] { timer->cancel(); });
  }
  entry.waiters.clear();
}

}  // namespace tlsweep::agent
