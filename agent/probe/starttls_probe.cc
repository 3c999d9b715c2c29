#include "agent/probe/starttls_probe.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "agent/probe/client_handshake.h"
#include "backends/outcome_proto.h"

namespace tlsweep::agent {
using tlsweep::v1::ProbeResult;

ProbeResult NewResultFor(const ProbeEndpoint& endpoint, const backends::TlsCandidate& candidate) {
  ProbeResult result;
  result.set_target(endpoint.target);
  result.set_domain(endpoint.domain);
  result.set_mx_host(endpoint.mx_host);
  result.set_mx_preference(endpoint.mx_preference);
  result.set_implicit_mx(endpoint.implicit_mx);
  if (!endpoint.address.is_unspecified()) result.set_address(endpoint.address.to_string());
  result.set_port(endpoint.port);
  result.set_provider(endpoint.provider);
  result.set_line_number(endpoint.line_number);
  result.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  *result.mutable_tls_settings() = candidate.settings;
  // The overrides stay in the scan's profile; a result records only the handshake it made.
  result.mutable_tls_settings()->clear_overrides();
  return result;
}

asio::awaitable<ProbeResult> RunStarttlsProbe(ProbeEndpoint endpoint,
                                              const backends::TlsCandidate& candidate,
                                              const ProbeOptions& options) {
  ProbeResult result = NewResultFor(endpoint, candidate);
  result.set_attempts(1);
  result.set_started_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
  tlsweep::v1::StageTimings& timings = *result.mutable_timings();
  const Clock::time_point start = Clock::now();
  auto finish = [&]() -> ProbeResult& {
    timings.set_total_us(MicrosSince(start));
    return result;
  };

  TimedSocket socket(co_await asio::this_coro::executor);
  const OpenedStarttls opened = co_await OpenStarttls(socket, endpoint, options, result);
  if (!opened.ok) co_return finish();

  // TLS handshake.
  const backends::ClientConfig config = ConfigForEndpoint(candidate.config, endpoint, options);
  absl::StatusOr<ClientHandshake> handshake =
      co_await RunClientHandshake(socket, *candidate.backend, config, options);
  if (!handshake.ok()) {
    result.set_failure(tlsweep::v1::PROBE_CONFIG_ERROR);
    result.set_failure_detail(std::string(handshake.status().message()));
    socket.Close();
    co_return finish();
  }
  timings.set_handshake_us(handshake->handshake_us);
  const backends::HandshakeOutcome& outcome = handshake->outcome;
  *result.mutable_tls() =
      backends::HandshakeToProto(outcome, candidate.backend->Name(), config.verify_name);
  result.set_failure(FromTlsFailure(outcome.failure));
  if (!outcome.success) result.set_failure_detail(outcome.library_error);
  socket.Close();
  co_return finish();
}

}  // namespace tlsweep::agent
