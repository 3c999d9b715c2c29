#include "agent/sweep/sweeper.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/dns/when_all.h"
#include "agent/enumerate/enumeration_probe.h"
#include "agent/policy/address_policy.h"
#include "agent/policy/provider_key.h"
#include "agent/probe/starttls_probe.h"
#include "agent/sweep/endpoint_cache.h"
#include "agent/sweep/sni_fingerprint.h"
#include "backends/enumeration_fingerprint.h"
#include "backends/probe_kind.h"
#include "backends/route_identity.h"

namespace tlsweep::agent {
namespace {

using ::tlsweep::backends::EnumerationFingerprint;
using ::tlsweep::backends::ProbeKindOf;
using tlsweep::v1::ProbeFailure;
using tlsweep::v1::ProbeResult;

ProbeFailure FromDnsFailure(DnsFailure failure) {
  switch (failure) {
    case DnsFailure::kNone:
      return tlsweep::v1::PROBE_OK;
    case DnsFailure::kNxdomain:
      return tlsweep::v1::DNS_NXDOMAIN;
    case DnsFailure::kNoAddress:
      return tlsweep::v1::DNS_NO_ADDRESS;
    case DnsFailure::kNullMx:
      return tlsweep::v1::NULL_MX;
    case DnsFailure::kTimeout:
      return tlsweep::v1::DNS_TIMEOUT;
    case DnsFailure::kServfail:
      return tlsweep::v1::DNS_SERVFAIL;
    case DnsFailure::kRefused:
    case DnsFailure::kError:
      return tlsweep::v1::DNS_ERROR;
  }
  return tlsweep::v1::DNS_ERROR;
}

std::string EndpointKey(const ProbeEndpoint& endpoint, const backends::TlsCandidate& candidate) {
  return absl::StrCat(endpoint.mx_host, "|", endpoint.address.to_string(), "|", endpoint.port, "|",
                      candidate.name);
}

}  // namespace

// Shared by every event loop of one Run().
class Sweeper::Impl {
 public:
  Impl(const SweepOptions& options, SweepCounters& counters, const TargetSource* targets,
       const EndpointSource* endpoints, const ResultSink& sink, const OfferPlan* plan)
      : options_(options),
        counters_(counters),
        targets_(targets),
        endpoints_(endpoints),
        sink_(sink),
        gate_(options.gate != nullptr ? options.gate
                                      : std::make_shared<PolitenessGate>(options.politeness)),
        cache_(options.max_cached_endpoints) {
    enumeration_.plan = plan;
    enumeration_.probe = options.probe;
    enumeration_.gate = gate_.get();
    enumeration_.max_attempts = options.max_attempts;
    enumeration_.rate_limit_backoff = options.rate_limit_backoff;
    // As many versions at once as the gate lets connections to one address be open (--per-ip;
    // 1 by default): the gate, not the enumeration, is what keeps the scan polite.
    enumeration_.parallel_versions = std::max(1, options.politeness.per_ip_concurrency);
  }

  // One lane: takes targets (or endpoints) until the source runs dry.
  asio::awaitable<void> Lane(MxResolver& resolver) {
    while (true) {
      std::optional<backends::TargetLine> line;
      std::optional<AddressEndpoint> endpoint;
      {
        std::lock_guard<std::mutex> lock(source_mutex_);
        if (targets_ != nullptr) line = (*targets_)();
        if (endpoints_ != nullptr) endpoint = (*endpoints_)();
      }
      if (!line && !endpoint) co_return;
      counters_.targets_started.fetch_add(1);
      if (line) {
        co_await ProcessTarget(resolver, *line);
      } else {
        co_await ProcessEndpoint(*endpoint);
      }
      counters_.targets_done.fetch_add(1);
    }
  }

