#include "agent/probe/starttls_opener.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/smtp/smtp_session.h"

namespace tlsweep::agent {
namespace {

using tlsweep::v1::ProbeFailure;
using tlsweep::v1::ProbeResult;

constexpr std::chrono::seconds kQuitTimeout{3};

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

uint64_t MicrosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

std::string DefaultEhloName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost.localdomain";
  return absl::AsciiStrToLower(name);
}

bool IsRateLimited(const ProbeResult& record) {
  auto transient = [](uint32_t code) { return code >= 400 && code < 500; };
  if (record.failure() == tlsweep::v1::SMTP_REJECTED) {
    return transient(record.banner().code()) || transient(record.ehlo().code());
  }
  // 454 is how MTAs say "TLS not available" (no certificate, broken key): that is an answer
  // about the server, not a "not now", so it is reported at once rather than retried.
  return record.failure() == tlsweep::v1::STARTTLS_REFUSED && transient(record.starttls().code()) &&
         record.starttls().code() != 454;
}

backends::ClientConfig ConfigForEndpoint(backends::ClientConfig config,
                                         const ProbeEndpoint& endpoint,
                                         const ProbeOptions& options) {
  if (options.send_sni && config.sni.empty() && !IsIpLiteral(endpoint.mx_host)) {
    config.sni = endpoint.mx_host;
  }
  if (config.verify_name.empty()) config.verify_name = endpoint.mx_host;
  return config;
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

asio::awaitable<OpenedStarttls> OpenStarttls(TimedSocket& socket, const ProbeEndpoint& endpoint,
                                             const ProbeOptions& options, ProbeResult& record) {
  tlsweep::v1::StageTimings& timings = *record.mutable_timings();
  // Connect.
  Clock::time_point stage = Clock::now();
  const IoResult connected =
      co_await socket.Connect({endpoint.address, endpoint.port}, stage + options.connect_timeout);
  timings.set_connect_us(MicrosSince(stage));
  if (connected.timed_out) {
    Fail(record, tlsweep::v1::TCP_TIMEOUT, "no answer to the TCP connection attempt");
    co_return OpenedStarttls{};
  }
  if (connected.error == asio::error::connection_refused) {
    Fail(record, tlsweep::v1::TCP_REFUSED, "connection refused");
    co_return OpenedStarttls{};
  }
  if (connected.error) {
    Fail(record, tlsweep::v1::TCP_ERROR, connected.error.message());
    co_return OpenedStarttls{};
  }

  // 220 banner.
  SmtpSession session(socket, options.reply_limits);
  stage = Clock::now();
  absl::StatusOr<ParsedReply> banner = co_await session.ReadReply(stage + options.banner_timeout);
  timings.set_banner_us(MicrosSince(stage));
  if (!banner.ok()) {
    FailReply(record, banner.status(), tlsweep::v1::BANNER_TIMEOUT, "banner");
    socket.Close();
    co_return OpenedStarttls{};
  }
  RecordReply(*banner, record.mutable_banner(), record);
  if (banner->code != 220) {
    Fail(record, tlsweep::v1::SMTP_REJECTED,
         absl::StrCat("banner ", banner->code, " ", banner->Text(200)));
    co_await QuitPlain(session);
    socket.Close();
    co_return OpenedStarttls{};
  }

  // EHLO.
  const std::string ehlo_name = options.ehlo_name.empty() ? DefaultEhloName() : options.ehlo_name;
  stage = Clock::now();
  absl::StatusOr<ParsedReply> ehlo = co_await SendCommand(session, absl::StrCat("EHLO ", ehlo_name),
                                                          stage + options.command_timeout);
  timings.set_ehlo_us(MicrosSince(stage));
  if (!ehlo.ok()) {
    FailReply(record, ehlo.status(), tlsweep::v1::SMTP_TIMEOUT, "EHLO");
    socket.Close();
    co_return OpenedStarttls{};
  }
  RecordReply(*ehlo, record.mutable_ehlo(), record);
  if (ehlo->code != 250) {
    Fail(record, tlsweep::v1::SMTP_REJECTED,
         absl::StrCat("EHLO ", ehlo->code, " ", ehlo->Text(200)));
    co_await QuitPlain(session);
    socket.Close();
    co_return OpenedStarttls{};
  }
  const std::vector<std::string> keywords = EhloKeywords(*ehlo);
  for (const std::string& keyword : keywords) record.add_ehlo_keywords(keyword);
  if (std::find(keywords.begin(), keywords.end(), "STARTTLS") == keywords.end()) {
    Fail(record, tlsweep::v1::STARTTLS_NOT_OFFERED, "EHLO reply does not advertise STARTTLS");
    co_await QuitPlain(session);
    socket.Close();
    co_return OpenedStarttls{};
  }

  // STARTTLS.
  stage = Clock::now();
  absl::StatusOr<ParsedReply> starttls =
      co_await SendCommand(session, "STARTTLS", stage + options.command_timeout);
  timings.set_starttls_us(MicrosSince(stage));
  if (!starttls.ok()) {
    FailReply(record, starttls.status(), tlsweep::v1::SMTP_TIMEOUT, "STARTTLS");
    socket.Close();
    co_return OpenedStarttls{};
  }
  RecordReply(*starttls, record.mutable_starttls(), record);
  if (starttls->code != 220) {
    Fail(record, tlsweep::v1::STARTTLS_REFUSED,
         absl::StrCat("STARTTLS ", starttls->code, " ", starttls->Text(200)));
    co_await QuitPlain(session);
    socket.Close();
    co_return OpenedStarttls{};
  }
  if (session.unread_bytes() > 0) {
    Fail(record, tlsweep::v1::SMTP_PROTOCOL_ERROR,
         "the server sent data after its 220 to STARTTLS, before TLS started");
    socket.Close();
    co_return OpenedStarttls{};
  }
  co_return OpenedStarttls{.ok = true};
}

}  // namespace tlsweep::agent
