// The TLS half of a STARTTLS connection, once the server has said 220 to STARTTLS: a complete
// handshake with a client engine, then QUIT under TLS if it succeeded. Shared by the probe and
// the enumeration's confirming handshakes, so both report timeouts and oversize servers alike.
#pragma once

#include "absl/status/statusor.h"
#include "agent/probe/probe_types.h"
#include "agent/smtp/timed_socket.h"
#include "asio.hpp"
#include "backends/backend.h"
#include "backends/handshake_outcome.h"

namespace tlsweep::agent {

struct ClientHandshake {
  // A timeout is kTimeout; a server that sends more than options.max_handshake_bytes is
  // kAlertSent, as OpenSSL itself classes an oversize message.
  backends::HandshakeOutcome outcome;
  uint64_t handshake_us = 0;  // The handshake alone, without the QUIT after it.
};

// An error only when `backend` cannot make a client engine for `config`. Leaves `socket` open.
asio::awaitable<absl::StatusOr<ClientHandshake>> RunClientHandshake(
    TimedSocket& socket, backends::Backend& backend, const backends::ClientConfig& config,
    const ProbeOptions& options);

}  // namespace tlsweep::agent