 private:
  void Emit(ProbeResult result) {
    counters_.results.fetch_add(1);
    if (result.failure() == tlsweep::v1::PROBE_OK &&
        ProbeKindOf(result) != tlsweep::v1::PROBE_KIND_ROUTE) {
      counters_.handshakes_ok.fetch_add(1);
    }
    std::lock_guard<std::mutex> lock(sink_mutex_);
    sink_(std::move(result));
  }

  // A result for every probe the endpoint would have had, for one that will not be probed.
  void EmitWithoutProbe(const ProbeEndpoint& endpoint, ProbeFailure failure,
                        absl::string_view detail) {
    std::vector<ProbeResult> results;
    if (enumeration_.plan != nullptr) {
      results.push_back(NewResultFor(endpoint, backends::TlsCandidate()));
      results.back().clear_tls_settings();
      results.back().set_probe_kind(tlsweep::v1::PROBE_KIND_ENUMERATE);
    }
    for (const backends::TlsCandidate& candidate : options_.candidates) {
      results.push_back(NewResultFor(endpoint, candidate));
    }
    for (ProbeResult& result : results) {
      result.set_failure(failure);
      result.set_failure_detail(std::string(detail));
      Emit(std::move(result));
    }
  }

  asio::awaitable<void> ProcessTarget(MxResolver& resolver, const backends::TargetLine& line) {
    const backends::Target& target = line.target;
    ProbeEndpoint base;
    base.target = target.input;
    base.line_number = line.line_number;
    base.port = target.port;
    if (options_.opt_out != nullptr && target.kind != backends::Target::Kind::kAddress &&
        options_.opt_out->MatchesDomain(target.name)) {
      base.domain = target.kind == backends::Target::Kind::kDomain ? target.name : "";
      EmitWithoutProbe(base, tlsweep::v1::OPTED_OUT, "the target is on the opt-out list");
      co_return;
    }

    std::vector<ProbeEndpoint> endpoints;
    if (target.kind == backends::Target::Kind::kAddress) {
      HostAddresses literal;
      literal.addresses.push_back(*target.address);
      base.mx_host = target.name;
      AddHostEndpoints(base, literal, endpoints);
    } else if (target.kind == backends::Target::Kind::kHost) {
      const HostAddresses addresses = co_await resolver.ResolveHost(target.name);
      base.mx_host = target.name;
      AddHostEndpoints(base, addresses, endpoints);
    } else {
      base.domain = target.name;
      const MxResolution resolution = co_await resolver.ResolveMx(target.name);
      if (resolution.failure != DnsFailure::kNone && resolution.hosts.empty()) {
        EmitWithoutProbe(
            base, FromDnsFailure(resolution.failure),
            resolution.detail.empty() ? DnsFailureName(resolution.failure) : resolution.detail);
        co_return;
      }
      size_t taken = 0;
      const uint16_t best = resolution.hosts.empty() ? 0 : resolution.hosts.front().preference;
      for (const MxHost& host : resolution.hosts) {
        if (taken >= options_.selection.max_mx_hosts) break;
        if (options_.selection.primary_only && host.preference != best) break;
        ProbeEndpoint endpoint = base;
        endpoint.mx_host = host.name;
        endpoint.mx_preference = host.preference;
        endpoint.implicit_mx = resolution.implicit_mx;
        AddHostEndpoints(endpoint, host.addresses, endpoints);
        ++taken;
      }
    }
    if (options_.resolve_only) {
      for (const ProbeEndpoint& endpoint : endpoints) {
        ProbeResult route = NewResultFor(endpoint, backends::TlsCandidate());
        route.clear_tls_settings();
        route.set_probe_kind(tlsweep::v1::PROBE_KIND_ROUTE);
        Emit(std::move(route));
      }
      co_return;
    }
    co_await ProbeEndpoints(endpoints);
  }

