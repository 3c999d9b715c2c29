#include "tests/coordinator/report/report_fixture.h"

#include <stdlib.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/status_macros.h"

namespace tlsweep::testing {
namespace {

using ::tlsweep::v1::ProbeFailure;
using ::tlsweep::v1::ProbeResult;

struct Tls {
  v1::TlsVersion version = v1::TLSV1_3;
  std::string suite = "TLS_AES_256_GCM_SHA384";
  std::string group = "x25519";
  int expiry_days = 365;
  bool hostname_match = true;
};

v1::TlsClientSettings Candidate(const std::string& name) {
  v1::TlsClientSettings settings;
  settings.set_name(name);
  if (name == "modern") {
    settings.set_backend("openssl");
    settings.set_openssl_ciphers("ECDHE+AESGCM");
    settings.set_min_version(v1::TLSV1_2);
    settings.set_tls_required(true);
  } else {
    settings.set_backend("gnutls");
    settings.set_gnutls_priority("NORMAL");
  }
  return settings;
}

ProbeResult Base(uint64_t line, const std::string& domain, const std::string& mx, uint32_t pref,
                 const std::string& address, const std::string& candidate) {
  ProbeResult r;
  r.set_target(domain);
  r.set_domain(domain);
  r.set_mx_host(mx);
  r.set_mx_preference(pref);
  r.set_address(address);
  r.set_port(address.empty() ? 0 : 25);
  r.set_line_number(line);
  r.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  r.set_started_unix_ms(kProbeTimeMs);
  *r.mutable_tls_settings() = Candidate(candidate);
  return r;
}

ProbeResult Ok(uint64_t line, const std::string& domain, const std::string& mx, uint32_t pref,
               const std::string& address, const std::string& candidate, const Tls& tls) {
  ProbeResult r = Base(line, domain, mx, pref, address, candidate);
  r.set_failure(v1::PROBE_OK);
  v1::TlsHandshake* h = r.mutable_tls();
  h->set_success(true);
  h->set_backend(r.tls_settings().backend());
  h->set_version(tls.version);
  h->mutable_suite()->set_iana_name(tls.suite);
  h->set_group(tls.group);
  v1::CertificateSummary* leaf = h->add_peer_chain();
  leaf->set_key_type("RSA");
  leaf->set_key_bits(2048);
  leaf->set_not_after_unix(kProbeTimeMs / 1000 + int64_t{tls.expiry_days} * 86400);
  h->mutable_verification()->set_performed(true);
  h->mutable_verification()->set_trusted(true);
  h->mutable_verification()->set_hostname_match(tls.hostname_match);
  return r;
}

ProbeResult Fail(uint64_t line, const std::string& domain, const std::string& mx, uint32_t pref,
                 const std::string& address, const std::string& candidate, ProbeFailure failure,
                 int alert = -1) {
  ProbeResult r = Base(line, domain, mx, pref, address, candidate);
  r.set_failure(failure);
  if (failure >= v1::TLS_ALERT_RECEIVED && failure <= v1::TLS_INTERNAL_ERROR) {
    r.mutable_tls()->set_success(false);
    r.mutable_tls()->set_alert_code(alert);
    if (failure == v1::TLS_NO_SHARED_CIPHER) {
      r.mutable_tls()->set_failure(v1::TLS_FAILURE_NO_SHARED_CIPHER);
      r.mutable_tls()->set_alert_name("handshake_failure");
    }
    if (failure == v1::TLS_PROTOCOL_VERSION) {
      r.mutable_tls()->set_failure(v1::TLS_FAILURE_PROTOCOL_VERSION);
      r.mutable_tls()->set_alert_name("protocol_version");
    }
  }
  return r;
}

const Tls kModern13{};
const Tls kCompat12{v1::TLSV1_2, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1", 365, true};
const Tls kShared10{v1::TLSV1_0, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "secp256r1", 10, false};

// Scan "current", one region. us: mx.delta is filtered (TCP timeout).
std::vector<ProbeResult> CurrentResults(bool us) {
  std::vector<ProbeResult> r;
  const std::string a1 = "192.0.2.1", a2 = "192.0.2.2", sh = "198.51.100.1", de = "203.0.113.4";
  r.push_back(Fail(1, "alpha.example", "mx1.alpha.example", 10, a1, "modern",
                   v1::TLS_NO_SHARED_CIPHER, 40));
  r.push_back(Ok(1, "alpha.example", "mx2.alpha.example", 20, a2, "modern", kModern13));
  r.push_back(Ok(1, "alpha.example", "mx1.alpha.example", 10, a1, "compat", kCompat12));
  r.push_back(Ok(1, "alpha.example", "mx2.alpha.example", 20, a2, "compat", kModern13));
  for (auto [line, domain] :
       std::vector<std::pair<int, std::string>>{{2, "beta.example"}, {3, "gamma.example"}}) {
    r.push_back(
        Fail(line, domain, "mx.shared.example", 10, sh, "modern", v1::TLS_PROTOCOL_VERSION, 70));
    r.push_back(Ok(line, domain, "mx.shared.example", 10, sh, "compat", kShared10));
  }
  for (const char* candidate : {"modern", "compat"}) {
    r.push_back(Fail(4, "delta.example", "mx.delta.example", 10, de, candidate,
                     us ? v1::TCP_TIMEOUT : v1::STARTTLS_NOT_OFFERED));
    r.push_back(Fail(5, "epsilon.example", "", 0, "", candidate, v1::DNS_NXDOMAIN));
  }
  return r;
}

std::vector<ProbeResult> BeforeResults() {
  std::vector<ProbeResult> r;
  for (const ProbeResult& result : CurrentResults(false)) {
    const bool modern = result.tls_settings().name() == "modern";
    if (result.domain() == "beta.example") {
      r.push_back(
          modern ? Ok(2, "beta.example", "mx.shared.example", 10, "198.51.100.1", "modern",
                      {v1::TLSV1_2, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "x25519", 365, true})
                 : Fail(2, "beta.example", "mx.shared.example", 10, "198.51.100.1", "compat",
                        v1::TLS_NO_SHARED_CIPHER, 40));
    } else if (result.domain() == "alpha.example" && !modern &&
               result.mx_host() == "mx1.alpha.example") {
      r.push_back(
          Ok(1, "alpha.example", "mx1.alpha.example", 10, "192.0.2.1", "compat", kModern13));
    } else {
      r.push_back(result);
    }
  }
  return r;
}

ProbeResult Enumerated(uint64_t line, const std::string& domain, const std::string& mx,
                       const std::string& address,
                       const std::vector<std::pair<v1::TlsVersion, std::vector<uint32_t>>>& found,
                       bool cut_short = false) {
  ProbeResult r = Base(line, domain, mx, 10, address, "modern");
  r.set_probe_kind(tlsweep::v1::PROBE_KIND_ENUMERATE);
  r.clear_tls_settings();
  r.set_failure(v1::PROBE_OK);
  for (const auto& [version, suites] : found) {
    v1::VersionEnumeration* v = r.mutable_enumeration()->add_versions();
    v->set_version(version);
    v->set_status(suites.empty() ? v1::VersionEnumeration::NOT_SUPPORTED
                                 : v1::VersionEnumeration::SUPPORTED);
    v->set_confirmation(v1::VersionEnumeration::CONFIRMED);
    for (uint32_t code : suites) v->add_suites()->set_code_point(code);
    if (version == v1::SSLV3) {
      v->set_confirmation(v1::VersionEnumeration::UNCONFIRMABLE);
      for (uint32_t code : suites) v->add_unconfirmable_suites(code);
    }
  }
  if (cut_short) {
    r.mutable_enumeration()->mutable_versions(0)->set_status(v1::VersionEnumeration::INCOMPLETE);
  }
  return r;
}

std::vector<ProbeResult> EnumerationResults() {
  std::vector<ProbeResult> r;
  r.push_back(Enumerated(1, "alpha.example", "mx1.alpha.example", "192.0.2.1",
                         {{v1::TLSV1_2, {0xC02F}}, {v1::TLSV1_0, {}}}));
  r.push_back(
      Enumerated(1, "alpha.example", "mx2.alpha.example", "192.0.2.2", {{v1::TLSV1_0, {0x000A}}}));
  for (auto [line, domain] :
       std::vector<std::pair<int, std::string>>{{2, "beta.example"}, {3, "gamma.example"}}) {
    r.push_back(
        Enumerated(line, domain, "mx.shared.example", "198.51.100.1",
                   {{v1::TLSV1_2, {}}, {v1::TLSV1_0, {0x000A, 0x0005}}, {v1::SSLV3, {0x0004}}}));
  }
  r.push_back(Enumerated(4, "delta.example", "mx.delta.example", "203.0.113.4",
                         {{v1::TLSV1_2, {0xC02F}}}, /*cut_short=*/true));
  return r;
}

absl::StatusOr<std::string> SubmitScan(coordinator::Store& store, const std::string& name,
                                       const std::vector<std::string>& regions, int64_t now) {
  coordinator::ScanSpec spec;
  spec.name = name;
  spec.regions = regions;
  spec.shard_size = 10;
  *spec.profile.add_candidates() = Candidate("modern");
  *spec.profile.add_candidates() = Candidate("compat");
  ASSIGN_OR_RETURN(std::unique_ptr<coordinator::SubmissionWriter> writer,
                   store.BeginScan(spec, now));
  const std::vector<std::pair<std::string, double>> targets = {{"alpha.example", 100},
                                                               {"beta.example", 50},
                                                               {"gamma.example", 30},
                                                               {"delta.example", 15},
                                                               {"epsilon.example", 5}};
  for (size_t i = 0; i < targets.size(); ++i) {
    coordinator::TargetRow row;
    row.line_number = i + 1;
    row.input = absl::StrCat(targets[i].first, ",", targets[i].second);
    row.key = targets[i].first;
    row.domain = targets[i].first;
    row.weight = targets[i].second;
    ASSIGN_OR_RETURN(bool added, writer->AddTarget(row));
    if (!added) return absl::InternalError("duplicate");
  }
  coordinator::SubmissionStats stats;
  stats.lines = targets.size();
  ASSIGN_OR_RETURN(v1::Scan scan, writer->Finish(stats, now));
  return scan.scan_id();
}

// Leases the region's only shard, sends `results` as one batch; completes it when asked.
absl::StatusOr<uint64_t> RunRegion(coordinator::Store& store, const std::string& region,
                                   const std::vector<ProbeResult>& results, bool complete,
                                   int64_t now) {
  const std::string agent = absl::StrCat("agent-", region);
  ASSIGN_OR_RETURN(auto assignments, store.LeaseShards(agent, region, 1, now, 600'000, true));
  if (assignments.size() != 1) return absl::InternalError("expected one shard");
  v1::ResultBatch batch;
  batch.set_lease_id(assignments[0].lease_id());
  batch.set_seq(0);
  for (const ProbeResult& result : results) *batch.add_results() = result;
  ASSIGN_OR_RETURN(coordinator::BatchOutcome outcome, store.IngestBatch(agent, batch));
  if (outcome != coordinator::BatchOutcome::kAccepted) {
    return absl::InternalError("batch not accepted");
  }
  if (complete) {
    std::string detail;
    ASSIGN_OR_RETURN(bool done, store.CompleteLease(agent, batch.lease_id(), 1, now, &detail));
    if (!done) return absl::InternalError(detail);
  }
  return batch.lease_id();
}

}  // namespace

absl::StatusOr<ReportStore> MakeReportStore(bool complete_us, bool with_enumerations) {
  ReportStore out;
  char dir[] = "/tmp/tlsweep-report-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp");
  out.dir = dir;
  out.path = absl::StrCat(out.dir, "/store.db");
  ASSIGN_OR_RETURN(out.store, coordinator::OpenSqliteStore(out.path));
  ASSIGN_OR_RETURN(out.before_id, SubmitScan(*out.store, "before", {"eu"}, kProbeTimeMs - 1000));
  ASSIGN_OR_RETURN(uint64_t lease,
                   RunRegion(*out.store, "eu", BeforeResults(), true, kProbeTimeMs - 500));
  (void)lease;
  ASSIGN_OR_RETURN(out.current_id, SubmitScan(*out.store, "current", {"eu", "us"}, kProbeTimeMs));
  std::vector<ProbeResult> eu = CurrentResults(false);
  if (with_enumerations) {
    for (ProbeResult& result : EnumerationResults()) eu.push_back(std::move(result));
  }
  ASSIGN_OR_RETURN(lease, RunRegion(*out.store, "eu", eu, true, kProbeTimeMs));
  ASSIGN_OR_RETURN(out.us_lease,
                   RunRegion(*out.store, "us", CurrentResults(true), complete_us, kProbeTimeMs));
  return out;
}

absl::Status CompleteUs(ReportStore& store) {
  std::string detail;
  ASSIGN_OR_RETURN(
      bool done, store.store->CompleteLease("agent-us", store.us_lease, 1, kProbeTimeMs, &detail));
  if (!done) return absl::InternalError(detail);
  return absl::OkStatus();
}

coordinator::report::ReportOptions For(const std::string& scan_id, const std::string& against,
                                       std::vector<std::string> candidates) {
  coordinator::report::ReportOptions options;
  options.scan_id = scan_id;
  options.against_scan_id = against;
  options.candidates = std::move(candidates);
  return options;
}

}  // namespace tlsweep::testing
