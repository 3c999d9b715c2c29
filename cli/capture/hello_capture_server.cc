#include "cli/capture/hello_capture_server.h"

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "asio.hpp"

namespace tlsweep::cli {
namespace {

using asio::ip::tcp;

constexpr size_t kMaxLine = 1000;             // RFC 5321's limit for a command line.
constexpr size_t kMaxHelloBytes = 64 * 1024;  // A ClientHello is a few hundred bytes.
constexpr char kHandshakeFailureAlert[] = "\x15\x03\x01\x00\x02\x02\x28";

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const CaptureOptions& options, const CaptureEvents& events,
          std::function<void()> on_capture)
      : socket_(std::move(socket)),
        watchdog_(socket_.get_executor()),
        options_(options),
        events_(events),
        on_capture_(std::move(on_capture)) {
    asio::error_code ignored;
    const tcp::endpoint remote = socket_.remote_endpoint(ignored);
    peer_ = absl::StrCat(remote.address().to_string(), ":", remote.port());
  }

  asio::awaitable<void> Run() {
    watchdog_.expires_after(options_.session_timeout);
    watchdog_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (!ec) self->Close();
    });
    std::string why = co_await Converse();
    if (!why.empty() && events_.missed) events_.missed(peer_, why);
    Close();
  }

 private:
  void Close() {
    asio::error_code ignored;
    socket_.close(ignored);
    watchdog_.cancel();
  }

  asio::awaitable<bool> Write(const std::string& text) {
    asio::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(text),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // The next command line without its line ending; nullopt when the client is gone, too slow or
  // wrote a line longer than RFC 5321 allows.
  asio::awaitable<std::optional<std::string>> ReadLine() {
    asio::error_code ec;
    const size_t n =
        co_await asio::async_read_until(socket_, asio::dynamic_buffer(buffer_, kMaxLine + 2), '\n',
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    std::string line = buffer_.substr(0, n);
    buffer_.erase(0, n);
    co_return std::string(absl::StripTrailingAsciiWhitespace(line));
  }

  // The SMTP dialogue up to the ClientHello; returns why no hello was captured, or "".
  asio::awaitable<std::string> Converse() {
    const std::string name = options_.server_name;
    if (!co_await Write(absl::StrCat("220 ", name,
                                     " ESMTP tlsweep capture: STARTTLS records your "
                                     "ClientHello\r\n"))) {
      co_return "the client left before the greeting";
    }
    for (;;) {
      std::optional<std::string> line = co_await ReadLine();
      if (!line.has_value()) co_return "the client left, went quiet or sent an overlong line";
      const std::string verb = absl::AsciiStrToUpper(line->substr(0, line->find(' ')));
      const std::string argument(absl::StripAsciiWhitespace(
          line->size() > verb.size() ? absl::string_view(*line).substr(verb.size()) : ""));
      std::string reply;
      if (verb == "EHLO") {
        ehlo_ = argument.substr(0, 255);
        reply = absl::StrCat("250-", name, "\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n");
      } else if (verb == "HELO") {
        ehlo_ = argument.substr(0, 255);
        reply = absl::StrCat("250 ", name, "\r\n");
      } else if (verb == "STARTTLS") {
        if (!co_await Write("220 2.0.0 Ready to start TLS\r\n")) co_return "the client left";
        co_return co_await ReadHello();
      } else if (verb == "QUIT") {
        co_await Write("221 2.0.0 Bye\r\n");
        co_return "QUIT before STARTTLS";
      } else if (verb == "NOOP" || verb == "RSET") {
        reply = "250 2.0.0 OK\r\n";
      } else if (verb == "MAIL" || verb == "RCPT" || verb == "DATA") {
        reply = "451 4.3.0 tlsweep capture takes no mail; try again later\r\n";
      } else {
        reply = "502 5.5.2 Command not recognized\r\n";
      }
      if (!co_await Write(reply)) co_return "the client left";
    }
  }

  asio::awaitable<std::string> ReadHello() {
    std::string records = std::move(buffer_);  // Bytes pipelined after STARTTLS belong to TLS.
    for (;;) {
      absl::StatusOr<backends::ClientHello> hello = backends::ParseClientHello(records);
      if (hello.ok()) {
        CapturedHello captured;
        captured.origin.peer = peer_;
        captured.origin.ehlo = ehlo_;
        captured.origin.unix_ms = absl::ToUnixMillis(absl::Now());
        captured.hello = *std::move(hello);
        co_await Write(std::string(kHandshakeFailureAlert, sizeof(kHandshakeFailureAlert) - 1));
        if (events_.captured) events_.captured(captured);
        on_capture_();
        co_return "";
      }
      if (!absl::IsUnavailable(hello.status())) {
        co_return absl::StrCat("not a TLS ClientHello: ", hello.status().message());
      }
      if (records.size() > kMaxHelloBytes) co_return "more than 64 KiB without a whole ClientHello";
      std::string chunk(4096, '\0');
      asio::error_code ec;
      const size_t n = co_await socket_.async_read_some(
          asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return "the client left before a whole ClientHello";
      records.append(chunk.data(), n);
    }
  }

  tcp::socket socket_;
  asio::steady_timer watchdog_;
  const CaptureOptions& options_;
  const CaptureEvents& events_;
  std::function<void()> on_capture_;
  std::string peer_, ehlo_, buffer_;
};

}  // namespace

absl::Status RunHelloCapture(const CaptureOptions& options, const CaptureEvents& events) {
  asio::io_context io;
  asio::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options.listen_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: '", options.listen_address, "' is not an IP address"));
  }
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(address, options.listen_port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot listen on ", options.listen_address, ":", options.listen_port, ": ", ec.message()));
  }
  if (events.listening) events.listening(acceptor.local_endpoint().port());
  int captured = 0;
  bool timed_out = false;
  asio::steady_timer deadline(io);
  if (options.total_timeout.count() > 0) {
    deadline.expires_after(options.total_timeout);
    deadline.async_wait([&](asio::error_code error) {
      if (error) return;
      timed_out = true;
      io.stop();
    });
  }
  auto on_capture = [&] {
    if (options.count > 0 && ++captured >= options.count) io.stop();
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          asio::error_code accept_error;
          tcp::socket socket = co_await acceptor.async_accept(
              asio::redirect_error(asio::use_awaitable, accept_error));
          if (accept_error) {  // Out of descriptors, say: wait rather than spin.
            asio::steady_timer pause(io, std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::use_awaitable);
            continue;
          }
          auto session = std::make_shared<Session>(std::move(socket), options, events, on_capture);
          asio::co_spawn(
              io, [session]() { return session->Run(); }, asio::detached);
        }
      },
      asio::detached);
  io.run();
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("timed out with ", captured, " of ", options.count, " hellos captured"));
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::cli
