// Drives a client and a server engine against each other with no sockets: the in-memory
// transport used by tests, benchmarks and `tlsweep selftest`.
#pragma once

#include <cstddef>

#include "backends/tls_engine.h"

namespace tlsweep::backends {

struct PumpResult {
  HandshakeState client = HandshakeState::kInProgress;
  HandshakeState server = HandshakeState::kInProgress;
  int flights = 0;  // Rounds in which bytes moved.
  size_t client_bytes = 0;
  size_t server_bytes = 0;
};

// Moves bytes until both sides are done. A side that fails hands over its last bytes (the
// alert), then closes its end, as a real peer closes the connection after a fatal alert.
PumpResult PumpHandshake(TlsEngine& client, TlsEngine& server, int max_flights = 64);

}  // namespace tlsweep::backends
