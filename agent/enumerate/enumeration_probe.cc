#include "agent/enumerate/enumeration_probe.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/enumerate/enumerator.h"
#include "agent/enumerate/hello_exchange.h"
#include "agent/probe/starttls_opener.h"
#include "agent/probe/starttls_probe.h"

namespace tlsweep::agent {
namespace {

using tlsweep::v1::ProbeResult;

// One handshake = one STARTTLS connection under a politeness permit, with 421 back-off.
class StarttlsHelloChannel final : public HelloChannel {
 public:
  StarttlsHelloChannel(const ProbeEndpoint& endpoint, const EnumerationContext& context)
      : endpoint_(endpoint), context_(context), ip_(endpoint.address.to_string()) {}

  asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) override {
    const int max_attempts = std::max(1, context_.max_attempts);
    for (int attempt = 1;; ++attempt) {
      ConnectionPermit permit = co_await context_.gate->Acquire(ip_, endpoint_.provider);
      ++connections_;
      ProbeResult record;
      TimedSocket socket(co_await asio::this_coro::executor);
      const OpenedStarttls opened =
          co_await OpenStarttls(socket, endpoint_, context_.probe, record);
      if (!first_.has_value()) first_ = record;
      if (!opened.ok) {
        if (IsRateLimited(record)) {
          if (attempt < max_attempts) {
            // Back off before the permit is released, so that no one connects in between.
            context_.gate->BackOff(ip_,
                                   context_.rate_limit_backoff * (1 << std::min(attempt - 1, 10)));
            continue;
          }
          record.set_failure(tlsweep::v1::RATE_LIMITED);
          record.set_failure_detail(absl::StrCat("still refused after ", attempt,
                                                 " attempts: ", record.failure_detail()));
        }
        if (!failure_.has_value()) failure_ = record;
        ServerAnswer answer;
        answer.kind = ServerAnswer::Kind::kNoConnection;
        answer.detail = record.failure_detail();
        co_return answer;
      }
      ServerAnswer answer = co_await ExchangeHello(socket, hello.records,
                                                   Clock::now() + context_.probe.handshake_timeout,
                                                   context_.probe.max_handshake_bytes);
      socket.Close();
      co_return answer;
    }
  }

  int connections() const { return connections_; }
  // The first connection's record (banner, EHLO, STARTTLS), and the first failed one's.
  const std::optional<ProbeResult>& first() const { return first_; }
  const std::optional<ProbeResult>& failure() const { return failure_; }

 private:
  const ProbeEndpoint& endpoint_;
  const EnumerationContext& context_;
  const std::string ip_;
  int connections_ = 0;
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
  // No handshake at all: the server could not be reached or refused STARTTLS.
  if (run.enumeration.handshakes() == 0 && channel.failure().has_value()) {
    result.set_failure(channel.failure()->failure());
    result.set_failure_detail(channel.failure()->failure_detail());
  } else if (run.aborted && channel.failure().has_value()) {
    result.set_failure_detail(
        absl::StrCat("enumeration incomplete: ", channel.failure()->failure_detail()));
  }
  result.set_attempts(static_cast<uint32_t>(channel.connections()));
  run.enumeration.set_duration_us(MicrosSince(start));
  *result.mutable_enumeration() = std::move(run.enumeration);
  result.mutable_timings()->set_total_us(MicrosSince(start));
  co_return result;
}

}  // namespace tlsweep::agent
