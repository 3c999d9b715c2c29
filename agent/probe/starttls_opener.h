// The clear-text half of every STARTTLS connection: connect, 220 banner, EHLO, STARTTLS, 220,
// and the check that the server sent nothing more before TLS starts. Shared by the one-handshake
// probe (starttls_probe.h) and the enumeration (agent/enumerate/), which opens one such
// connection per handshake.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "agent/probe/probe_types.h"
#include "agent/smtp/timed_socket.h"
#include "asio.hpp"
#include "backends/handshake_outcome.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

struct OpenedStarttls {
  // True: the server answered 220 to STARTTLS with nothing after it; the next bytes on the socket
  // are TLS. False: `record.failure` says where the dialogue stopped, and the socket is closed
  // (after a best-effort QUIT where the server was still talking SMTP).
  bool ok = false;
};

// Runs the dialogue on `socket` (not yet connected) to `endpoint`. Fills `record`'s banner, EHLO,
// STARTTLS, smtp_codes and ehlo_keywords fields and the connect/banner/EHLO/STARTTLS timings;
// on failure also failure and failure_detail. Never throws.
asio::awaitable<OpenedStarttls> OpenStarttls(TimedSocket& socket, const ProbeEndpoint& endpoint,
                                             const ProbeOptions& options,
                                             tlsweep::v1::ProbeResult& record);

// A 4xx reply at the banner, to EHLO or to STARTTLS (but 454, "TLS not available"): the
// server's "not now" (421 too many connections, 451 a rate-limit ACL), the one SMTP failure
// worth retrying after a back-off.
bool IsRateLimited(const tlsweep::v1::ProbeResult& record);

// `config` with the per-endpoint fields filled in: SNI (the MX host name, unless it is an
// address literal or options.send_sni is off) and the verify name.
backends::ClientConfig ConfigForEndpoint(backends::ClientConfig config,
                                         const ProbeEndpoint& endpoint,
                                         const ProbeOptions& options);

// The probe failure that names a TLS failure class.
tlsweep::v1::ProbeFailure FromTlsFailure(backends::FailureClass failure);

// The default EHLO name: this machine's host name, or "localhost.localdomain".
std::string DefaultEhloName();

// Microseconds from `start` until now.
uint64_t MicrosSince(Clock::time_point start);

}  // namespace tlsweep::agent
