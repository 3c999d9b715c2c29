#include "agent/enumerate/hello_exchange.h"

#include "absl/strings/str_cat.h"
#include "backends/handshake_outcome.h"
#include "backends/tls_record.h"

namespace tlsweep::agent {
namespace {

constexpr uint8_t kContentAlert = 21;
constexpr uint8_t kContentHandshake = 22;
constexpr size_t kReadChunk = 16 * 1024;

ServerAnswer Answer(ServerAnswer::Kind kind, std::string detail) {
  ServerAnswer answer;
  answer.kind = kind;
  answer.detail = std::move(detail);
  return answer;
}

}  // namespace

ServerAnswer ClassifyServerBytes(absl::string_view received, bool eof) {
  if (received.empty()) {
    return eof ? Answer(ServerAnswer::Kind::kClosed, "the server closed the connection")
               : ServerAnswer{};
  }
  if (!backends::MayBeTlsRecord(received)) {
    return Answer(ServerAnswer::Kind::kNotTls, "the server's answer is not TLS");
  }
  const auto content_type = static_cast<uint8_t>(received[0]);
  if (content_type == kContentAlert) {
    // level(1) description(1) after the 5-byte record header.
    if (received.size() >= 7) {
      ServerAnswer answer = Answer(ServerAnswer::Kind::kAlert, "");
      answer.alert_code = static_cast<uint8_t>(received[6]);
      answer.detail = absl::StrCat("alert ", backends::AlertName(answer.alert_code));
      return answer;
    }
  } else if (content_type == kContentHandshake) {
    absl::StatusOr<backends::ServerHello> hello = backends::ParseServerHello(received);
    if (hello.ok()) {
      ServerAnswer answer = Answer(ServerAnswer::Kind::kServerHello, "");
      answer.hello = *hello;
      return answer;
    }
    if (!absl::IsUnavailable(hello.status())) {
      return Answer(ServerAnswer::Kind::kNotTls, std::string(hello.status().message()));
    }
  } else {
    return Answer(ServerAnswer::Kind::kNotTls,
                  absl::StrCat("unexpected TLS record type ", content_type, " before ServerHello"));
  }
  return eof ? Answer(ServerAnswer::Kind::kClosed, "the server closed the connection mid-record")
             : ServerAnswer{};
}

asio::awaitable<ServerAnswer> ExchangeHello(TimedSocket& socket, absl::string_view client_hello,
                                            Clock::time_point deadline, size_t max_bytes) {
  const IoResult written = co_await socket.WriteAll(client_hello, deadline);
  if (written.timed_out) {
    co_return Answer(ServerAnswer::Kind::kTimeout, "could not send the ClientHello in time");
  }
  // A failed write (reset) is read below as the connection closing.
  std::string received;
  while (true) {
    const IoResult read = co_await socket.ReadSome(received, kReadChunk, deadline);
    if (read.timed_out) {
      co_return Answer(ServerAnswer::Kind::kTimeout, "no answer to the ClientHello in time");
    }
    const bool eof = !read.ok();
    ServerAnswer answer = ClassifyServerBytes(received, eof);
    if (answer.kind != ServerAnswer::Kind::kNeedMore) {
      if (eof && answer.kind == ServerAnswer::Kind::kClosed && read.error != asio::error::eof) {
        absl::StrAppend(&answer.detail, " (", read.error.message(), ")");
      }
      co_return answer;
    }
    if (received.size() > max_bytes) {
      co_return Answer(ServerAnswer::Kind::kTooLarge,
                       absl::StrCat("no whole ServerHello in ", received.size(), " bytes"));
    }
  }
}

}  // namespace tlsweep::agent
