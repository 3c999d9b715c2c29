// The what-if evaluator reads results written before probe_kind existed (the deprecated
// `probe` string alone, as old stores and `sweep --out` files hold them) as their kind.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/negotiation/whatif_evaluator.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::ProbeResult;

constexpr uint16_t kEcdheRsaAes128Gcm = 0xC02F;
constexpr uint16_t kP256 = 23;

void SetLegacyProbe(ProbeResult& result, const std::string& probe) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  result.set_probe(probe);
#pragma GCC diagnostic pop
}

ProbeResult Endpoint(const std::string& domain) {
  ProbeResult result;
  result.set_target(domain);
  result.set_domain(domain);
  result.set_mx_host("mx." + domain);
  result.set_address("192.0.2.1");
  result.set_port(25);
  return result;
}

// One enumerated endpoint: TLS 1.2 only, one ECDHE suite over P-256.
ProbeResult Enumerated(const std::string& domain) {
  ProbeResult result = Endpoint(domain);
  tlsweep::v1::VersionEnumeration* version = result.mutable_enumeration()->add_versions();
  version->set_version(VersionToProto(TlsVersion::kTls1_2));
  version->set_status(tlsweep::v1::VersionEnumeration::SUPPORTED);
  version->set_confirmation(tlsweep::v1::VersionEnumeration::CONFIRMED);
  tlsweep::v1::CipherSuite* suite = version->add_suites();
  suite->set_code_point(kEcdheRsaAes128Gcm);
  suite->set_iana_name(CipherSuiteName(kEcdheRsaAes128Gcm));
  version->add_groups(GroupName(kP256));
  version->set_groups_tested(true);
  return result;
}

// A live handshake with `settings` that negotiated that suite.
ProbeResult Live(const std::string& domain, const tlsweep::v1::TlsClientSettings& settings) {
  ProbeResult result = Endpoint(domain);
  *result.mutable_tls_settings() = settings;
  result.mutable_tls()->set_success(true);
  result.mutable_tls()->set_version(VersionToProto(TlsVersion::kTls1_2));
  result.mutable_tls()->mutable_suite()->set_code_point(kEcdheRsaAes128Gcm);
  return result;
}

Offer Tls12Offer() {
  Offer offer;
  offer.versions = {TlsVersion::kTls1_2};
  OfferedSuite suite;
  suite.version = TlsVersion::kTls1_2;
  suite.code_point = kEcdheRsaAes128Gcm;
  offer.suites = {suite};
  offer.groups = {kP256};
  return offer;
}

TEST(WhatIfLegacyTest, LegacyStringResultsCountLikeNewOnes) {
  tlsweep::v1::TlsClientSettings settings;
  settings.set_name("modern");
  settings.set_openssl_ciphers("ECDHE-RSA-AES128-GCM-SHA256");

  std::vector<ProbeResult> results;
  results.push_back(Enumerated("legacy.example"));
  SetLegacyProbe(results.back(), "enumerate");
  results.push_back(Live("legacy.example", settings));
  SetLegacyProbe(results.back(), "starttls");
  results.push_back(Enumerated("new.example"));
  results.back().set_probe_kind(tlsweep::v1::PROBE_KIND_ENUMERATE);
  results.push_back(Live("new.example", settings));
  results.back().set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  // An enumeration that failed, legacy: counted as not enumerated, not as a live probe.
  results.push_back(Endpoint("down.example"));
  results.back().set_failure(tlsweep::v1::TCP_TIMEOUT);
  SetLegacyProbe(results.back(), "enumerate");

  const WhatIfSummary summary = EvaluateWhatIf(results, settings, Tls12Offer());
  EXPECT_EQ(summary.endpoints, 2);
  EXPECT_EQ(summary.not_enumerated, 1);
  EXPECT_EQ(summary.negotiates, 2);
  EXPECT_EQ(summary.live_checked, 2);
  EXPECT_EQ(summary.live_agreed, 2);
  ASSERT_EQ(summary.endpoints_detail.size(), 2u);
  EXPECT_EQ(summary.endpoints_detail[0].domain, "legacy.example");
  EXPECT_TRUE(summary.endpoints_detail[0].live_agrees);
}

}  // namespace
}  // namespace tlsweep::backends
