#include "coordinator/report/http_report_server.h"

#include <httplib.h>

#include <mutex>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/secret_compare.h"
#include "backends/status_macros.h"
#include "coordinator/report/http_auth.h"
#include "coordinator/report/render.h"
#include "coordinator/report/result_index.h"
#include "coordinator/store/scan_reader.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/store.h"

namespace tlsweep::coordinator::report {
namespace {

constexpr char kLoginPage[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tlsweep sign in"
    "</title><style>body{font:14px/1.4 sans-serif;max-width:480px;margin:0 auto;padding:24px}"
    "</style></head><body><h1>tlsweep</h1><form method=\"post\" action=\"/login\"><p>"
    "<label>API token <input type=\"password\" name=\"token\" autocomplete=\"off\" "
    "autofocus></label> <button>Sign in</button></p></form><p>The token is the scan API's (the "
    "coordinator's --token-file). It is kept in a cookie for this site only.</p></body></html>\n";

std::string UrlEncode(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

int HttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

struct ScanRow {
  std::string scan_id, name, state;
  int64_t targets = 0, created_ms = 0;
  std::vector<std::string> progress;  // "eu 10/12"
};

absl::StatusOr<std::vector<ScanRow>> ListScans(SqliteDb& db, int64_t limit) {
  ASSIGN_OR_RETURN(SqliteStatement scans,
                   db.Prepare("SELECT scan_id, name, state, targets, created_ms FROM scans "
                              "ORDER BY created_ms DESC, scan_id DESC LIMIT ?"));
  ASSIGN_OR_RETURN(std::unique_ptr<ScanReader> reader, OpenSqliteScanReader(db));
  scans.Bind(1, limit);
  std::vector<ScanRow> rows;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, scans.Step());
    if (!row) break;
    ScanRow scan{scans.Text(0), scans.Text(1), ScanStateName(static_cast<int>(scans.Int(2))),
                 scans.Int(3),  scans.Int(4),  {}};
    ASSIGN_OR_RETURN(std::vector<RegionUnits> units, reader->Units(scan.scan_id));
    for (const RegionUnits& region : units) {
      scan.progress.push_back(absl::StrFormat("%s %d/%d shards (%s)", region.region,
                                              region.shards_finished, region.shards,
                                              Percent(static_cast<double>(region.shards_finished),
                                                      static_cast<double>(region.shards))));
    }
    rows.push_back(std::move(scan));
  }
  return rows;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReportServer>> ReportServer::Start(ReportServerOptions options) {
  if (options.tokens.empty() && !options.allow_unauthenticated) {
    return absl::InvalidArgumentError("the report server needs a token");
  }
  if (options.db_path.empty()) return absl::InvalidArgumentError("no store path");
  {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(options.db_path));
    RETURN_IF_ERROR(EnsureReportSchema(*db));
  }
  std::unique_ptr<ReportServer> self(new ReportServer());
  self->options_ = std::move(options);
  self->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *self->server_;
  const ReportServerOptions* opts = &self->options_;
  // One report build at a time: indexing writes, and a report of a big scan is CPU-bound anyway.
  auto build_mutex = std::make_shared<std::mutex>();

  BrowserSessions* sessions = &self->sessions_;
  auto authorized = [opts, sessions](const httplib::Request& req) {
    if (opts->tokens.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    if (absl::StartsWith(header, "Bearer ")) {
      return backends::MatchesAnySecret(absl::string_view(header).substr(7), opts->tokens);
    }
    std::optional<std::string> session = SessionFromCookies(req.get_header_value("Cookie"));
    return session.has_value() && sessions->Valid(*session);
  };
  auto deny = [](httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"tlsweep\"");
    res.set_content("401 unauthorized: send Authorization: Bearer TOKEN, or sign in at /login\n",
                    "text/plain; charset=utf-8");
  };
  // A token in the URL is refused outright on every route, valid or not: the URL is already
  // in some log.
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!QueryHasParameter(req.target, "token")) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 400;
    res.set_content(
        "400 the token does not go in URLs (they end up in logs and browser "
        "history): send Authorization: Bearer TOKEN, or sign in at /login\n",
        "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
  auto fail = [](httplib::Response& res, const absl::Status& status) {
    res.status = HttpStatus(status);
    res.set_content(absl::StrCat(res.status, " ", status.message(), "\n"),
                    "text/plain; charset=utf-8");
  };

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [opts](const httplib::Request&, httplib::Response& res) {
    auto db = SqliteDb::Open(opts->db_path);
    absl::Status status = db.ok() ? (*db)->Exec("SELECT 1 FROM scans LIMIT 1") : db.status();
    res.status = status.ok() ? 200 : 503;
    res.set_content(status.ok() ? "ready\n" : absl::StrCat("not ready: ", status.message(), "\n"),
                    "text/plain");
  });

