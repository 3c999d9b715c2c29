#include "agent/client/sweep_runner.h"

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/sweep/sweeper.h"
#include "backends/candidate/candidate_cache.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/target/shard_target.h"
#include "backends/target/target.h"

namespace tlsweep::agent {

namespace {

// A probe unit: the region's unique endpoints, each probed once for the whole scan.
absl::Status ProbeEndpoints(const v1::ShardAssignment& assignment, SweepOptions sweep,
                            const ResultSink& emit, const std::atomic<bool>& cancelled) {
  std::vector<AddressEndpoint> endpoints;
  for (const v1::ShardEndpoint& shard_endpoint : assignment.endpoints()) {
    AddressEndpoint entry;
    ProbeEndpoint& endpoint = entry.endpoint;
    endpoint.target = shard_endpoint.mx_host();
    endpoint.mx_host = shard_endpoint.mx_host();
    endpoint.port = static_cast<uint16_t>(shard_endpoint.port());
    endpoint.provider = shard_endpoint.provider();
    entry.names.assign(shard_endpoint.names().begin(), shard_endpoint.names().end());
    if (entry.names.empty()) entry.names.push_back(shard_endpoint.mx_host());
    entry.reference_name = shard_endpoint.reference_name();
    entry.reference_fingerprint = shard_endpoint.reference_fingerprint();
    entry.reference_candidate = shard_endpoint.reference_candidate();
    entry.sni_dependent = shard_endpoint.sni_dependent();
    entry.known_fingerprint = shard_endpoint.known_fingerprint();
    entry.known_fingerprint_candidate = shard_endpoint.known_fingerprint_candidate();
    asio::error_code error;
    endpoint.address = asio::ip::make_address(shard_endpoint.address(), error);
    if (!error) {
      endpoints.push_back(std::move(entry));
      continue;
    }
    for (const std::string& name : entry.names) {
      v1::ProbeResult bad;  // Emitted before the sweep starts: emit is not thread-safe.
      bad.set_mx_host(name);
      bad.set_address(shard_endpoint.address());
      bad.set_port(shard_endpoint.port());
      bad.set_failure(v1::ADDRESS_NOT_ALLOWED);
      bad.set_failure_detail("the coordinator sent an address that does not parse");
      emit(std::move(bad));
    }
  }
  size_t next = 0;
  EndpointSource source = [&]() -> std::optional<AddressEndpoint> {
    if (cancelled || next >= endpoints.size()) return std::nullopt;
    return endpoints[next++];  // The sweeper calls this one call at a time.
  };
  Sweeper sweeper(std::move(sweep));
  return sweeper.RunEndpoints(source, emit);
}

}  // namespace

ShardRunner MakeSweepRunner(SweepRunnerOptions options) {
  // Politeness is per agent process, not per unit: every sweep the runner starts uses one gate.
  if (options.gate == nullptr) {
    options.gate = std::make_shared<PolitenessGate>(options.base.politeness);
  }
  options.base.gate = options.gate;
  // Every unit of a scan carries the same profile: each candidate is built (expanded) once.
  if (options.candidates == nullptr && options.registry != nullptr) {
    options.candidates =
        std::make_shared<backends::CandidateCache>(*options.registry, options.ca_file);
  }
  std::shared_ptr<backends::CandidateCache> candidates = options.candidates;
  auto shared = std::make_shared<const SweepRunnerOptions>(std::move(options));
  return [shared, candidates](const v1::ShardAssignment& assignment,
                              const std::function<void(v1::ProbeResult)>& emit,
                              const std::atomic<bool>& cancelled) -> absl::Status {
    SweepOptions sweep = shared->base;
    if (assignment.profile().candidates_size() > 0) {
      if (candidates == nullptr) {
        return absl::FailedPreconditionError("no backend registry for the profile's candidates");
      }
      sweep.candidates.clear();
      for (const v1::TlsClientSettings& settings : assignment.profile().candidates()) {
        absl::StatusOr<backends::TlsCandidate> candidate = candidates->Get(settings);
        if (!candidate.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("candidate '", settings.name(), "': ", candidate.status().message()));
        }
        sweep.candidates.push_back(*std::move(candidate));
      }
    }
    if (assignment.profile().enumerate()) sweep.enumerate = true;
    if (sweep.enumerate && sweep.enumeration_backends.empty() && shared->registry != nullptr) {
      for (const backends::LoadedBackend& loaded : shared->registry->backends()) {
        sweep.enumeration_backends.push_back(loaded.backend.get());
      }
    }
    const auto emit_observed = [&](v1::ProbeResult result) {
      if (shared->observe) shared->observe(result);
      emit(std::move(result));
    };
    if (assignment.kind() == v1::UNIT_PROBE_ENDPOINTS) {
      return ProbeEndpoints(assignment, std::move(sweep), emit_observed, cancelled);
    }
    sweep.resolve_only = assignment.kind() == v1::UNIT_RESOLVE;
    // The coordinator parsed every line when the list was uploaded: the targets come as fields.
    std::vector<backends::TargetLine> lines;
    lines.reserve(static_cast<size_t>(assignment.targets_size()));
    for (const v1::ShardTarget& target : assignment.targets()) {
      absl::StatusOr<backends::Target> rebuilt = backends::TargetFromShard(target);
      if (!rebuilt.ok()) {
        v1::ProbeResult unusable;  // Emitted before the sweep starts: emit is not thread-safe.
        unusable.set_target(target.input());
        unusable.set_line_number(target.line_number());
        unusable.set_failure(v1::PROBE_CONFIG_ERROR);
        unusable.set_failure_detail(std::string(rebuilt.status().message()));
        emit_observed(std::move(unusable));
        continue;
      }
      backends::TargetLine& line = lines.emplace_back();
      line.line_number = target.line_number();
      line.target = *std::move(rebuilt);
    }
    size_t next = 0;
    std::mutex mutex;
    TargetSource source = [&]() -> std::optional<backends::TargetLine> {
      std::lock_guard<std::mutex> lock(mutex);
      if (cancelled || next >= lines.size()) return std::nullopt;
      return std::move(lines[next++]);
    };
    Sweeper sweeper(std::move(sweep));
    return sweeper.Run(source, emit_observed);
  };
}

}  // namespace tlsweep::agent
