#include "agent/enumerate/enumeration_probe.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/enumerate/enumerator.h"
#include "agent/enumerate/hello_exchange.h"
#include "agent/probe/client_handshake.h"
#include "agent/probe/starttls_opener.h"
#include "agent/probe/starttls_probe.h"

namespace tlsweep::agent {
namespace {

using tlsweep::v1::ProbeResult;

// A connection that failed after this enumeration had already reached TLS on another: the
// server dropped or refused it (a connection limit, a restart), worth a retry like a 4xx.
bool IsDroppedConnection(const ProbeResult& record) {
  switch (record.failure()) {
    case tlsweep::v1::TCP_REFUSED:
    case tlsweep::v1::TCP_ERROR:
      return true;
    case tlsweep::v1::SMTP_PROTOCOL_ERROR:
      return record.banner().code() == 0;  // Closed or reset before any banner.
    default:
      return false;
  }
}

// One handshake = one STARTTLS connection under a politeness permit. A temporary refusal (a 4xx
// at the banner, to EHLO or STARTTLS, or a connection dropped once the server had shown it takes
// them) backs the address off and is retried, up to max_attempts connections per handshake.
class StarttlsHelloChannel final : public HelloChannel {
 public:
  StarttlsHelloChannel(const ProbeEndpoint& endpoint, const EnumerationContext& context)
      : endpoint_(endpoint), context_(context), ip_(endpoint.address.to_string()) {}

  asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) override {
    ConnectionPermit permit;
    TimedSocket socket(co_await asio::this_coro::executor);
    const std::string refused = co_await Open(socket, permit);
    if (!refused.empty()) {
      ServerAnswer answer;
      answer.kind = ServerAnswer::Kind::kNoConnection;
      answer.detail = refused;
      co_return answer;
    }
    ServerAnswer answer = co_await ExchangeHello(socket, hello.records,
                                                 Clock::now() + context_.probe.handshake_timeout,
                                                 context_.probe.max_handshake_bytes);
    socket.Close();
    co_return answer;
  }

  asio::awaitable<CompletedHandshake> Complete(backends::Backend& backend,
                                               const backends::ClientConfig& config) override {
    CompletedHandshake done;
    ConnectionPermit permit;
    TimedSocket socket(co_await asio::this_coro::executor);
    done.detail = co_await Open(socket, permit);
    if (!done.detail.empty()) co_return done;
    done.connected = true;
    absl::StatusOr<ClientHandshake> handshake =
        co_await RunClientHandshake(socket, backend, config, context_.probe);
    socket.Close();
    if (handshake.ok()) {
      done.outcome = std::move(handshake->outcome);
    } else {
      done.outcome.failure = backends::FailureClass::kInternalError;
      done.outcome.library_error = std::string(handshake.status().message());
    }
    co_return done;
  }

  int connections() const { return connections_; }
  int retries() const { return retries_; }
  // True when the enumeration stopped because the server kept refusing for now (4xx, drops).
  bool gave_up_on_refusals() const { return gave_up_; }
  // The first connection's record (banner, EHLO, STARTTLS), and the first failed one's.
  const std::optional<ProbeResult>& first() const { return first_; }
  const std::optional<ProbeResult>& failure() const { return failure_; }

