// Report scale: synthesises a coordinator store with one finished scan of N domains (default
// 1,000,000) x 1 region x 2 candidates, with MX hosts skewed over a few thousand endpoints the
// way real mail is (a few providers serve most domains), then times separately:
//   1. indexing (result_index: every result blob parsed once into the report tables),
//   2. building the report (indexed SQL over rollups, endpoints and domains),
//   3. rendering text / JSON / HTML, and streaming the per-domain CSV.
//
//   report_bench [--domains N] [--dir DIR] [--keep]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/result_index.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/store.h"
#include "coordinator/store/store_rows.h"

namespace {

namespace report = ::tlsweep::coordinator::report;
using ::tlsweep::coordinator::SqliteDb;
using ::tlsweep::coordinator::SqliteStatement;
namespace v1 = ::tlsweep::v1;

constexpr int64_t kShardSize = 1000;
constexpr int kEndpoints = 4000;
constexpr int64_t kNowMs = 1'700'000'000'000;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
    exit(1);
  }
}

v1::TlsClientSettings Candidate(bool modern) {
  v1::TlsClientSettings c;
  c.set_name(modern ? "modern" : "compat");
  c.set_backend(modern ? "openssl" : "gnutls");
  if (modern) {
    c.set_openssl_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20");
    c.set_min_version(v1::TLSV1_2);
    c.set_tls_required(true);
  } else {
    c.set_gnutls_priority("NORMAL");
  }
  return c;
}

