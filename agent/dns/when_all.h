// Runs awaitables concurrently on the current executor and waits for all of them (Asio 1.22
// has no ranged parallel_group). Internal to agent/dns.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "asio/awaitable.hpp"
#include "asio/co_spawn.hpp"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"

namespace tlsweep::agent::dns_internal {

// Results are in the order of `tasks`. If any task throws, the first exception is rethrown
// once all have finished. T must be default-constructible (co_spawn's completion signature).
template <typename T>
asio::awaitable<std::vector<T>> WhenAll(std::vector<asio::awaitable<T>> tasks) {
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  struct State {
    explicit State(const asio::any_io_executor& executor, size_t count)
        : results(count), remaining(count), done(executor, asio::steady_timer::time_point::max()) {}
    std::vector<std::optional<T>> results;
    size_t remaining;
    std::exception_ptr error;
    asio::steady_timer done;  // Used as an event: cancelled when the last task finishes.
  };
  auto state = std::make_shared<State>(executor, tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(executor, std::move(tasks[i]), [state, i](std::exception_ptr error, T value) {
      if (error != nullptr) {
        if (state->error == nullptr) state->error = error;
      } else {
        state->results[i].emplace(std::move(value));
      }
      if (--state->remaining == 0) state->done.cancel();
    });
  }
  while (state->remaining > 0) {
    asio::error_code ignored;
    co_await state->done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (state->error != nullptr) std::rethrow_exception(state->error);
  std::vector<T> results;
  results.reserve(state->results.size());
  for (std::optional<T>& result : state->results) results.push_back(std::move(*result));
  co_return results;
}

}  // namespace tlsweep::agent::dns_internal
