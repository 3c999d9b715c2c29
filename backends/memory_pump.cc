#include "backends/memory_pump.h"

#include <string>

namespace tlsweep::backends {
namespace {

// Advances `from`, hands its output to `to`; returns the number of bytes moved.
size_t Transfer(TlsEngine& from, HandshakeState& from_state, TlsEngine& to) {
  from_state = from.Advance();
  std::string bytes = from.TakeOutput();
  if (!bytes.empty()) to.ReceiveBytes(bytes);
  return bytes.size();
}

}  // namespace

PumpResult PumpHandshake(TlsEngine& client, TlsEngine& server, int max_flights) {
  PumpResult result;
  bool client_closed = false;
  bool server_closed = false;
  for (int round = 0; round < max_flights; ++round) {
    const size_t to_server = Transfer(client, result.client, server);
    const size_t to_client = Transfer(server, result.server, client);
    result.client_bytes += to_server;
    result.server_bytes += to_client;
    if (to_server + to_client > 0) ++result.flights;
    const bool client_done = result.client != HandshakeState::kInProgress;
    const bool server_done = result.server != HandshakeState::kInProgress;
    if (client_done && server_done) break;
    if (to_server + to_client > 0) continue;
    // Nothing moved: whoever failed has hung up; otherwise both wait forever, so stop.
    if (result.client == HandshakeState::kFailed && !server_closed) {
      server.ReceiveEof();
      server_closed = true;
    } else if (result.server == HandshakeState::kFailed && !client_closed) {
      client.ReceiveEof();
      client_closed = true;
    } else {
      break;
    }
  }
  return result;
}

}  // namespace tlsweep::backends
