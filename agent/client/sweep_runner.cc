#include "agent/client/sweep_runner.h"

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "agent/probe/candidate_builder.h"
#include "agent/sweep/sweeper.h"
#include "agent/target/target.h"

namespace tlsweep::agent {

ShardRunner MakeSweepRunner(SweepRunnerOptions options) {
  auto shared = std::make_shared<const SweepRunnerOptions>(std::move(options));
  return [shared](const v1::ShardAssignment& assignment,
                  const std::function<void(v1::ProbeResult)>& emit,
                  const std::atomic<bool>& cancelled) -> absl::Status {
    SweepOptions sweep = shared->base;
    if (assignment.profile().candidates_size() > 0) {
      if (shared->registry == nullptr) {
        return absl::FailedPreconditionError("no backend registry for the profile's candidates");
      }
      sweep.candidates.clear();
      for (const v1::TlsClientSettings& settings : assignment.profile().candidates()) {
        absl::StatusOr<TlsCandidate> candidate =
            BuildCandidate(settings, *shared->registry, shared->ca_file);
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
    const uint16_t port =
        assignment.default_port() == 0 ? 25 : static_cast<uint16_t>(assignment.default_port());
    int next = 0;
    std::mutex mutex;
    TargetSource source = [&]() -> std::optional<TargetLine> {
      std::lock_guard<std::mutex> lock(mutex);
      while (!cancelled && next < assignment.targets_size()) {
        const v1::ShardTarget& target = assignment.targets(next++);
        absl::StatusOr<Target> parsed = ParseTarget(target.input(), port);
        if (!parsed.ok()) continue;  // Validated by the coordinator; cannot happen.
        TargetLine line;
        line.line_number = target.line_number();
        line.target = *std::move(parsed);
        return line;
      }
      return std::nullopt;
    };
    Sweeper sweeper(std::move(sweep));
    return sweeper.Run(source, [&](v1::ProbeResult result) {
      if (shared->observe) shared->observe(result);
      emit(std::move(result));
    });
  };
}

}  // namespace tlsweep::agent
