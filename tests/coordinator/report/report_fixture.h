// A coordinator store holding known results, written through the Store API exactly as agents'
// batches arrive, so the report tests can compare aggregates with hand-counted totals.
//
// Scan "current" (regions eu, us; candidates modern = openssl, TLS required, and
// compat = gnutls, opportunistic), weights in the list:
//
//   line domain           weight  MX (preference)                   modern            compat
//   1    alpha.example    100     mx1.alpha 10 [192.0.2.1]          no shared cipher  ok TLS1.2
//                                 mx2.alpha 20 [192.0.2.2]          ok TLS1.3         ok TLS1.3
//   2    beta.example     50      mx.shared 10 [198.51.100.1]       protocol version  ok TLS1.0
//   3    gamma.example    30      mx.shared 10 [198.51.100.1]       protocol version  ok TLS1.0
//   4    delta.example    15      mx.delta 10 [203.0.113.4]         STARTTLS missing  same
//                                 (from us: TCP timeout, filtered)
//   5    epsilon.example  5       NXDOMAIN                          NXDOMAIN          NXDOMAIN
//
// Scan "before" (eu only): the same list, where beta passed modern (TLS 1.2), beta failed compat
// (no shared cipher) and alpha's compat handshake was TLS 1.3.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/store/store.h"

namespace tlsweep::testing {

constexpr int64_t kProbeTimeMs = 1'700'000'000'000;

struct ReportStore {
  std::string dir;
  std::string path;  // The SQLite file.
  std::unique_ptr<coordinator::Store> store;
  std::string before_id;   // Finished.
  std::string current_id;  // eu finished; us leased but not complete unless complete_us.
  uint64_t us_lease = 0;
};

// Creates the store in a fresh temporary directory. `with_enumerations` adds enumeration
// results to scan "current" in eu (EnumerationResults in report_fixture.cc):
//   alpha  mx1 TLS 1.2 ECDHE-AES-GCM, mx2 TLS 1.0 3DES only   -> strong, TLS 1.2
//   beta, gamma  mx.shared TLS 1.0 3DES and RC4, SSLv3 RC4 (raw, unconfirmable) -> 3DES, TLS 1.0
//   delta  TLS 1.2 cut short (INCOMPLETE)                      -> unknown
absl::StatusOr<ReportStore> MakeReportStore(bool complete_us, bool with_enumerations = false);

// Completes scan "current"'s us lease (when MakeReportStore left it open).
absl::Status CompleteUs(ReportStore& store);

// Report options for `scan_id`, compared with `against` when given, for `candidates` (all
// when empty).
coordinator::report::ReportOptions For(const std::string& scan_id, const std::string& against = "",
                                       std::vector<std::string> candidates = {});

}  // namespace tlsweep::testing
