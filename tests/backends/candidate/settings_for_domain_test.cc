#include "backends/candidate/settings_for_domain.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsweep::backends {
namespace {

tlsweep::v1::TlsClientSettings Candidate() {
  tlsweep::v1::TlsClientSettings candidate;
  candidate.set_name("global");
  auto add = [&](std::initializer_list<const char*> domains, const char* ciphers,
                 bool next_hop = false) {
    tlsweep::v1::DomainOverride& entry = *candidate.add_overrides();
    for (const char* domain : domains) entry.add_domains(domain);
    entry.mutable_settings()->set_name("global");
    entry.mutable_settings()->set_openssl_ciphers(ciphers);
    entry.set_next_hop(next_hop);
  };
  add({"example.com"}, "exact");
  add({".example.com"}, "parent");
  add({".b.example.com", "other.test"}, "nearer-parent");
  add({"example.com"}, "second-exact");  // Never wins: the first listed does.
  add({"[mx.example.com]:587", "example.net:25"}, "next-hop", /*next_hop=*/true);
  return candidate;
}

std::string CiphersFor(const tlsweep::v1::TlsClientSettings& candidate, const char* domain) {
  const tlsweep::v1::TlsClientSettings& settings = SettingsForDomain(candidate, domain);
  return &settings == &candidate ? "(global)" : settings.openssl_ciphers();
}

TEST(SettingsForDomainTest, ExactThenNearestParentThenGlobal) {
  const tlsweep::v1::TlsClientSettings candidate = Candidate();
  EXPECT_EQ(CiphersFor(candidate, "example.com"), "exact");
  EXPECT_EQ(CiphersFor(candidate, "a.example.com"), "parent");
  EXPECT_EQ(CiphersFor(candidate, "x.y.example.com"), "parent");
  EXPECT_EQ(CiphersFor(candidate, "b.example.com"), "parent");  // .b.example.com: its subdomains.
  EXPECT_EQ(CiphersFor(candidate, "c.b.example.com"), "nearer-parent");
  EXPECT_EQ(CiphersFor(candidate, "other.test"), "nearer-parent");
  EXPECT_EQ(CiphersFor(candidate, "sub.other.test"), "(global)");  // Exact key: itself only.
  EXPECT_EQ(CiphersFor(candidate, "notexample.com"), "(global)");
  EXPECT_EQ(CiphersFor(candidate, "com"), "(global)");
  EXPECT_EQ(CiphersFor(candidate, ""), "(global)");
  // Spelling: case and a trailing dot do not matter.
  EXPECT_EQ(CiphersFor(candidate, "Example.COM."), "exact");
  // Next-hop keys are not domains.
  EXPECT_EQ(CiphersFor(candidate, "example.net"), "(global)");
  EXPECT_EQ(CiphersFor(candidate, "[mx.example.com]:587"), "(global)");
  const tlsweep::v1::DomainOverride* entry = OverrideForDomain(candidate, "a.example.com");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->domains(0), ".example.com");
}

TEST(SettingsForDomainTest, IndexAgreesWithTheScan) {
  const tlsweep::v1::TlsClientSettings candidate = Candidate();
  const DomainSettingsIndex index(candidate);
  for (const char* domain :
       {"example.com", "a.example.com", "b.example.com", "c.b.example.com", "other.test",
        "sub.other.test", "example.net", "Example.COM.", "x", ""}) {
    EXPECT_EQ(&index.For(domain), &SettingsForDomain(candidate, domain)) << domain;
    EXPECT_EQ(index.OverrideFor(domain), OverrideForDomain(candidate, domain)) << domain;
  }
  tlsweep::v1::TlsClientSettings plain;
  EXPECT_EQ(&SettingsForDomain(plain, "example.com"), &plain);
  EXPECT_EQ(&DomainSettingsIndex(plain).For("example.com"), &plain);
}

}  // namespace
}  // namespace tlsweep::backends