  // A coordinator's address and its names, resolved elsewhere: the address rules still apply.
  asio::awaitable<void> ProcessEndpoint(AddressEndpoint entry) {
    ProbeEndpoint& endpoint = entry.endpoint;
    if (entry.names.empty()) entry.names.push_back(endpoint.mx_host);
    endpoint.mx_host = entry.names.front();
    if (endpoint.provider.empty()) endpoint.provider = ProviderKey(endpoint.mx_host);
    if (options_.opt_out != nullptr) {
      std::vector<std::string> allowed_names;
      for (const std::string& name : entry.names) {
        if (std::optional<std::string> rule =
                options_.opt_out->Match(endpoint.domain, name, endpoint.address)) {
          EmitWithoutProbe(Under(endpoint, name), tlsweep::v1::OPTED_OUT,
                           absl::StrCat("opt-out rule '", *rule, "'"));
        } else {
          allowed_names.push_back(name);
        }
      }
      if (allowed_names.empty()) co_return;
      entry.names = std::move(allowed_names);
      endpoint.mx_host = entry.names.front();
    }
    // After the opt-out list, as on the resolve path: an opted-out target says so first.
    if (absl::Status allowed = CheckAddressAllowed(endpoint.address, options_.allow_private);
        !allowed.ok()) {
      for (const std::string& name : entry.names) {
        EmitWithoutProbe(Under(endpoint, name), tlsweep::v1::ADDRESS_NOT_ALLOWED,
                         allowed.message());
      }
      co_return;
    }
    co_await ProbeAddress(entry);
  }

  static ProbeEndpoint Under(const ProbeEndpoint& endpoint, const std::string& name) {
    ProbeEndpoint named = endpoint;
    named.mx_host = name;
    return named;
  }

  const backends::TlsCandidate* CandidateNamed(const std::string& name) const {
    for (const backends::TlsCandidate& candidate : options_.candidates) {
      if (candidate.name == name) return &candidate;
    }
    return options_.candidates.empty() ? nullptr : &options_.candidates.front();
  }

