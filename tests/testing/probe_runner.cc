#include "tests/testing/probe_runner.h"

#include "agent/probe/starttls_probe.h"
#include "asio.hpp"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::testing {

backends::TlsCandidate DefaultCandidate(const std::string& backend, bool legacy) {
  backends::TlsCandidate candidate;
  candidate.backend = &GetBackend(backend);
  candidate.config.legacy = legacy;
  candidate.settings.set_name("default");
  candidate.settings.set_backend(backend);
  candidate.settings.set_legacy(legacy);
  return candidate;
}

agent::ProbeEndpoint EndpointAt(const std::string& address_and_port) {
  agent::ProbeEndpoint endpoint;
  const size_t colon = address_and_port.rfind(':');
  endpoint.address = asio::ip::make_address(address_and_port.substr(0, colon));
  endpoint.port = static_cast<uint16_t>(std::stoi(address_and_port.substr(colon + 1)));
  endpoint.mx_host = "mx.example.test";
  endpoint.target = address_and_port;
  return endpoint;
}

tlsweep::v1::ProbeResult RunProbe(const agent::ProbeEndpoint& endpoint,
                                  const backends::TlsCandidate& candidate,
                                  const agent::ProbeOptions& options) {
  asio::io_context io;
  tlsweep::v1::ProbeResult result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await agent::RunStarttlsProbe(endpoint, candidate, options);
      },
      asio::detached);
  io.run();
  return result;
}

}  // namespace tlsweep::testing
