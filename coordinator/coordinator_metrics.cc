#include "coordinator/coordinator_metrics.h"

#include "absl/strings/str_cat.h"

namespace tlsweep::coordinator {
std::string CoordinatorMetrics::Render() const {
  std::string out;
  AppendCounter(out, "tlsweep_agent_connects_total",
                "Agent streams accepted since the coordinator started.", "",
                agent_connects.load(std::memory_order_relaxed));
  AppendCounter(out, "tlsweep_leases_granted_total", "Unit leases granted to agents.", "",
                leases_granted.load(std::memory_order_relaxed));
  AppendCounter(out, "tlsweep_leases_expired_total",
                "Unit leases that expired (the agent went silent).", "",
                leases_expired.load(std::memory_order_relaxed));
  AppendCounter(out, "tlsweep_result_batches_ingested_total", "Result batches stored.", "",
                batches_ingested.load(std::memory_order_relaxed));
  AppendCounter(out, "tlsweep_results_ingested_total",
                "Results stored (rate() of it is the ingest rate).", "",
                results_ingested.load(std::memory_order_relaxed));
  AppendHistogramHeader(out, "tlsweep_batch_ingest_duration_seconds",
                        "Time to store one result batch (one store transaction).");
  batch_ingest_seconds.AppendSamples(out, "tlsweep_batch_ingest_duration_seconds", "");
  return out;
}

}  // namespace tlsweep::coordinator