  // One probe per address, unless the server's answer depends on the name (SNI). The first
  // name gets every candidate (and the enumeration); a second name gets one handshake with the
  // first candidate; equal fingerprints mean the first name's results serve every name.
  asio::awaitable<void> ProbeAddress(const AddressEndpoint& entry) {
    const ProbeEndpoint& base = entry.endpoint;
    const std::vector<std::string>& names = entry.names;
    const backends::TlsCandidate* check_candidate = CandidateNamed(entry.reference_candidate);
    // A reference taken with a candidate this agent does not have compares nothing.
    const bool usable_reference = !entry.reference_fingerprint.empty() &&
                                  check_candidate != nullptr &&
                                  check_candidate->name == entry.reference_candidate;
    tlsweep::v1::SniSharing sharing;
    sharing.set_names(static_cast<uint32_t>(names.size()));
    std::vector<ProbeResult> results;
    const auto emit_all = [&](tlsweep::v1::SniSharing::Status status) {
      sharing.set_status(status);
      for (ProbeResult& result : results) {
        const bool reference = result.sni().reference();
        *result.mutable_sni() = sharing;
        result.mutable_sni()->set_reference(reference);
        Emit(std::move(result));
      }
    };

    if (entry.sni_dependent) {  // Names found after the address was found SNI-dependent.
      sharing.set_detail("the address was found SNI-dependent earlier: every name is probed");
      for (const std::string& name : names) {
        for (ProbeResult& result : co_await ProbeUnder(Under(base, name), false, nullptr)) {
          results.push_back(std::move(result));
        }
      }
      emit_all(tlsweep::v1::SniSharing::SNI_DEPENDENT);
      co_return;
    }

    std::string reference = usable_reference ? entry.reference_fingerprint : std::string();
    size_t next_name = 0;
    if (reference.empty()) {
      results = co_await ProbeFirstName(entry, Under(base, names.front()));
      next_name = 1;
      for (ProbeResult& result : results) {
        if (check_candidate != nullptr && ProbeKindOf(result) == tlsweep::v1::PROBE_KIND_STARTTLS &&
            result.tls_settings().name() == check_candidate->name) {
          if (SniInconclusive(result)) break;
          reference = SniFingerprint(result);
          result.mutable_sni()->set_reference(true);
          result.mutable_sni()->set_fingerprint(reference);
          break;
        }
      }
    }
    if (check_candidate == nullptr) {
      // Enumeration only: what a server accepts does not depend on the name it is reached by.
      sharing.set_detail("no candidate to compare names with; enumerated once per address");
      emit_all(tlsweep::v1::SniSharing::SNI_SHARED);
      co_return;
    }
    if (next_name >= names.size() || reference.empty()) {
      sharing.set_detail(reference.empty() ? "the probe under the first name was inconclusive"
                                           : "only one name was known for the address");
      emit_all(tlsweep::v1::SniSharing::SNI_UNCHECKED);
      co_return;
    }

    const std::string& check_name = names[next_name];
    ProbeResult check = co_await ProbeWithBackOff(Under(base, check_name), *check_candidate);
    const std::string check_fingerprint = SniFingerprint(check);
    sharing.set_compared_name(check_name);
    check.mutable_sni()->set_fingerprint(check_fingerprint);
    const bool inconclusive = SniInconclusive(check);
    results.push_back(std::move(check));
    if (inconclusive) {
      sharing.set_detail(absl::StrCat("the check under ", check_name, " was inconclusive"));
      emit_all(tlsweep::v1::SniSharing::SNI_UNCHECKED);
      co_return;
    }
    if (check_fingerprint == reference) {
      emit_all(tlsweep::v1::SniSharing::SNI_SHARED);
      co_return;
    }
    if (next_name == 0 && !entry.reference_name.empty()) {
      // The reference was taken earlier, maybe by another agent: the server may have changed
      // since (a renewed certificate, an upgrade). Ask the reference name again before taking
      // the whole provider for SNI-dependent and probing each of its names.
      ProbeResult again =
          co_await ProbeWithBackOff(Under(base, entry.reference_name), *check_candidate);
      const std::string again_fingerprint = SniFingerprint(again);
      again.mutable_sni()->set_fingerprint(again_fingerprint);
      const bool same = !SniInconclusive(again) && again_fingerprint == check_fingerprint;
      if (same) {
        again.mutable_sni()->set_reference(true);  // The answer names found later compare with.
        reference = again_fingerprint;
      }
      results.push_back(std::move(again));
      if (same) {
        sharing.set_detail(absl::StrCat("the server's answer changed since the reference; ",
                                        entry.reference_name, " and ", check_name, " now agree"));
        emit_all(tlsweep::v1::SniSharing::SNI_SHARED);
        co_return;
      }
    }

    // SNI-dependent: every name gets every candidate; the enumeration too when the negotiation
    // (not only the certificate) differed.
    sharing.set_detail(absl::StrCat(
        SniDifference(reference, check_fingerprint), " under ", check_name, " (compared with ",
        entry.reference_name.empty() ? names.front() : entry.reference_name, ")"));
    const bool enumerate_each = SniNegotiationDiffers(reference, check_fingerprint);
    for (size_t i = next_name; i < names.size(); ++i) {
      const backends::TlsCandidate* skip = i == next_name ? check_candidate : nullptr;
      for (ProbeResult& result : co_await ProbeUnder(Under(base, names[i]), enumerate_each, skip)) {
        results.push_back(std::move(result));
      }
    }
    emit_all(tlsweep::v1::SniSharing::SNI_DEPENDENT);
  }

