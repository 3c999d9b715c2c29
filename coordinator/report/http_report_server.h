// The coordinator's report pages over HTTP (cpp-httplib): the list of scans with their progress,
// each scan's HTML report, and its JSON and CSV downloads, behind the API's bearer token.
//
//   GET /                          scans, newest first, with progress per region
//   GET /scans/{id}                HTML report   (?candidate=NAME... &against=SCAN)
//   GET /scans/{id}/report.json    JSON report   (same parameters)
//   GET /scans/{id}/report.csv     one row per (candidate, region, domain)
//   GET /login, POST /login        a browser signs in with the token (a session cookie that
//                                  holds a random id, not the token; 12 h)
//   POST /logout                   ends the session
//   GET /healthz, /readyz          no token needed
//
// Authentication (http_auth.h): `Authorization: Bearer TOKEN`, or the session cookie. A token
// in the URL (`?token=`) is refused with 400, valid or not. Anything else gets 401.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/report/http_auth.h"
#include "coordinator/report/report_builder.h"

namespace httplib {
class Server;
}

namespace tlsweep::coordinator::report {

struct ReportServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;         // 0: a free port (see ReportServer::port()).
  std::string db_path;  // The coordinator's SQLite store.
  // Any of them is accepted (a --token-file may hold several, e.g. during a rotation); at
  // least one unless allow_unauthenticated.
  std::vector<std::string> tokens;
  bool allow_unauthenticated = false;
  WhatIfProvider what_if;  // Optional.
  // The backend plugins, for failure causes from the negotiation model and advice; optional
  // (without them causes come from live failures only, and there is no advice).
  const backends::BackendRegistry* registry = nullptr;
  size_t max_domains = 200;  // Failing domains listed on a page.
  // Prometheus text for /metrics (served without a token, like the health checks: it holds
  // only counts); not served when empty.
  std::function<absl::StatusOr<std::string>()> metrics;
  // Limits against slow or greedy clients (a Kubernetes probe must still get /healthz).
  size_t max_request_body_bytes = 64 << 10;  // Requests are GETs: nothing needs a body.
  int read_timeout_seconds = 2;              // Per read while a request arrives.
  int threads = 32;                          // Requests served at once.
};

class ReportServer {
 public:
  // Binds and starts serving on a thread of its own.
  static absl::StatusOr<std::unique_ptr<ReportServer>> Start(ReportServerOptions options);
  ~ReportServer();
  ReportServer(const ReportServer&) = delete;
  ReportServer& operator=(const ReportServer&) = delete;

  int port() const { return port_; }
  void Stop();

 private:
  ReportServer() = default;

  ReportServerOptions options_;
  BrowserSessions sessions_;  // Before server_: its handlers use it until server_ is gone.
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tlsweep::coordinator::report
