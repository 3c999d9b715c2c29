// The what-if evaluator against reality: enumerate real Postfix listeners once, predict 22
// candidate configurations (OpenSSL strings and GnuTLS priority strings, some that must fail)
// from the stored enumerations, and compare each prediction with a live handshake of the same
// candidate at the same listener, all through the real sweep pipeline.
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agent/sweep/sweeper.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/negotiation/whatif_evaluator.h"
#include "backends/target/target_list_reader.h"
#include "tests/integration/postfix_lab.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::agent {
namespace {

const char* const kCandidates[] = {
    "name=o-default",
    "name=o-ecdhe-gcm ciphers=ECDHE+AESGCM",
    "name=o-aes256sha ciphers=AES256-SHA max=TLSv1.2",
    "name=o-aes128sha ciphers=AES128-SHA max=TLSv1.2",
    "name=o-high12 ciphers=HIGH:!aNULL min=TLSv1.2",
    "name=o-tls13 min=TLSv1.3",
    "name=o-tls12 max=TLSv1.2",
    "name=o-chacha12 ciphers=ECDHE+CHACHA20 max=TLSv1.2",
    "name=o-mixed ciphers=AES256-SHA:ECDHE+AESGCM max=TLSv1.2",
    "name=o-aes128-13 min=TLSv1.3 ciphersuites=TLS_AES_128_GCM_SHA256",
    "name=o-chacha13 min=TLSv1.3 ciphersuites=TLS_CHACHA20_POLY1305_SHA256",
    "name=o-p384 groups=secp384r1",
    "name=o-tls11 max=TLSv1.1 legacy=yes",
    "name=o-krsa ciphers=kRSA max=TLSv1.2",
    "name=o-one ciphers=ECDHE-RSA-AES256-GCM-SHA384 max=TLSv1.2",
    "name=o-dhe ciphers=DHE+AESGCM max=TLSv1.2",
    "name=g-normal backend=gnutls priority=NORMAL",
    "name=g-no13 backend=gnutls priority=NORMAL:-VERS-TLS1.3",
    "name=g-only13 backend=gnutls priority=NORMAL:-VERS-ALL:+VERS-TLS1.3",
    "name=g-rsa-cbc backend=gnutls "
    "priority=NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-CBC:-KX-ALL:+RSA",
    "name=g-secure256 backend=gnutls priority=SECURE256",
    "name=g-chacha backend=gnutls priority=NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305",
};

TEST(WhatIfPostfixTest, PredictionsFromEnumerationsEqualLiveHandshakes) {
  testing::PostfixFixture* lab = testing::PostfixLab();
  ASSERT_NE(lab, nullptr);
  std::vector<backends::Backend*> backends;
  for (const std::string& name : testing::BuiltBackendNames()) {
    backends.push_back(&testing::GetBackend(name));
  }
  absl::StatusOr<backends::BackendRegistry> registry =
      backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR_FOR_WHATIF);
  ASSERT_TRUE(registry.ok());

  SweepOptions options;
  options.allow_private = true;
  options.enumerate = true;
  options.enumeration_backends = backends;
  options.politeness.per_ip_spacing = std::chrono::milliseconds(0);
  options.politeness.connections_per_second = 0;
  options.probe.ehlo_name = "scanner.example.test";
  std::vector<tlsweep::v1::TlsClientSettings> settings;
  for (const char* spec : kCandidates) {
    absl::StatusOr<tlsweep::v1::TlsClientSettings> parsed = backends::ParseCandidateSpec(spec);
    ASSERT_TRUE(parsed.ok()) << spec << ": " << parsed.status();
    absl::StatusOr<backends::TlsCandidate> candidate =
        backends::BuildCandidate(*parsed, *registry, "");
    ASSERT_TRUE(candidate.ok()) << spec << ": " << candidate.status();
    settings.push_back(candidate->settings);
    options.candidates.push_back(*std::move(candidate));
  }
  std::istringstream targets(absl::StrCat("[", lab->listener("modern").address, "]:25\n[",
                                          lab->listener("defaults").address, "]:25\n[",
                                          lab->listener("tls12_cbc").address, "]:25\n"));
  backends::TargetListReader reader(targets);
  std::vector<tlsweep::v1::ProbeResult> results;
  Sweeper sweeper(std::move(options));
  ASSERT_TRUE(sweeper
                  .Run([&] { return reader.Next(); },
                       [&](tlsweep::v1::ProbeResult result) { results.push_back(result); })
                  .ok());

  int checked = 0;
  int agreed = 0;
  for (size_t i = 0; i < settings.size(); ++i) {
    absl::StatusOr<backends::TlsCandidate> candidate =
        backends::BuildCandidate(settings[i], *registry, "");
    ASSERT_TRUE(candidate.ok());
    const backends::WhatIfSummary summary =
        backends::EvaluateWhatIf(results, settings[i], candidate->offer);
    EXPECT_EQ(summary.endpoints, 3) << settings[i].name();
    EXPECT_EQ(summary.live_checked, 3) << settings[i].name();
    for (const backends::EndpointWhatIf& endpoint : summary.endpoints_detail) {
      EXPECT_TRUE(endpoint.live_agrees)
          << settings[i].name() << " at " << endpoint.address << ": predicted "
          << backends::DescribePrediction(endpoint.prediction) << ", live "
          << endpoint.live_outcome;
    }
    checked += summary.live_checked;
    agreed += summary.live_agreed;
  }
  std::cout << "whatif agreement on Postfix listeners: " << agreed << "/" << checked << "\n";
  EXPECT_EQ(checked, 66);
  EXPECT_EQ(agreed, checked);
}

}  // namespace
}  // namespace tlsweep::agent
