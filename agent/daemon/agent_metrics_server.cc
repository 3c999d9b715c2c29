#include "agent/daemon/agent_metrics_server.h"

#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/probe_kind.h"

namespace tlsweep::agent {
void ResultCounters::Count(const tlsweep::v1::ProbeResult& result) {
  const std::string outcome =
      result.failure() == tlsweep::v1::PROBE_OK
          ? "ok"
          : absl::AsciiStrToLower(tlsweep::v1::ProbeFailure_Name(result.failure()));
  const absl::string_view kind_name = backends::ProbeKindName(backends::ProbeKindOf(result));
  const std::string kind(kind_name.empty() ? "starttls" : kind_name);
  std::lock_guard<std::mutex> lock(mutex_);
  ++by_outcome_[absl::StrCat(kind, "|", outcome)];
  if (result.timings().total_us() > 0) {
    std::unique_ptr<Histogram>& histogram = durations_[kind];
    if (histogram == nullptr) histogram = std::make_unique<Histogram>(NetworkDurationBounds());
    histogram->Observe(static_cast<double>(result.timings().total_us()) / 1e6);
  }
}

void ResultCounters::AppendMetrics(std::string& out, const std::string& region) const {
  const std::string region_label = absl::StrCat("region=\"", PrometheusLabelValue(region), "\"");
  absl::StrAppend(&out,
                  "# HELP tlsweep_agent_results_total Results produced, by probe kind and "
                  "outcome (handshakes by outcome).\n# TYPE tlsweep_agent_results_total "
                  "counter\n");
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, count] : by_outcome_) {
    const size_t bar = key.find('|');
    absl::StrAppend(&out, "tlsweep_agent_results_total{", region_label, ",probe=\"",
                    key.substr(0, bar), "\",outcome=\"", key.substr(bar + 1), "\"} ", count, "\n");
  }
  AppendHistogramHeader(out, "tlsweep_agent_probe_duration_seconds",
                        "Wall time of one probe (connect, SMTP, STARTTLS, handshake; a whole "
                        "enumeration for probe=\"enumerate\"), by probe kind.");
  for (const auto& [kind, histogram] : durations_) {
    histogram->AppendSamples(out, "tlsweep_agent_probe_duration_seconds",
                             absl::StrCat(region_label, ",probe=\"", kind, "\""));
  }
}

std::map<std::string, int64_t> ResultCounters::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_outcome_;
}

absl::StatusOr<std::unique_ptr<AgentMetricsServer>> AgentMetricsServer::Start(
    const std::string& listen, const std::string& region, const agent::AgentClientStats* stats,
    const ResultCounters* results) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("--metrics-listen takes HOST:PORT");
  }
  std::unique_ptr<AgentMetricsServer> metrics(new AgentMetricsServer());
  metrics->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *metrics->server_;
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [stats](const httplib::Request&, httplib::Response& res) {
    const bool connected = stats->connects.load() > 0;
    res.status = connected ? 200 : 503;
    res.set_content(connected ? "ready\n" : "not connected to the coordinator yet\n", "text/plain");
  });
  server.Get("/metrics", [stats, results, region](const httplib::Request&, httplib::Response& res) {
    std::string out;
    results->AppendMetrics(out, region);
    const std::string labels = absl::StrCat("region=\"", PrometheusLabelValue(region), "\"");
    AppendCounter(out, "tlsweep_agent_connects_total", "Streams opened to the coordinator.", labels,
                  stats->connects.load());
    AppendCounter(out, "tlsweep_agent_leases_total", "Shard leases received.", labels,
                  stats->assignments.load());
    AppendCounter(out, "tlsweep_agent_shards_completed_total", "Shards finished and acknowledged.",
                  labels, stats->shards_completed.load());
    AppendCounter(out, "tlsweep_agent_batches_sent_total",
                  "Result batches sent (resends included).", labels, stats->batches_sent.load());
    AppendCounter(out, "tlsweep_agent_batches_acked_total", "Result batches acknowledged.", labels,
                  stats->batches_acked.load());
    AppendCounter(out, "tlsweep_agent_leases_cancelled_total",
                  "Leases taken back by the coordinator.", labels, stats->leases_cancelled.load());
    res.set_content(out, "text/plain; version=0.0.4");
  });
  const std::string host = listen.substr(0, colon);
  if (!server.bind_to_port(host.c_str(), port)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  metrics->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return metrics;
}

AgentMetricsServer::~AgentMetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tlsweep::agent