  if (opts->metrics) {
    server.Get("/metrics", [opts](const httplib::Request&, httplib::Response& res) {
      absl::StatusOr<std::string> metrics = opts->metrics();
      res.status = metrics.ok() ? 200 : 503;
      res.set_content(metrics.ok() ? *metrics : std::string(metrics.status().message()),
                      "text/plain; version=0.0.4");
    });
  }

  server.Get("/login", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kLoginPage, "text/html; charset=utf-8");
  });
  server.Post("/login", [opts, sessions](const httplib::Request& req, httplib::Response& res) {
    // From the form body only, never from the query string.
    const std::string token = FormValue(req.body, "token").value_or("");
    if (!backends::MatchesAnySecret(token, opts->tokens)) {
      res.status = 401;
      res.set_content("401 that is not the API token; try again at /login\n",
                      "text/plain; charset=utf-8");
      return;
    }
    res.set_header("Set-Cookie", SessionCookieHeader(sessions->Open(), sessions->lifetime()));
    res.set_redirect("/", 303);
  });
  server.Post("/logout", [sessions](const httplib::Request& req, httplib::Response& res) {
    if (auto session = SessionFromCookies(req.get_header_value("Cookie"))) {
      sessions->Close(*session);
    }
    res.set_header("Set-Cookie", ClearedSessionCookieHeader());
    res.set_redirect("/login", 303);
  });

  server.Get("/", [=](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req)) return deny(res);
    auto db = SqliteDb::Open(opts->db_path);
    if (!db.ok()) return fail(res, db.status());
    auto scans = ListScans(**db, 200);
    if (!scans.ok()) return fail(res, scans.status());
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tlsweep scans"
        "</title><style>body{font:14px/1.4 sans-serif;max-width:1100px;margin:0 auto;padding:"
        "24px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;"
        "border-bottom:1px solid #d5d8dc}th{background:#f2f3f4}td.n{text-align:right}</style>"
        "</head><body><h1>tlsweep scans</h1><table id=\"scans\"><thead><tr><th>Scan</th>"
        "<th>Name</th><th>State</th><th class=\"n\">Targets</th><th>Created</th>"
        "<th>Progress</th><th>Downloads</th></tr></thead><tbody>";
    for (const ScanRow& scan : *scans) {
      const std::string base = absl::StrCat("/scans/", UrlEncode(scan.scan_id));
      absl::StrAppend(&html, "<tr><td><a href=\"", HtmlEscape(base), "\">",
                      HtmlEscape(scan.scan_id), "</a></td><td>", HtmlEscape(scan.name), "</td><td>",
                      HtmlEscape(scan.state), "</td><td class=\"n\">", scan.targets, "</td><td>",
                      UtcTime(scan.created_ms), "</td><td>",
                      HtmlEscape(absl::StrJoin(scan.progress, "; ")), "</td><td><a href=\"",
                      HtmlEscape(base + "/report.json"), "\">JSON</a> <a href=\"",
                      HtmlEscape(base + "/report.csv"), "\">CSV</a></td></tr>");
    }
    if (scans->empty()) absl::StrAppend(&html, "<tr><td colspan=\"7\">No scans yet.</td></tr>");
    absl::StrAppend(&html, "</tbody></table></body></html>\n");
    res.set_content(html, "text/html; charset=utf-8");
  });

  auto serve_report = [=](const httplib::Request& req, httplib::Response& res,
                          absl::string_view format) {
    if (!authorized(req)) return deny(res);
    ReportOptions report_options;
    report_options.scan_id = req.matches[1];
    report_options.max_domains = opts->max_domains;
    const size_t candidates = req.get_param_value_count("candidate");
    for (size_t i = 0; i < candidates; ++i) {
      report_options.candidates.push_back(req.get_param_value("candidate", i));
    }
    if (req.has_param("against")) report_options.against_scan_id = req.get_param_value("against");
    if (req.has_param("baseline")) report_options.baseline = req.get_param_value("baseline");
    std::optional<CandidateOffers> offers;
    if (opts->registry != nullptr) {
      offers.emplace(*opts->registry);
      report_options.offers = &*offers;
    }
    auto db = SqliteDb::Open(opts->db_path);
    if (!db.ok()) return fail(res, db.status());
    if (!req.has_param("against")) {  // A scheduled run: against the schedule's previous run.
      auto previous = PreviousScheduledRun(**db, report_options.scan_id);
      if (previous.ok() && previous->has_value()) report_options.against_scan_id = **previous;
    }
    std::lock_guard<std::mutex> lock(*build_mutex);
    absl::StatusOr<Report> report = BuildReport(**db, report_options, opts->what_if);
    if (!report.ok()) return fail(res, report.status());
    const std::string file = absl::StrCat("tlsweep-", report_options.scan_id);
    if (format == "html") {
      std::string html = RenderHtml(*report);
      // Download links for the same view (the browser's session cookie goes along).
      const std::string base = absl::StrCat("/scans/", UrlEncode(report_options.scan_id));
      const std::string links = absl::StrCat(
          "<p class=\"noprint meta\"><a href=\"/\">All scans</a> &middot; Download <a href=\"",
          HtmlEscape(base + "/report.json"), "\">JSON</a> &middot; <a href=\"",
          HtmlEscape(base + "/report.csv"), "\">CSV</a></p>");
      const size_t at = html.find("</header>");
      if (at != std::string::npos) html.insert(at, links);
      res.set_content(html, "text/html; charset=utf-8");
    } else if (format == "json") {
      res.set_header("Content-Disposition",
                     absl::StrCat("attachment; filename=\"", file, ".json\""));
      res.set_content(RenderJson(*report), "application/json");
    } else {
      std::ostringstream csv;
      if (absl::Status status = WriteDomainsCsv(**db, report_options, csv); !status.ok()) {
        return fail(res, status);
      }
      res.set_header("Content-Disposition",
                     absl::StrCat("attachment; filename=\"", file, ".csv\""));
      res.set_content(csv.str(), "text/csv; charset=utf-8");
    }
  };
  server.Get(
      R"(/scans/([A-Za-z0-9_.-]+))",
      [=](const httplib::Request& req, httplib::Response& res) { serve_report(req, res, "html"); });
  server.Get(
      R"(/scans/([A-Za-z0-9_.-]+)/report\.json)",
      [=](const httplib::Request& req, httplib::Response& res) { serve_report(req, res, "json"); });
  server.Get(
      R"(/scans/([A-Za-z0-9_.-]+)/report\.csv)",
      [=](const httplib::Request& req, httplib::Response& res) { serve_report(req, res, "csv"); });

  server.set_payload_max_length(self->options_.max_request_body_bytes);
  server.set_read_timeout(self->options_.read_timeout_seconds, 0);
  server.set_write_timeout(30, 0);
  server.set_keep_alive_max_count(20);
  const int threads = std::max(self->options_.threads, 2);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  if (self->options_.port == 0) {
    self->port_ = server.bind_to_any_port(self->options_.host);
  } else {
    self->port_ =
        server.bind_to_port(self->options_.host, self->options_.port) ? self->options_.port : -1;
  }
  if (self->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", self->options_.host, ":", self->options_.port));
  }
  self->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return self;
}

void ReportServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

ReportServer::~ReportServer() { Stop(); }

}  // namespace tlsweep::coordinator::report
