// One enumeration handshake on an open STARTTLS connection: send a ClientHello, read until the
// server has chosen (a whole ServerHello, which a HelloRetryRequest also is) or refused (an alert,
// or the connection closing), then stop. No key exchange is done: as nmap's ssl-enum-ciphers,
// the enumeration needs only the server's choice, and both sides are spared the expensive part.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/smtp/timed_socket.h"
#include "asio.hpp"
#include "backends/hello_parser.h"

namespace tlsweep::agent {

struct ServerAnswer {
  enum class Kind {
    kNeedMore,     // Only from ClassifyServerBytes: nothing decisive yet.
    kServerHello,  // `hello` holds the server's choice.
    kAlert,        // `alert_code` says which.
    kClosed,       // The server closed (or reset) the connection before answering.
    kNotTls,       // The bytes are not a TLS answer to a ClientHello.
    kTimeout,
    kTooLarge,      // More than the byte cap without a whole ServerHello.
    kNoConnection,  // Set by callers: the SMTP dialogue never reached TLS.
  };
  Kind kind = Kind::kNeedMore;
  backends::ServerHello hello;
  int alert_code = -1;
  std::string detail;
};

// What the bytes received so far (`eof`: and nothing more will come) say. Pure, for tests.
ServerAnswer ClassifyServerBytes(absl::string_view received, bool eof);

asio::awaitable<ServerAnswer> ExchangeHello(TimedSocket& socket, absl::string_view client_hello,
                                            Clock::time_point deadline, size_t max_bytes);

}  // namespace tlsweep::agent
