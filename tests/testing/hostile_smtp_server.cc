#include "tests/testing/hostile_smtp_server.h"

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

// GCC 12 inlines Asio's coroutine-frame operator new (aligned_alloc) and then flags the frame's
// own operator delete as mismatched: a false positive (GCC PR 109224), fatal under -Werror.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace tlsweep::testing {

using asio::ip::tcp;
using Behaviour = HostileSmtpServer::Behaviour;

struct HostileSmtpServer::Impl {
  Behaviour behaviour;
  Options options;
  std::atomic<int> accepted{0};
  std::mutex accept_mutex;
  std::vector<std::chrono::steady_clock::time_point> accept_times;
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> received{0};
  // Declared after the counters: destroying io destroys the suspended sessions, which must not
  // outlive what they point at.
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  uint16_t port = 0;
  std::thread thread;
};

namespace {

constexpr size_t kMaxLine = 4096;  // RFC 5321 allows 512 octets; be generous, but bounded.
constexpr char kHostname[] = "hostile.example.test";

// One connection. Every awaited operation reports errors through `ec` instead of throwing: a
// peer closing at any moment is normal here.
class Session {
 public:
  Session(HostileSmtpServer::Impl* impl, tcp::socket socket)
      : impl_(impl), socket_(std::move(socket)) {}

  asio::awaitable<void> Run() {
    switch (impl_->behaviour) {
      case Behaviour::kTarpit:
        co_await Hold();
        break;
      case Behaviour::kSlowBanner: {
        static constexpr std::string_view kBanner = "220 slow ESMTP\r\n";
        for (char c : kBanner) {
          if (!co_await Write(std::string_view(&c, 1))) co_return;
          co_await Sleep(std::chrono::seconds(1));
        }
        co_await Dialogue();
        break;
      }
      case Behaviour::kHugeLine: {
        if (!co_await Write("220 ")) co_return;
        const std::string chunk(64 << 10, 'x');
        const int64_t total = std::max<int64_t>(impl_->options.huge_line_bytes, 1 << 20);
        for (int64_t done = 0; done < total; done += static_cast<int64_t>(chunk.size())) {
          if (!co_await Write(chunk)) co_return;
        }
        co_await Hold();
        break;
      }
      case Behaviour::kEndlessContinuation: {
        // Paced in 10 ms batches: "forever" without burning a core the tests share.
        const int per_batch = std::max(1, impl_->options.continuation_lines_per_second / 100);
        for (int64_t line = 0;;) {
          std::string batch;
          for (int i = 0; i < per_batch; ++i) {
            absl::StrAppend(&batch, "220-", kHostname, " continuation line ", line++, "\r\n");
          }
          if (!co_await Write(batch)) co_return;
          co_await Sleep(std::chrono::milliseconds(10));
        }
      }
      case Behaviour::kGarbage: {
        // Deterministic bytes covering 0x00..0xff except CR/LF, then one CRLF: a line-based
        // client gets one line that is not a reply. The first byte is not 0x16 (no TLS record).
        std::string garbage;
        uint32_t state = 0x2545F491;
        for (int i = 0; i < 512; ++i) {
          state = state * 1664525 + 1013904223;
          char c = static_cast<char>(state >> 24);
          if (c == '\r' || c == '\n' || (i == 0 && c == 0x16)) c = 0;
          garbage.push_back(c);
        }
        garbage += "\r\n";
        if (!co_await Write(garbage)) co_return;
        co_await Hold();
        break;
      }
      case Behaviour::k421OnConnect:
        if (co_await Write("421 4.7.0 Try again later\r\n")) co_await CloseGracefully();
        break;
      default:
        if (co_await Write(absl::StrCat("220 ", kHostname, " ESMTP hostile\r\n"))) {
          co_await Dialogue();
        }
        break;
    }
  }

 private:
  asio::awaitable<bool> Write(std::string_view data) {
    asio::error_code ec;
    const size_t n = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                                                asio::redirect_error(asio::use_awaitable, ec));
    impl_->sent += static_cast<int64_t>(n);
    co_return !ec;
  }

  // Reads more bytes into buffer_; false on EOF or error.
  asio::awaitable<bool> ReadSome() {
    char chunk[4096];
    asio::error_code ec;
    const size_t n = co_await socket_.async_read_some(
        asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    impl_->received += static_cast<int64_t>(n);
    buffer_.append(chunk, n);
    co_return !ec;
  }

  enum class LineResult { kOk, kClosed, kTooLong };

  asio::awaitable<LineResult> ReadLine(std::string* line) {
    while (true) {
      const size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        *line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        co_return LineResult::kOk;
      }
      if (buffer_.size() > kMaxLine) co_return LineResult::kTooLong;
      if (!co_await ReadSome()) co_return LineResult::kClosed;
    }
  }

