#include "agent/probe/client_handshake.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/probe/starttls_opener.h"
#include "agent/smtp/tls_over_socket.h"

namespace tlsweep::agent {
namespace {

constexpr std::chrono::seconds kQuitTimeout{3};

}  // namespace

asio::awaitable<absl::StatusOr<ClientHandshake>> RunClientHandshake(
    TimedSocket& socket, backends::Backend& backend, const backends::ClientConfig& config,
    const ProbeOptions& options) {
  absl::StatusOr<std::unique_ptr<backends::TlsEngine>> engine = backend.NewClient(config);
  if (!engine.ok()) co_return engine.status();
  const Clock::time_point start = Clock::now();
  const TlsDriveResult drive = co_await DriveHandshake(
      socket, **engine, start + options.handshake_timeout, options.max_handshake_bytes);
  ClientHandshake done;
  done.handshake_us = MicrosSince(start);
  backends::HandshakeOutcome& outcome = done.outcome;
  outcome = (*engine)->Outcome();
  if (drive == TlsDriveResult::kTimeout) {
    outcome = backends::HandshakeOutcome();
    outcome.failure = backends::FailureClass::kTimeout;
    outcome.library_error = "no complete handshake in time";
  } else if (drive == TlsDriveResult::kTooLarge) {
    // The server broke the protocol and this side gave up on it: the class OpenSSL gives a
    // handshake message above its own limit, so both backends answer alike.
    outcome = backends::HandshakeOutcome();
    outcome.failure = backends::FailureClass::kAlertSent;
    outcome.library_error = absl::StrCat("the server sent more than ", options.max_handshake_bytes,
                                         " bytes during the handshake");
  }
  if (outcome.success) {
    co_await SendOverTls(socket, **engine, "QUIT", Clock::now() + kQuitTimeout);
  }
  co_return done;
}

}  // namespace tlsweep::agent
