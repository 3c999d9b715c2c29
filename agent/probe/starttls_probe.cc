#include "agent/probe/starttls_probe.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/smtp/smtp_session.h"
#include "agent/smtp/tls_over_socket.h"
#include "backends/outcome_proto.h"

namespace tlsweep::agent {
namespace {

using tlsweep::v1::ProbeFailure;
using tlsweep::v1::ProbeResult;

constexpr std::chrono::seconds kQuitTimeout{3};

uint64_t MicrosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

void RecordReply(const ParsedReply& reply, tlsweep::v1::SmtpReply* out, ProbeResult& result) {
  out->set_code(static_cast<uint32_t>(reply.code));
  out->set_text(reply.Text());
  result.add_smtp_codes(static_cast<uint32_t>(reply.code));
}

void Fail(ProbeResult& result, ProbeFailure failure, absl::string_view detail) {
  result.set_failure(failure);
  result.set_failure_detail(std::string(detail));
}

// A reply that did not come: the stage's timeout, or "this is not SMTP".
void FailReply(ProbeResult& result, const absl::Status& status, ProbeFailure on_timeout,
               absl::string_view stage) {
  const ProbeFailure failure =
      absl::IsDeadlineExceeded(status) ? on_timeout : tlsweep::v1::SMTP_PROTOCOL_ERROR;
  Fail(result, failure, absl::StrCat(stage, ": ", status.message()));
}

ProbeFailure FromTlsFailure(backends::FailureClass failure) {
  switch (failure) {
    case backends::FailureClass::kNone:
      return tlsweep::v1::PROBE_OK;
    case backends::FailureClass::kAlertReceived:
      return tlsweep::v1::TLS_ALERT_RECEIVED;
    case backends::FailureClass::kAlertSent:
      return tlsweep::v1::TLS_ALERT_SENT;
    case backends::FailureClass::kNoSharedCipher:
      return tlsweep::v1::TLS_NO_SHARED_CIPHER;
    case backends::FailureClass::kProtocolVersion:
      return tlsweep::v1::TLS_PROTOCOL_VERSION;
    case backends::FailureClass::kUnexpectedEof:
      return tlsweep::v1::TLS_UNEXPECTED_EOF;
    case backends::FailureClass::kNotTls:
      return tlsweep::v1::TLS_NOT_TLS;
    case backends::FailureClass::kTimeout:
      return tlsweep::v1::TLS_HANDSHAKE_TIMEOUT;
    case backends::FailureClass::kInternalError:
      return tlsweep::v1::TLS_INTERNAL_ERROR;
  }
  return tlsweep::v1::TLS_INTERNAL_ERROR;
}

// Sends one command and reads its reply. (Kept free of co_await inside conditional
// expressions: GCC 12 destroys such temporaries twice.)
asio::awaitable<absl::StatusOr<ParsedReply>> SendCommand(SmtpSession& session, std::string command,
                                                         Clock::time_point deadline) {
  absl::Status sent = co_await session.Send(command, deadline);
  if (!sent.ok()) co_return sent;
  co_return co_await session.ReadReply(deadline);
}

// RFC 5321 4.1.1.10: a client ends even a failed session with QUIT. Best effort, bounded.
asio::awaitable<void> QuitPlain(SmtpSession& session) {
  (void)co_await SendCommand(session, "QUIT", Clock::now() + kQuitTimeout);
}

bool IsIpLiteral(absl::string_view host) {
  asio::error_code error;
  asio::ip::make_address(std::string(host), error);
  return !error;
}

}  // namespace

std::string DefaultEhloName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost.localdomain";
  return absl::AsciiStrToLower(name);
}

ProbeResult NewResultFor(const ProbeEndpoint& endpoint, const TlsCandidate& candidate) {
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
  result.set_probe("starttls");
  *result.mutable_tls_settings() = candidate.settings;
  return result;
}