  // Every candidate (but `skip`) under one name, and the enumeration when `enumerate`, at once.
  asio::awaitable<std::vector<ProbeResult>> ProbeUnder(const ProbeEndpoint& endpoint,
                                                       bool enumerate,
                                                       const backends::TlsCandidate* skip) {
    std::vector<asio::awaitable<ProbeResult>> probes;
    const bool enumerating = enumerate && enumeration_.plan != nullptr;
    if (enumerating) probes.push_back(EnumerateEndpointOnce(endpoint, /*per_name=*/true));
    for (const backends::TlsCandidate& candidate : options_.candidates) {
      if (&candidate != skip) probes.push_back(ProbeWithBackOff(endpoint, candidate));
    }
    std::vector<ProbeResult> results = co_await dns_internal::WhenAll(std::move(probes));
    if (enumerating && !options_.candidates.empty()) {
      const std::string& name = options_.candidates.front().name;
      const ProbeResult* answer = CandidateResult(results, name);
      StampFingerprint(results.front(), answer != nullptr ? EnumerationFingerprint(*answer) : "",
                       name);
    }
    co_return results;
  }

  // Under an address's first name: every candidate and the enumeration; but when the
  // coordinator knows an enumeration of the address, the candidates first, and the enumeration
  // only if the server's answer to the candidate named with the fingerprint changed.
  asio::awaitable<std::vector<ProbeResult>> ProbeFirstName(const AddressEndpoint& entry,
                                                           const ProbeEndpoint& endpoint) {
    const backends::TlsCandidate* known = nullptr;
    if (!entry.known_fingerprint.empty() && enumeration_.plan != nullptr) {
      for (const backends::TlsCandidate& candidate : options_.candidates) {
        if (candidate.name == entry.known_fingerprint_candidate) known = &candidate;
      }
    }
    if (known == nullptr) co_return co_await ProbeUnder(endpoint, true, nullptr);
    std::vector<ProbeResult> results = co_await ProbeUnder(endpoint, false, nullptr);
    const ProbeResult* answer = CandidateResult(results, known->name);
    const std::string fingerprint = answer != nullptr ? EnumerationFingerprint(*answer) : "";
    ProbeResult enumeration;
    if (!fingerprint.empty() && fingerprint == entry.known_fingerprint) {
      enumeration = NewResultFor(endpoint, backends::TlsCandidate());
      enumeration.clear_tls_settings();
      enumeration.set_probe_kind(tlsweep::v1::PROBE_KIND_ENUMERATE);
      enumeration.mutable_enumeration()->set_reused(true);  // The coordinator fills it in.
    } else {
      enumeration = co_await EnumerateEndpointOnce(endpoint, /*per_name=*/true);
    }
    StampFingerprint(enumeration, fingerprint, known->name);
    results.insert(results.begin(), std::move(enumeration));
    co_return results;
  }

  static const ProbeResult* CandidateResult(const std::vector<ProbeResult>& results,
                                            const std::string& candidate) {
    for (const ProbeResult& result : results) {
      if (ProbeKindOf(result) == tlsweep::v1::PROBE_KIND_STARTTLS &&
          result.tls_settings().name() == candidate) {
        return &result;
      }
    }
    return nullptr;
  }

  static void StampFingerprint(ProbeResult& enumeration, const std::string& fingerprint,
                               const std::string& candidate) {
    if (ProbeKindOf(enumeration) != tlsweep::v1::PROBE_KIND_ENUMERATE || fingerprint.empty()) {
      return;
    }
    enumeration.mutable_enumeration()->set_fingerprint(fingerprint);
    enumeration.mutable_enumeration()->set_fingerprint_candidate(candidate);
  }

  // Every (endpoint, candidate) at once: the politeness gate, not this loop, decides how many
  // connections one host gets. Results come out in a stable order.
  asio::awaitable<void> ProbeEndpoints(const std::vector<ProbeEndpoint>& endpoints) {
    std::vector<asio::awaitable<ProbeResult>> probes;
    for (const ProbeEndpoint& endpoint : endpoints) {
      if (enumeration_.plan != nullptr) {
        probes.push_back(EnumerateEndpointOnce(endpoint, /*per_name=*/false));
      }
      for (const backends::TlsCandidate& candidate : options_.candidates) {
        probes.push_back(ProbeEndpointOnce(endpoint, candidate));
      }
    }
    for (ProbeResult& result : co_await dns_internal::WhenAll(std::move(probes))) {
      Emit(std::move(result));
    }
  }

