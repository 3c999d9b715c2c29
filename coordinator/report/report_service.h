// The coordinator's HTTP side (`tlsweep-coordinator --http-listen`): the report pages, /metrics
// and health checks (http_report_server.h), plus the indexer thread that keeps the report
// tables current as shards finish, so that a report never has to catch up on a whole scan.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "coordinator/report/http_report_server.h"
#include "coordinator/report/report_builder.h"

namespace tlsweep::coordinator::report {

struct ReportServiceOptions {
  std::string listen;      // HOST:PORT.
  std::string store_path;  // The coordinator's SQLite store.
  std::string token_file;  // Tokens of the scan API (every line is accepted).
  bool dev = false;        // No token needed, loopback only.
  WhatIfProvider what_if;  // The served reports' what-if section; optional.
  // The plugins, for causes from the negotiation model and advice; optional. Outlives this.
  const backends::BackendRegistry* registry = nullptr;
  // Appended to /metrics after the stored-row gauges: the running coordinator's own counters
  // (CoordinatorMetrics::Render); optional.
  std::function<std::string()> process_metrics;
};

class ReportService {
 public:
  // InvalidArgument for a bad --http-listen or --dev on a non-loopback address.
  static absl::StatusOr<std::unique_ptr<ReportService>> Start(const ReportServiceOptions& options);
  ~ReportService();
  ReportService(const ReportService&) = delete;
  ReportService& operator=(const ReportService&) = delete;

  int port() const { return reports_->port(); }

 private:
  ReportService(std::unique_ptr<ReportServer> reports, std::string store_path);
  void Index(const std::string& store_path);

  std::unique_ptr<ReportServer> reports_;
  std::atomic<bool> stop_{false};
  std::thread indexer_;
};

}  // namespace tlsweep::coordinator::report