asio::awaitable<ProbeResult> RunStarttlsProbe(ProbeEndpoint endpoint, const TlsCandidate& candidate,
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
  // Connect.
  Clock::time_point stage = Clock::now();
  const IoResult connected =
      co_await socket.Connect({endpoint.address, endpoint.port}, stage + options.connect_timeout);
  timings.set_connect_us(MicrosSince(stage));
  if (connected.timed_out) {
    Fail(result, tlsweep::v1::TCP_TIMEOUT, "no answer to the TCP connection attempt");
    co_return finish();
  }
  if (connected.error == asio::error::connection_refused) {
    Fail(result, tlsweep::v1::TCP_REFUSED, "connection refused");
    co_return finish();
  }
  if (connected.error) {
    Fail(result, tlsweep::v1::TCP_ERROR, connected.error.message());
    co_return finish();
  }

  // 220 banner.
  SmtpSession session(socket, options.reply_limits);
  stage = Clock::now();
  absl::StatusOr<ParsedReply> banner = co_await session.ReadReply(stage + options.banner_timeout);
  timings.set_banner_us(MicrosSince(stage));
  if (!banner.ok()) {
    FailReply(result, banner.status(), tlsweep::v1::BANNER_TIMEOUT, "banner");
    socket.Close();
    co_return finish();
  }
  RecordReply(*banner, result.mutable_banner(), result);
  if (banner->code != 220) {
    Fail(result, tlsweep::v1::SMTP_REJECTED,
         absl::StrCat("banner ", banner->code, " ", banner->Text(200)));
    co_await QuitPlain(session);
    socket.Close();
    co_return finish();
  }

  // EHLO.
  const std::string ehlo_name = options.ehlo_name.empty() ? DefaultEhloName() : options.ehlo_name;
  stage = Clock::now();
  absl::StatusOr<ParsedReply> ehlo = co_await SendCommand(session, absl::StrCat("EHLO ", ehlo_name),
                                                          stage + options.command_timeout);
  timings.set_ehlo_us(MicrosSince(stage));
  if (!ehlo.ok()) {
    FailReply(result, ehlo.status(), tlsweep::v1::SMTP_TIMEOUT, "EHLO");
    socket.Close();
    co_return finish();
  }
  RecordReply(*ehlo, result.mutable_ehlo(), result);
  if (ehlo->code != 250) {
    Fail(result, tlsweep::v1::SMTP_REJECTED,
         absl::StrCat("EHLO ", ehlo->code, " ", ehlo->Text(200)));
    co_await QuitPlain(session);
    socket.Close();
    co_return finish();
  }
  const std::vector<std::string> keywords = EhloKeywords(*ehlo);
  for (const std::string& keyword : keywords) result.add_ehlo_keywords(keyword);
  if (std::find(keywords.begin(), keywords.end(), "STARTTLS") == keywords.end()) {
    Fail(result, tlsweep::v1::STARTTLS_NOT_OFFERED, "EHLO reply does not advertise STARTTLS");
    co_await QuitPlain(session);
    socket.Close();
    co_return finish();
  }

  // STARTTLS.
  stage = Clock::now();
  absl::StatusOr<ParsedReply> starttls =
      co_await SendCommand(session, "STARTTLS", stage + options.command_timeout);
  timings.set_starttls_us(MicrosSince(stage));
  if (!starttls.ok()) {
    FailReply(result, starttls.status(), tlsweep::v1::SMTP_TIMEOUT, "STARTTLS");
    socket.Close();
    co_return finish();
  }
  RecordReply(*starttls, result.mutable_starttls(), result);
  if (starttls->code != 220) {
    Fail(result, tlsweep::v1::STARTTLS_REFUSED,
         absl::StrCat("STARTTLS ", starttls->code, " ", starttls->Text(200)));
    co_await QuitPlain(session);
    socket.Close();
    co_return finish();
  }
  if (session.unread_bytes() > 0) {
    Fail(result, tlsweep::v1::SMTP_PROTOCOL_ERROR,
         "the server sent data after its 220 to STARTTLS, before TLS started");
    socket.Close();
    co_return finish();
  }

  // TLS handshake.
  backends::ClientConfig config = candidate.config;
  if (options.send_sni && config.sni.empty() && !IsIpLiteral(endpoint.mx_host)) {
    config.sni = endpoint.mx_host;
  }
  if (config.verify_name.empty()) config.verify_name = endpoint.mx_host;
  absl::StatusOr<std::unique_ptr<backends::TlsEngine>> engine =
      candidate.backend->NewClient(config);
  if (!engine.ok()) {
    Fail(result, tlsweep::v1::PROBE_CONFIG_ERROR, engine.status().message());
    socket.Close();
    co_return finish();
  }
  stage = Clock::now();
  const TlsDriveResult drive = co_await DriveHandshake(
      socket, **engine, stage + options.handshake_timeout, options.max_handshake_bytes);
  timings.set_handshake_us(MicrosSince(stage));
  backends::HandshakeOutcome outcome = (*engine)->Outcome();
  if (drive == TlsDriveResult::kTimeout) {
    outcome = backends::HandshakeOutcome();
    outcome.failure = backends::FailureClass::kTimeout;
    outcome.library_error = "no complete handshake in time";
  } else if (drive == TlsDriveResult::kTooLarge) {
    outcome = backends::HandshakeOutcome();
    outcome.failure = backends::FailureClass::kInternalError;
    outcome.library_error = absl::StrCat("the server sent more than ", options.max_handshake_bytes,
                                         " bytes during the handshake");
  }
  *result.mutable_tls() =
      backends::HandshakeToProto(outcome, candidate.backend->Name(), config.verify_name);
  result.set_failure(FromTlsFailure(outcome.failure));
  if (!outcome.success) {
    result.set_failure_detail(outcome.library_error);
    socket.Close();
    co_return finish();
  }
  co_await SendOverTls(socket, **engine, "QUIT", Clock::now() + kQuitTimeout);
  socket.Close();
  co_return finish();
}

}  // namespace tlsweep::agent