 private:
  // Connects and runs the SMTP dialogue up to TLS, holding `permit` for the connection. Returns
  // "" once TLS can start, else why not (the SMTP failure, after every retry).
  asio::awaitable<std::string> Open(TimedSocket& socket, ConnectionPermit& permit) {
    const int max_attempts = std::max(1, context_.max_attempts);
    for (int attempt = 1;; ++attempt) {
      permit = co_await context_.gate->Acquire(ip_, endpoint_.provider);
      ++connections_;
      ProbeResult record;
      const OpenedStarttls opened =
          co_await OpenStarttls(socket, endpoint_, context_.probe, record);
      if (!first_.has_value()) first_ = record;
      if (opened.ok) {
        reached_tls_ = true;
        co_return std::string();
      }
      const bool temporary = IsRateLimited(record) || (reached_tls_ && IsDroppedConnection(record));
      if (temporary && attempt < max_attempts) {
        ++retries_;
        // Back off before the permit is released, so that no one connects in between.
        context_.gate->BackOff(ip_, context_.rate_limit_backoff * (1 << std::min(attempt - 1, 10)));
        permit = ConnectionPermit();  // Released only now; the next Acquire waits for the slot.
        continue;
      }
      if (temporary) {
        gave_up_ = true;
        record.set_failure(tlsweep::v1::RATE_LIMITED);
        record.set_failure_detail(
            absl::StrCat("still refused after ", attempt, " attempts: ", record.failure_detail()));
      }
      if (!failure_.has_value()) failure_ = record;
      co_return record.failure_detail();
    }
  }

  const ProbeEndpoint& endpoint_;
  const EnumerationContext& context_;
  const std::string ip_;
  int connections_ = 0;
  int retries_ = 0;
  bool reached_tls_ = false;
  bool gave_up_ = false;
  std::optional<ProbeResult> first_;
  std::optional<ProbeResult> failure_;
};

}  // namespace

asio::awaitable<ProbeResult> RunEnumeration(ProbeEndpoint endpoint,
                                            const EnumerationContext& context) {
  ProbeResult result = NewResultFor(endpoint, backends::TlsCandidate{});
  result.set_probe_kind(tlsweep::v1::PROBE_KIND_ENUMERATE);
  result.clear_tls_settings();
  result.set_started_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
  const Clock::time_point start = Clock::now();
  if (context.plan == nullptr || context.gate == nullptr) {
    result.set_failure(tlsweep::v1::PROBE_CONFIG_ERROR);
    result.set_failure_detail("enumeration needs an offer plan and a politeness gate");
    co_return result;
  }

  EnumeratorOptions options;
  options.sni = ConfigForEndpoint({}, endpoint, context.probe).sni;
  options.enumerate_groups = context.enumerate_groups;
  options.versions = context.versions;
  options.parallel_versions = context.parallel_versions;
  StarttlsHelloChannel channel(endpoint, context);
  EnumerationRun run = co_await Enumerate(*context.plan, channel, options);

  if (const std::optional<ProbeResult>& first = channel.first(); first.has_value()) {
    *result.mutable_banner() = first->banner();
    *result.mutable_ehlo() = first->ehlo();
    *result.mutable_starttls() = first->starttls();
    *result.mutable_ehlo_keywords() = first->ehlo_keywords();
    *result.mutable_smtp_codes() = first->smtp_codes();
    *result.mutable_timings() = first->timings();
  }
  const bool any_handshake =
      run.enumeration.handshakes() > 0 || run.enumeration.confirmation_handshakes() > 0;
  if (!any_handshake && channel.failure().has_value()) {
    // No handshake at all: the server could not be reached or refused STARTTLS.
    result.set_failure(channel.failure()->failure());
    result.set_failure_detail(channel.failure()->failure_detail());
  } else if (run.aborted && channel.failure().has_value()) {
    // Cut short: the versions not finished are INCOMPLETE. A server that kept saying "not now"
    // is counted as rate-limited, not ok, though what was found is kept.
    if (channel.gave_up_on_refusals()) result.set_failure(tlsweep::v1::RATE_LIMITED);
    result.set_failure_detail(
        absl::StrCat("enumeration incomplete: ", channel.failure()->failure_detail()));
    run.enumeration.set_incomplete_reason(channel.failure()->failure_detail());
  }
  run.enumeration.set_retries(static_cast<uint32_t>(channel.retries()));
  result.set_attempts(static_cast<uint32_t>(channel.connections()));
  run.enumeration.set_duration_us(MicrosSince(start));
  *result.mutable_enumeration() = std::move(run.enumeration);
  result.mutable_timings()->set_total_us(MicrosSince(start));
  co_return result;
}

}  // namespace tlsweep::agent
