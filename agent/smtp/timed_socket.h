// A TCP socket whose every operation has a deadline, for coroutines. Asio 1.22 has no
// cancel_after, so each operation races a timer (awaitable_operators ||); the loser is
// cancelled. No operation throws: outcomes come back as IoResult.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "asio.hpp"

namespace tlsweep::agent {

using Clock = std::chrono::steady_clock;

struct IoResult {
  asio::error_code error;
  size_t bytes = 0;
  bool timed_out = false;

  bool ok() const { return !error && !timed_out; }
  bool eof() const { return error == asio::error::eof; }
};

class TimedSocket {
 public:
  explicit TimedSocket(asio::any_io_executor executor) : socket_(executor), timer_(executor) {}

  asio::awaitable<IoResult> Connect(const asio::ip::tcp::endpoint& endpoint,
                                    Clock::time_point deadline);
  // Reads what is available (at most `max_bytes`) into `out` (appended).
  asio::awaitable<IoResult> ReadSome(std::string& out, size_t max_bytes,
                                     Clock::time_point deadline);
  asio::awaitable<IoResult> WriteAll(absl::string_view data, Clock::time_point deadline);
  void Close();

  size_t bytes_received() const { return bytes_received_; }
  size_t bytes_sent() const { return bytes_sent_; }

 private:
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  size_t bytes_received_ = 0;
  size_t bytes_sent_ = 0;
};

}  // namespace tlsweep::agent
