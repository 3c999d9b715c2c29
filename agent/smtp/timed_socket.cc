#include "agent/smtp/timed_socket.h"

#include <variant>

#include "asio/experimental/as_tuple.hpp"
#include "asio/experimental/awaitable_operators.hpp"

namespace tlsweep::agent {
namespace {

using asio::experimental::awaitable_operators::operator||;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// A read or write raced against the deadline timer: the timer won, or the transfer ended.
template <typename Race>
IoResult TransferOutcome(const Race& result) {
  IoResult io;
  if (result.index() == 1) {
    io.timed_out = true;
  } else {
    auto [error, bytes] = std::get<0>(result);
    io.error = error;
    io.bytes = bytes;
  }
  return io;
}

}  // namespace

asio::awaitable<IoResult> TimedSocket::Connect(const asio::ip::tcp::endpoint& endpoint,
                                               Clock::time_point deadline) {
  timer_.expires_at(deadline);
  auto result = co_await (socket_.async_connect(endpoint, kNoThrow) || timer_.async_wait(kNoThrow));
  IoResult io;
  if (result.index() == 1) {
    io.timed_out = true;
  } else {
    io.error = std::get<0>(std::get<0>(result));
  }
  co_return io;
}

asio::awaitable<IoResult> TimedSocket::ReadSome(std::string& out, size_t max_bytes,
                                                Clock::time_point deadline) {
  const size_t old_size = out.size();
  out.resize(old_size + max_bytes);
  timer_.expires_at(deadline);
  auto result =
      co_await (socket_.async_read_some(asio::buffer(out.data() + old_size, max_bytes), kNoThrow) ||
                timer_.async_wait(kNoThrow));
  const IoResult io = TransferOutcome(result);
  out.resize(old_size + io.bytes);
  bytes_received_ += io.bytes;
  co_return io;
}

asio::awaitable<IoResult> TimedSocket::WriteAll(absl::string_view data,
                                                Clock::time_point deadline) {
  timer_.expires_at(deadline);
  auto result =
      co_await (asio::async_write(socket_, asio::buffer(data.data(), data.size()), kNoThrow) ||
                timer_.async_wait(kNoThrow));
  const IoResult io = TransferOutcome(result);
  bytes_sent_ += io.bytes;
  co_return io;
}

void TimedSocket::Close() {
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace tlsweep::agent
