// What the running coordinator counts itself, for /metrics beside the stored-row gauges of
// store_metrics.h: monotonic counters (reset only by a restart, which Prometheus' rate()
// handles) and the duration of storing a result batch, the coordinator's hot path.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "backends/metrics_histogram.h"

namespace tlsweep::coordinator {

struct CoordinatorMetrics {
  std::atomic<uint64_t> agent_connects{0};
  std::atomic<uint64_t> leases_granted{0};
  std::atomic<uint64_t> leases_expired{0};
  std::atomic<uint64_t> batches_ingested{0};
  std::atomic<uint64_t> results_ingested{0};
  Histogram batch_ingest_seconds{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};

  // The exposition-format text of all of the above.
  std::string Render() const;
};

}  // namespace tlsweep::coordinator
