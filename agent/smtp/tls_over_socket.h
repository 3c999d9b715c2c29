// Moves a sans-I/O TLS engine's bytes over a TimedSocket: the one loop that serves every
// backend (see backends/tls_engine.h).
#pragma once

#include "agent/smtp/timed_socket.h"
#include "backends/tls_engine.h"

namespace tlsweep::agent {

enum class TlsDriveResult {
  kComplete,
  kFailed,    // The engine failed: its Outcome() says why.
  kTimeout,   // The deadline passed first.
  kTooLarge,  // The peer sent more than the byte cap during the handshake.
};

asio::awaitable<TlsDriveResult> DriveHandshake(TimedSocket& socket, backends::TlsEngine& engine,
                                               Clock::time_point deadline, size_t max_bytes);

// Sends `command` under TLS and waits (briefly) for one reply line; best effort, for QUIT.
asio::awaitable<void> SendOverTls(TimedSocket& socket, backends::TlsEngine& engine,
                                  absl::string_view command, Clock::time_point deadline);

}  // namespace tlsweep::agent