// The outcome one endpoint gives one candidate: fixed per endpoint, so endpoint verdicts are
// consistent across the domains that share it (as the agent's endpoint cache makes them).
v1::ProbeResult EndpointTemplate(int endpoint, bool modern) {
  // Transport and STARTTLS behaviour belong to the endpoint; TLS outcomes to the candidate.
  std::mt19937 endpoint_random(endpoint);
  const int server_roll = static_cast<int>(endpoint_random() % 1000);
  std::mt19937 random(endpoint * 2 + (modern ? 1 : 0));
  const int roll = static_cast<int>(random() % 1000);
  v1::ProbeResult r;
  r.set_mx_host(absl::StrCat("mx", endpoint % 3, ".provider", endpoint, ".example"));
  r.set_address(absl::StrCat("198.51.", endpoint / 250, ".", endpoint % 250));
  r.set_port(25);
  r.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  r.set_started_unix_ms(kNowMs);
  r.set_provider(absl::StrCat("provider", endpoint, ".example"));
  *r.mutable_tls_settings() = Candidate(modern);
  r.mutable_banner()->set_code(220);
  r.mutable_banner()->set_text(absl::StrCat(r.mx_host(), " ESMTP ready"));
  r.mutable_ehlo()->set_code(250);
  for (const char* k : {"PIPELINING", "SIZE", "STARTTLS", "8BITMIME", "SMTPUTF8"}) {
    r.add_ehlo_keywords(k);
  }
  r.mutable_timings()->set_total_us(120'000 + roll * 100);
  // Endpoint 0..9 are the big providers: always fine.
  const bool big = endpoint < 10;
  v1::ProbeFailure failure = v1::PROBE_OK;
  if (!big) {
    if (server_roll < 10) {
      failure = v1::TCP_TIMEOUT;
    } else if (server_roll < 40) {
      failure = v1::STARTTLS_NOT_OFFERED;
    } else if (modern && roll < 120) {
      failure = v1::TLS_PROTOCOL_VERSION;
    } else if (modern && roll < 150) {
      failure = v1::TLS_NO_SHARED_CIPHER;
    } else if (!modern && roll < 10) {
      failure = v1::TLS_ALERT_RECEIVED;
    }
  }
  r.set_failure(failure);
  v1::TlsHandshake* tls = r.mutable_tls();
  tls->set_backend(r.tls_settings().backend());
  if (failure == v1::PROBE_OK) {
    tls->set_success(true);
    const bool tls13 = big || roll % 3 != 0;
    tls->set_version(tls13 ? v1::TLSV1_3 : (roll % 7 == 0 && !modern ? v1::TLSV1_0 : v1::TLSV1_2));
    tls->mutable_suite()->set_iana_name(tls13 ? "TLS_AES_256_GCM_SHA384"
                                              : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    tls->set_group(roll % 4 == 0 ? "secp256r1" : "x25519");
    v1::CertificateSummary* leaf = tls->add_peer_chain();
    leaf->set_subject(absl::StrCat("CN=", r.mx_host()));
    leaf->set_issuer("CN=Example CA,O=Example");
    leaf->add_dns_names(r.mx_host());
    leaf->set_key_type(roll % 5 == 0 ? "EC" : "RSA");
    leaf->set_key_bits(roll % 5 == 0 ? 256 : (roll % 11 == 0 ? 4096 : 2048));
    leaf->set_not_after_unix(kNowMs / 1000 + (roll % 13 == 0 ? 10 : 200) * 86400);
    leaf->set_sha256_fingerprint(std::string(64, 'a'));
    tls->mutable_verification()->set_performed(true);
    tls->mutable_verification()->set_trusted(roll % 17 != 0);
    tls->mutable_verification()->set_hostname_match(roll % 9 != 0);
  } else if (failure >= v1::TLS_ALERT_RECEIVED) {
    tls->set_alert_code(failure == v1::TLS_PROTOCOL_VERSION ? 70 : 40);
    tls->set_alert_name(failure == v1::TLS_PROTOCOL_VERSION ? "protocol_version"
                                                            : "handshake_failure");
  }
  return r;
}

int Synthesise(const std::string& path, int64_t domains) {
  Check(tlsweep::coordinator::OpenSqliteStore(path).status(), "open store");  // The schema.
  auto opened = SqliteDb::Open(path);
  Check(opened.status(), "open");
  SqliteDb& db = **opened;
  Check(db.Exec("PRAGMA synchronous=OFF"), "pragma");
  v1::ProbeProfile profile;
  *profile.add_candidates() = Candidate(true);
  *profile.add_candidates() = Candidate(false);
  const int64_t shards = (domains + kShardSize - 1) / kShardSize;
  {
    auto scan = db.Prepare(
        "INSERT INTO scans(scan_id, name, profile, regions, state, targets, lines, shard_size, "
        "shards, default_port, max_attempts, created_ms, finished_ms) "
        "VALUES('bench','1M bench',?,'eu',3,?,?,?,?,25,3,?,?)");
    Check(scan.status(), "prepare scan");
    scan->BindBlob(1, profile.SerializeAsString()).Bind(2, domains).Bind(3, domains);
    scan->Bind(4, kShardSize).Bind(5, shards).Bind(6, kNowMs).Bind(7, kNowMs + 3600'000);
    Check(scan->Run(), "insert scan");
  }
  std::vector<std::pair<v1::ProbeResult, v1::ProbeResult>> templates;
  for (int e = 0; e < kEndpoints; ++e) {
    templates.emplace_back(EndpointTemplate(e, true), EndpointTemplate(e, false));
  }
  auto target = db.Prepare(
      "INSERT INTO targets(scan_id, ordinal, line_number, input, key, domain, weight) "
      "VALUES('bench',?,?,?,?,?,?)");
  auto result =
      db.Prepare("INSERT INTO results VALUES('bench','eu',?,0,?,?,?,?,?,?,?,?,'starttls',?,?)");
  auto unit = db.Prepare(
      "INSERT INTO units(scan_id, region, kind, shard, state, attempts, lease_id, agent_id, "
      "targets, results) VALUES('bench','eu',?5,?1,?6,1,?2,'bench-agent',?3,?4)");
  Check(target.status(), "prepare target");
  Check(result.status(), "prepare result");
  Check(unit.status(), "prepare unit");
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> uniform(0, 1);
  int64_t rows = 0;
  std::string blob;
  for (int64_t shard = 0; shard < shards; ++shard) {
    Check(db.Begin(), "begin");
    int64_t idx = 0;
    const int64_t first = shard * kShardSize;
    const int64_t last = std::min(domains, first + kShardSize);
    for (int64_t i = first; i < last; ++i) {
      const std::string domain = absl::StrCat("d", i, ".example");
      const int64_t line = i + 1;
      // Mail volume: heavy-tailed (a few domains carry most of it).
      const double weight =
          std::max(1.0, std::floor(1e6 / std::pow(static_cast<double>(i + 1), 0.9)));
      target->Bind(1, i).Bind(2, line).Bind(3, absl::StrCat(domain, ",", weight));
      target->Bind(4, domain).Bind(5, domain).Bind(6, weight);
      Check(target->Run(), "insert target");
      const double u = uniform(random);
      if (u < 0.02) {  // NXDOMAIN: one result per candidate, no MX.
        for (bool modern : {true, false}) {
          v1::ProbeResult r;
          r.set_target(domain);
          r.set_domain(domain);
          r.set_line_number(line);
          r.set_failure(v1::DNS_NXDOMAIN);
          r.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
          *r.mutable_tls_settings() = Candidate(modern);
          r.SerializeToString(&blob);
          result->Bind(1, shard).Bind(2, idx++).Bind(3, line).Bind(4, domain).Bind(5, domain);
          result->Bind(6, "").Bind(7, "").Bind(8, int64_t{0}).Bind(9, r.tls_settings().name());
          result->Bind(10, int64_t{v1::DNS_NXDOMAIN}).BindBlob(11, blob);
          Check(result->Run(), "insert result");
          ++rows;
        }
        continue;
      }
      const int mx_count = u < 0.72 ? 1 : (u < 0.96 ? 2 : 3);
      for (int m = 0; m < mx_count; ++m) {
        // Skewed endpoint choice: the low indices (big providers) take most domains.
        const int endpoint =
            static_cast<int>(kEndpoints * std::pow(uniform(random), 3.0)) % kEndpoints;
        for (bool modern : {true, false}) {
          v1::ProbeResult r = modern ? templates[endpoint].first : templates[endpoint].second;
          r.set_target(absl::StrCat(domain, ",", weight));
          r.set_domain(domain);
          r.set_line_number(line);
          r.set_mx_preference(10 * (m + 1));
          r.set_reused(true);
          r.SerializeToString(&blob);
          result->Bind(1, shard).Bind(2, idx++).Bind(3, line).Bind(4, r.target());
          result->Bind(5, domain).Bind(6, r.mx_host()).Bind(7, r.address());
          result->Bind(8, int64_t{25}).Bind(9, r.tls_settings().name());
          result->Bind(10, int64_t{r.failure()}).BindBlob(11, blob);
          Check(result->Run(), "insert result");
          ++rows;
        }
      }
    }
    unit->Bind(1, shard).Bind(2, shard + 1).Bind(3, last - first).Bind(4, idx);
    unit->Bind(5, int64_t{tlsweep::coordinator::kTargetUnit});
    unit->Bind(6, int64_t{tlsweep::coordinator::kDone});
    Check(unit->Run(), "insert unit");
    Check(db.Commit(), "commit");
  }
  return static_cast<int>(std::min<int64_t>(rows, INT32_MAX));
}

}  // namespace

int main(int argc, char** argv) {
  int64_t domains = 1'000'000;
  std::string dir = "/tmp";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--domains") && i + 1 < argc) {
      domains = atoll(argv[++i]);
    } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!strcmp(argv[i], "--keep")) {
      keep = true;
    } else {
      fprintf(stderr, "usage: report_bench [--domains N] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  const std::string path = absl::StrCat(dir, "/tlsweep-report-bench-", getpid(), ".db");
  auto start = std::chrono::steady_clock::now();
  const int rows = Synthesise(path, domains);
  printf(
      "synthesised %lld domains, %d result rows (1 region x 2 candidates, %d endpoints) "
      "in %.1f s\n",
      static_cast<long long>(domains), rows, kEndpoints, Seconds(start));

  auto db = SqliteDb::Open(path);
  Check(db.status(), "open");
  start = std::chrono::steady_clock::now();
  auto stats = report::CatchUp(**db, "bench");
  Check(stats.status(), "index");
  printf(
      "index:  %.2f s  (%lld units, %lld results parsed, %lld domain verdicts; once per "
      "result, as shards finish)\n",
      Seconds(start), static_cast<long long>(stats->units), static_cast<long long>(stats->results),
      static_cast<long long>(stats->domains));

  report::ReportOptions options;
  options.scan_id = "bench";
  for (int run = 0; run < 2; ++run) {
    start = std::chrono::steady_clock::now();
    auto built = report::BuildReport(**db, options);
    Check(built.status(), "build");
    const double build_s = Seconds(start);
    start = std::chrono::steady_clock::now();
    const std::string text = report::RenderText(*built);
    const std::string json = report::RenderJson(*built);
    const std::string html = report::RenderHtml(*built);
    printf("report %s: build %.3f s, render text+json+html %.3f s (%zu / %zu / %zu bytes)\n",
           run == 0 ? "(cold)" : "(warm)", build_s, Seconds(start), text.size(), json.size(),
           html.size());
    if (run == 1) printf("\n%s\n", text.c_str());
  }
  start = std::chrono::steady_clock::now();
  {
    std::ofstream csv(path + ".csv");
    Check(report::WriteDomainsCsv(**db, options, csv), "csv");
  }
  printf("csv (every domain x candidate): %.2f s\n", Seconds(start));
  if (!keep) {
    for (const char* suffix : {"", "-wal", "-shm", ".csv"}) unlink((path + suffix).c_str());
  } else {
    printf("kept %s\n", path.c_str());
  }
  return 0;
}
