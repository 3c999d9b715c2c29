#include "coordinator/coordinator_metrics.h"

#include "absl/strings/str_cat.h"

namespace tlsweep::coordinator {
namespace {

void Counter(std::string& out, absl::string_view name, absl::string_view help,
             const std::atomic<uint64_t>& value) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n", name, " ",
                  value.load(std::memory_order_relaxed), "\n");
}

}  // namespace

std::string CoordinatorMetrics::Render() const {
  std::string out;
  Counter(out, "tlsweep_agent_connects_total",
          "Agent streams accepted since the coordinator started.", agent_connects);
  Counter(out, "tlsweep_leases_granted_total", "Unit leases granted to agents.", leases_granted);
  Counter(out, "tlsweep_leases_expired_total", "Unit leases that expired (the agent went silent).",
          leases_expired);
  Counter(out, "tlsweep_result_batches_ingested_total", "Result batches stored.", batches_ingested);
  Counter(out, "tlsweep_results_ingested_total",
          "Results stored (rate() of it is the ingest rate).", results_ingested);
  AppendHistogramHeader(out, "tlsweep_batch_ingest_duration_seconds",
                        "Time to store one result batch (one store transaction).");
  batch_ingest_seconds.AppendSamples(out, "tlsweep_batch_ingest_duration_seconds", "");
  return out;
}

}  // namespace tlsweep::coordinator