  // Reads and discards until the peer closes (or the server stops).
  // (No co_await inside a loop condition: GCC 12 miscompiles that into a trap.)
  asio::awaitable<void> Hold() {
    while (true) {
      const bool more = co_await ReadSome();
      if (!more) break;
      buffer_.clear();
    }
  }

  template <typename Duration>
  asio::awaitable<void> Sleep(Duration duration) {
    asio::steady_timer timer(impl_->io, duration);
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // FIN first, then drain for a while: closing with unread input would send a RST, and the
  // peer could lose our last reply.
  asio::awaitable<void> CloseGracefully() {
    asio::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    asio::steady_timer timer(impl_->io, std::chrono::seconds(2));
    // The timer's handler may already be queued when the drain ends: `done` keeps it away from
    // a socket that no longer exists.
    auto done = std::make_shared<bool>(false);
    timer.async_wait([socket = &socket_, done](asio::error_code wait_ec) {
      if (!wait_ec && !*done) socket->cancel();
    });
    while (true) {
      const bool more = co_await ReadSome();
      if (!more) break;
      buffer_.clear();
    }
    *done = true;
    timer.cancel();
    socket_.close(ec);
  }

  // After "220 ready to start TLS": wait for the first ClientHello bytes (some may already be
  // buffered, if the client pipelined them).
  asio::awaitable<bool> AwaitClientHello() {
    if (!buffer_.empty()) co_return true;
    co_return co_await ReadSome();
  }

  asio::awaitable<void> Dialogue() {
    const Behaviour b = impl_->behaviour;
    std::string line;
    while (true) {
      const LineResult result = co_await ReadLine(&line);
      if (result == LineResult::kClosed) co_return;
      if (result == LineResult::kTooLong) {
        if (co_await Write("500 5.5.0 Error: line too long\r\n")) co_await CloseGracefully();
        co_return;
      }
      std::string verb = absl::AsciiStrToUpper(line.substr(0, line.find(' ')));
      if (verb == "EHLO" || verb == "HELO") {
        if (b == Behaviour::kEhloRejected) {
          if (!co_await Write("550 5.7.1 go away\r\n")) co_return;
        } else if (verb == "HELO") {
          if (!co_await Write(absl::StrCat("250 ", kHostname, "\r\n"))) co_return;
        } else {
          const bool offer = b != Behaviour::kNoStarttls && b != Behaviour::kSlowBanner;
          if (!co_await Write(absl::StrCat("250-", kHostname, "\r\n250-PIPELINING\r\n",
                                           offer ? "250-STARTTLS\r\n" : "", "250 8BITMIME\r\n"))) {
            co_return;
          }
        }
      } else if (verb == "STARTTLS") {
        switch (b) {
          case Behaviour::kStarttlsRefused:
            if (!co_await Write("454 4.7.0 TLS not available due to local problem\r\n")) {
              co_return;
            }
            break;
          case Behaviour::kCloseAfterStarttls: {
            co_await Write("220 2.0.0 Ready to start TLS\r\n");
            asio::error_code ec;
            socket_.close(ec);
            co_return;
          }
          case Behaviour::kPlainAfterStarttls:
            if (!co_await Write("220 2.0.0 Ready to start TLS\r\n")) co_return;
            if (!co_await AwaitClientHello()) co_return;
            buffer_.clear();
            if (co_await Write("220 hello again\r\n")) co_await Hold();
            co_return;
          case Behaviour::kTlsAlert: {
            if (!co_await Write("220 2.0.0 Ready to start TLS\r\n")) co_return;
            if (!co_await AwaitClientHello()) co_return;
            buffer_.clear();
            // TLS 1.2 record header, alert level fatal (2), handshake_failure (40).
            static constexpr char kAlert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
            if (co_await Write(std::string_view(kAlert, sizeof(kAlert)))) {
              co_await CloseGracefully();
            }
            co_return;
          }
          case Behaviour::kHugeServerHello: {
            if (!co_await Write("220 2.0.0 Ready to start TLS\r\n")) co_return;
            if (!co_await AwaitClientHello()) co_return;
            buffer_.clear();
            // A ServerHello that says it is 16 MiB long, sent in full-size handshake records for
            // as long as the client keeps reading.
            std::string record(5 + 16384, '\x41');
            record[0] = 0x16;
            record[1] = 0x03;
            record[2] = 0x03;
            record[3] = 0x40;
            record[4] = 0x00;
            std::string first = record;
            first[5] = 0x02;  // server_hello
            first[6] = first[7] = first[8] = '\xff';
            first[9] = 0x03;  // legacy_version 3.3
            first[10] = 0x03;
            if (!co_await Write(first)) co_return;
            for (int i = 1; i < 1024; ++i) {
              if (!co_await Write(record)) co_return;
            }
            co_await Hold();
            co_return;
          }
          default:
            if (!co_await Write("502 5.5.1 Error: command not implemented\r\n")) co_return;
            break;
        }
      } else if (verb == "QUIT") {
        if (co_await Write("221 2.0.0 Bye\r\n")) co_await CloseGracefully();
        co_return;
      } else if (verb == "RSET" || verb == "NOOP") {
        if (!co_await Write("250 2.0.0 Ok\r\n")) co_return;
      } else if (verb == "MAIL" || verb == "RCPT" || verb == "DATA") {
        if (!co_await Write("554 5.7.1 Error: not accepting mail\r\n")) co_return;
      } else {
        if (!co_await Write("502 5.5.2 Error: command not recognized\r\n")) co_return;
      }
    }
  }

  HostileSmtpServer::Impl* impl_;
  tcp::socket socket_;
  std::string buffer_;
};

asio::awaitable<void> Serve(HostileSmtpServer::Impl* impl, tcp::socket socket) {
  Session session(impl, std::move(socket));
  co_await session.Run();
}

asio::awaitable<void> AcceptLoop(HostileSmtpServer::Impl* impl) {
  while (true) {
    asio::error_code ec;
    tcp::socket socket =
        co_await impl->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !impl->acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      asio::steady_timer timer(impl->io, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    ++impl->accepted;
    {
      std::lock_guard<std::mutex> lock(impl->accept_mutex);
      impl->accept_times.push_back(std::chrono::steady_clock::now());
    }
    asio::co_spawn(impl->io, Serve(impl, std::move(socket)), asio::detached);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HostileSmtpServer>> HostileSmtpServer::Start(Behaviour behaviour,
                                                                            std::string address) {
  Options options;
  options.address = std::move(address);
  return Start(behaviour, std::move(options));
}

absl::StatusOr<std::unique_ptr<HostileSmtpServer>> HostileSmtpServer::Start(Behaviour behaviour,
                                                                            Options options) {
  asio::error_code ec;
  const asio::ip::address_v4 address = asio::ip::make_address_v4(options.address, ec);
  if (ec || !address.is_loopback()) {
    return absl::InvalidArgumentError(
        absl::StrCat("hostile server address must be in 127.0.0.0/8: ", options.address));
  }
  auto impl = std::make_unique<Impl>();
  impl->behaviour = behaviour;
  impl->options = options;
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("hostile server cannot listen on ", options.address,
                                               ":", options.port, ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  asio::co_spawn(impl->io, AcceptLoop(impl.get()), asio::detached);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return absl::WrapUnique(new HostileSmtpServer(std::move(impl)));
}

HostileSmtpServer::HostileSmtpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HostileSmtpServer::~HostileSmtpServer() {
  // stop() abandons every suspended session; destroying io (with impl_) then destroys their
  // frames, which closes the sockets. Nothing waits on a peer.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t HostileSmtpServer::port() const { return impl_->port; }
const std::string& HostileSmtpServer::address() const { return impl_->options.address; }
std::string HostileSmtpServer::endpoint() const {
  return absl::StrCat(impl_->options.address, ":", impl_->port);
}
int HostileSmtpServer::connections_accepted() const { return impl_->accepted.load(); }

std::vector<std::chrono::steady_clock::time_point> HostileSmtpServer::accept_times() const {
  std::lock_guard<std::mutex> lock(impl_->accept_mutex);
  return impl_->accept_times;
}
int64_t HostileSmtpServer::bytes_sent() const { return impl_->sent.load(); }
int64_t HostileSmtpServer::bytes_received() const { return impl_->received.load(); }

const char* HostileSmtpServer::BehaviourName(Behaviour behaviour) {
  switch (behaviour) {
    case Behaviour::kTarpit:
      return "Tarpit";
    case Behaviour::kSlowBanner:
      return "SlowBanner";
    case Behaviour::kHugeLine:
      return "HugeLine";
    case Behaviour::kEndlessContinuation:
      return "EndlessContinuation";
    case Behaviour::kGarbage:
      return "Garbage";
    case Behaviour::k421OnConnect:
      return "421OnConnect";
    case Behaviour::kStarttlsRefused:
      return "StarttlsRefused";
    case Behaviour::kCloseAfterStarttls:
      return "CloseAfterStarttls";
    case Behaviour::kPlainAfterStarttls:
      return "PlainAfterStarttls";
    case Behaviour::kTlsAlert:
      return "TlsAlert";
    case Behaviour::kHugeServerHello:
      return "HugeServerHello";
    case Behaviour::kNoStarttls:
      return "NoStarttls";
    case Behaviour::kEhloRejected:
      return "EhloRejected";
  }
  return "?";
}

}  // namespace tlsweep::testing
