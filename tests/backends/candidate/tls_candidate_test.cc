// Candidates built from settings with the real plugins: the expanded offer travels with the
// candidate, and the cache expands each distinct candidate once however often it is asked.
#include "backends/candidate/tls_candidate.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "backends/candidate/candidate_cache.h"
#include "backends/candidate/candidate_spec.h"

namespace tlsweep::backends {
namespace {

BackendRegistry Registry() {
  absl::StatusOr<BackendRegistry> registry =
      BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

tlsweep::v1::TlsClientSettings Spec(const char* spec) {
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = ParseCandidateSpec(spec);
  EXPECT_TRUE(settings.ok()) << spec << ": " << settings.status();
  return *settings;
}

TEST(TlsCandidateTest, CarriesTheOfferItsBackendExpands) {
  BackendRegistry registry = Registry();
  absl::StatusOr<TlsCandidate> candidate =
      BuildCandidate(Spec("name=cbc ciphers=AES256-SHA max=TLSv1.2"), registry, "");
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  absl::StatusOr<Offer> again = candidate->backend->Expand(candidate->config);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(candidate->offer.suites.size(), again->suites.size());
  std::set<uint16_t> codes;
  for (const OfferedSuite& suite : candidate->offer.suites) codes.insert(suite.code_point);
  EXPECT_EQ(codes, std::set<uint16_t>{0x0035}) << "AES256-SHA alone";
  EXPECT_EQ(candidate->settings.backend(), "openssl");
}

TEST(TlsCandidateTest, ConfigFromSettingsAndItsErrors) {
  tlsweep::v1::TlsClientSettings settings = Spec("name=g groups=x25519:secp384r1 min=TLSv1.2");
  absl::StatusOr<ClientConfig> config = ClientConfigFromSettings(settings, "/ca.pem");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->groups, (std::vector<uint16_t>{29, 24}));
  EXPECT_EQ(config->min_version, TlsVersion::kTls1_2);
  EXPECT_EQ(config->ca_file, "/ca.pem");
  settings.add_groups("no-such-group");
  EXPECT_FALSE(ClientConfigFromSettings(settings, "").ok());

  BackendRegistry registry = Registry();
  absl::StatusOr<TlsCandidate> none = BuildCandidate(Spec("name=x ciphers=NOPE"), registry, "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("candidate 'x'"), absl::string_view::npos)
      << none.status();
}

TEST(CandidateCacheTest, EachDistinctCandidateIsBuiltOnce) {
  BackendRegistry registry = Registry();
  CandidateCache cache(registry, "");
  const tlsweep::v1::TlsClientSettings a = Spec("name=a ciphers=ECDHE+AESGCM");
  const tlsweep::v1::TlsClientSettings b = Spec("name=b backend=gnutls priority=NORMAL");
  std::vector<std::thread> units;
  for (int i = 0; i < 8; ++i) {
    units.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        ASSERT_TRUE(cache.Get(j % 2 == 0 ? a : b).ok());
      }
    });
  }
  for (std::thread& unit : units) unit.join();
  // Two units may race on the first build of a candidate; after that, every Get is a hit.
  EXPECT_GE(cache.built(), 2);
  EXPECT_LE(cache.built(), 2 * 8);
  const int64_t before = cache.built();
  absl::StatusOr<TlsCandidate> hit = cache.Get(a);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(cache.built(), before);
  EXPECT_EQ(hit->name, "a");
  EXPECT_FALSE(hit->offer.suites.empty());
  EXPECT_FALSE(cache.Get(Spec("name=bad ciphers=NOPE")).ok());
  EXPECT_EQ(cache.built(), before) << "failures are not cached as candidates";
}

}  // namespace
}  // namespace tlsweep::backends