  // Endpoints for one host's addresses; a host without address gets a result right away.
  void AddHostEndpoints(ProbeEndpoint endpoint, const HostAddresses& addresses,
                        std::vector<ProbeEndpoint>& endpoints) {
    endpoint.provider = ProviderKey(endpoint.mx_host);
    if (addresses.addresses.empty()) {
      EmitWithoutProbe(
          endpoint,
          FromDnsFailure(addresses.failure == DnsFailure::kNone ? DnsFailure::kNoAddress
                                                                : addresses.failure),
          addresses.detail.empty() ? "the host has no address" : addresses.detail);
      return;
    }
    for (const asio::ip::address& address : addresses.addresses) {
      ProbeEndpoint with_address = endpoint;
      with_address.address = address;
      if (options_.opt_out != nullptr) {
        if (std::optional<std::string> rule =
                options_.opt_out->Match(endpoint.domain, endpoint.mx_host, address)) {
          EmitWithoutProbe(with_address, tlsweep::v1::OPTED_OUT,
                           absl::StrCat("opt-out rule '", *rule, "'"));
          if (!options_.selection.all_addresses) return;
          continue;
        }
      }
      if (absl::Status allowed = CheckAddressAllowed(address, options_.allow_private);
          !allowed.ok()) {
        EmitWithoutProbe(with_address, tlsweep::v1::ADDRESS_NOT_ALLOWED, allowed.message());
        if (!options_.selection.all_addresses) return;
        continue;
      }
      endpoints.push_back(with_address);
      if (!options_.selection.all_addresses) return;
    }
  }

  asio::awaitable<ProbeResult> ProbeEndpointOnce(const ProbeEndpoint& endpoint,
                                                 const backends::TlsCandidate& candidate) {
    const std::string key = EndpointKey(endpoint, candidate);
    if (std::optional<ProbeResult> cached = co_await cache_.Claim(key)) {
      counters_.results_reused.fetch_add(1);
      ProbeResult copy = *std::move(cached);
      // Identity from this endpoint, observations from the shared probe.
      backends::TakeRouteIdentity(NewResultFor(endpoint, candidate), copy);
      copy.set_reused(true);
      co_return copy;
    }
    ProbeResult result = co_await ProbeWithBackOff(endpoint, candidate);
    cache_.Complete(key, result);
    co_return result;
  }

  // Like ProbeEndpointOnce, for the enumeration of an endpoint (once per sweep).
  asio::awaitable<ProbeResult> EnumerateEndpointOnce(const ProbeEndpoint& endpoint, bool per_name) {
    // Keyed by address and port only: what a server accepts does not depend on the name a
    // domain reached it by, and implicit-MX domains name the same server many ways. A server
    // whose negotiation differs by SNI is enumerated per name (`per_name`).
    const std::string key =
        absl::StrCat(endpoint.address.to_string(), "|", endpoint.port, "|#enumerate",
                     per_name ? absl::StrCat("|", endpoint.mx_host) : std::string());
    std::optional<ProbeResult> cached = co_await cache_.Claim(key);
    if (cached) {
      counters_.results_reused.fetch_add(1);
      ProbeResult copy = *std::move(cached);
      backends::TakeRouteIdentity(NewResultFor(endpoint, backends::TlsCandidate()), copy);
      copy.set_reused(true);
      co_return copy;
    }
    ProbeResult result = co_await RunEnumeration(endpoint, enumeration_);
    counters_.probes_run.fetch_add(result.attempts());
    cache_.Complete(key, result);
    co_return result;
  }

