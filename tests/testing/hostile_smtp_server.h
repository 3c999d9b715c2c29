// A hand-written SMTP server for behaviours no real MTA shows (tarpits, endless replies,
// garbage, broken STARTTLS). It runs its own io_context on its own thread and serves any
// number of concurrent connections, all with the behaviour chosen at Start.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tlsweep::testing {

class HostileSmtpServer {
 public:
  enum class Behaviour {
    kTarpit,               // Accept, never send anything; hold the socket until the peer closes.
    kSlowBanner,           // "220 slow ESMTP\r\n", one byte per second, then a normal dialogue.
    kHugeLine,             // "220 " then huge_line_bytes without CRLF; then hold the socket.
    kEndlessContinuation,  // "220-..." continuation lines forever, never a final "220 ".
    kGarbage,              // Binary bytes (no CRLF) as the banner, then CRLF; then hold.
    k421OnConnect,         // "421 4.7.0 Try again later\r\n", then close.
    kStarttlsRefused,      // EHLO offers STARTTLS; STARTTLS answers 454.
    kCloseAfterStarttls,   // STARTTLS answers 220, then the connection closes.
    kPlainAfterStarttls,   // STARTTLS 220; after ClientHello bytes, "220 hello again\r\n".
    kTlsAlert,             // STARTTLS 220; after ClientHello bytes, a fatal alert 40; close.
    kHugeServerHello,      // STARTTLS 220; then a ServerHello that claims 16 MiB, sent in full.
    kNoStarttls,           // EHLO answer without STARTTLS (STARTTLS answers 502).
    kEhloRejected,         // EHLO answers "550 5.7.1 go away" (HELO too).
  };

  struct Options {
    std::string address = "127.0.0.1";         // Must be in 127.0.0.0/8.
    uint16_t port = 0;                         // 0: the kernel picks one.
    int64_t huge_line_bytes = 8 << 20;         // kHugeLine: bytes after "220 " (at least 1 MiB).
    int continuation_lines_per_second = 1000;  // kEndlessContinuation (paced, not CPU-bound).
  };

  static absl::StatusOr<std::unique_ptr<HostileSmtpServer>> Start(
      Behaviour behaviour, std::string address = "127.0.0.1");
  static absl::StatusOr<std::unique_ptr<HostileSmtpServer>> Start(Behaviour behaviour,
                                                                  Options options);

  // Stops the thread and closes every connection at once, tarpitted ones included.
  ~HostileSmtpServer();

  HostileSmtpServer(const HostileSmtpServer&) = delete;
  HostileSmtpServer& operator=(const HostileSmtpServer&) = delete;

  uint16_t port() const;
  const std::string& address() const;
  std::string endpoint() const;  // "127.0.0.1:PORT".
  int connections_accepted() const;
  // When each connection was accepted, in order: what a server-side politeness check reads.
  std::vector<std::chrono::steady_clock::time_point> accept_times() const;
  int64_t bytes_sent() const;      // Total over all connections so far.
  int64_t bytes_received() const;  // Including ClientHello bytes read after STARTTLS.

  static const char* BehaviourName(Behaviour behaviour);

  struct Impl;  // Public so that the .cc's coroutines can name it.

 private:
  explicit HostileSmtpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tlsweep::testing
