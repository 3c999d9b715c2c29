#include "coordinator/report/report_service.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "coordinator/report/result_index.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/store_metrics.h"

namespace tlsweep::coordinator::report {

absl::StatusOr<std::unique_ptr<ReportService>> ReportService::Start(
    const ReportServiceOptions& service) {
  ReportServerOptions options;
  const size_t colon = service.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(service.listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("--http-listen takes HOST:PORT");
  }
  options.host = service.listen.substr(0, colon);
  options.port = port;
  options.db_path = service.store_path;
  if (service.dev && !IsLoopbackListen(service.listen)) {
    return absl::InvalidArgumentError(
        "--dev (no TLS, no authentication) serves HTTP on loopback addresses only");
  }
  if (!service.token_file.empty()) {
    absl::StatusOr<std::vector<std::string>> tokens = ReadTokens(service.token_file);
    if (!tokens.ok()) return tokens.status();
    options.tokens = *std::move(tokens);
  }
  options.allow_unauthenticated = service.dev && options.tokens.empty();
  options.what_if = service.what_if;
  options.registry = service.registry;
  const std::string store_path = service.store_path;
  options.metrics = [store_path,
                     process = service.process_metrics]() -> absl::StatusOr<std::string> {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(store_path);
    if (!db.ok()) return db.status();
    absl::StatusOr<std::string> stored = RenderStoreMetrics(**db);
    if (!stored.ok() || !process) return stored;
    return *stored + process();
  };
  absl::StatusOr<std::unique_ptr<ReportServer>> reports = ReportServer::Start(options);
  if (!reports.ok()) return reports.status();
  return std::unique_ptr<ReportService>(new ReportService(*std::move(reports), store_path));
}

ReportService::ReportService(std::unique_ptr<ReportServer> reports, std::string store_path)
    : reports_(std::move(reports)), indexer_([this, store_path] { Index(store_path); }) {}

ReportService::~ReportService() {
  stop_ = true;
  indexer_.join();
  reports_->Stop();
}

void ReportService::Index(const std::string& store_path) {
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(store_path);
  if (!db.ok()) return;
  while (!stop_) {
    (void)CatchUp(**db, "");
    for (int i = 0; i < 20 && !stop_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
}

}  // namespace tlsweep::coordinator::report