  asio::awaitable<ProbeResult> ProbeWithBackOff(const ProbeEndpoint& endpoint,
                                                const backends::TlsCandidate& candidate) {
    const std::string ip = endpoint.address.to_string();
    ProbeResult result;
    for (int attempt = 1;; ++attempt) {
      ConnectionPermit permit = co_await gate_->Acquire(ip, endpoint.provider);
      counters_.probes_run.fetch_add(1);
      result = co_await RunStarttlsProbe(endpoint, candidate, options_.probe);
      result.set_attempts(static_cast<uint32_t>(attempt));
      if (!IsRateLimited(result)) co_return result;
      if (attempt >= options_.max_attempts) {
        result.set_failure(tlsweep::v1::RATE_LIMITED);
        result.set_failure_detail(
            absl::StrCat("still refused after ", attempt, " attempts: ", result.failure_detail()));
        co_return result;
      }
      // Back off before the slot is released, so that no one connects in between.
      gate_->BackOff(ip, options_.rate_limit_backoff * (1 << std::min(attempt - 1, 10)));
    }
  }

  const SweepOptions& options_;
  SweepCounters& counters_;
  const TargetSource* targets_;
  const EndpointSource* endpoints_;
  const ResultSink& sink_;
  std::mutex source_mutex_;
  std::mutex sink_mutex_;
  const std::shared_ptr<PolitenessGate> gate_;
  EndpointCache cache_;
  EnumerationContext enumeration_;
};

Sweeper::Sweeper(SweepOptions options) : options_(std::move(options)) {}
Sweeper::~Sweeper() = default;

absl::Status Sweeper::Run(const TargetSource& source, const ResultSink& sink) {
  return RunLanes(&source, nullptr, sink);
}

absl::Status Sweeper::RunEndpoints(const EndpointSource& source, const ResultSink& sink) {
  return RunLanes(nullptr, &source, sink);
}

absl::Status Sweeper::RunLanes(const TargetSource* targets, const EndpointSource* endpoints,
                               const ResultSink& sink) {
  if (options_.candidates.empty() && !options_.enumerate) {
    return absl::InvalidArgumentError("nothing to probe: no TLS candidate and no enumeration");
  }
  for (const backends::TlsCandidate& candidate : options_.candidates) {
    if (candidate.backend == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("candidate '", candidate.name, "' has no backend"));
    }
  }
  int threads = options_.threads > 0 ? options_.threads
                                     : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);
  const size_t lanes_per_thread =
      std::max<size_t>(1, (options_.max_in_flight_targets + threads - 1) / threads);

  std::unique_ptr<OfferPlan> plan;
  if (options_.enumerate) {
    std::vector<backends::Backend*> backends = options_.enumeration_backends;
    for (const backends::TlsCandidate& candidate : options_.candidates) {
      if (std::find(backends.begin(), backends.end(), candidate.backend) == backends.end()) {
        backends.push_back(candidate.backend);
      }
    }
    absl::StatusOr<OfferPlan> built = BuildOfferPlan(backends);
    if (!built.ok()) return built.status();
    plan = std::make_unique<OfferPlan>(*std::move(built));
  }
  Impl impl(options_, counters_, targets, endpoints, sink, plan.get());
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<std::unique_ptr<MxResolver>> resolvers;
  for (int i = 0; i < threads; ++i) {
    loops.push_back(std::make_unique<asio::io_context>(1));
    absl::StatusOr<std::unique_ptr<MxResolver>> resolver =
        MxResolver::Create(loops.back()->get_executor(), options_.resolver);
    if (!resolver.ok()) return resolver.status();
    resolvers.push_back(*std::move(resolver));
  }
  for (int i = 0; i < threads; ++i) {
    for (size_t lane = 0; lane < lanes_per_thread; ++lane) {
      asio::co_spawn(*loops[i], impl.Lane(*resolvers[i]), asio::detached);
    }
  }
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&loops, i] { loops[i]->run(); });
  loops[0]->run();
  for (std::thread& worker : workers) worker.join();
  return absl::OkStatus();
}

}  // namespace tlsweep::agent
