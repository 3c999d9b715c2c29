#include "coordinator/report/weak_dependence.h"

#include <gtest/gtest.h>

namespace tlsweep::coordinator::report {
namespace {

using backends::SuiteClass;
using backends::TlsVersion;
using tlsweep::v1::VersionEnumeration;

VersionEnumeration* Add(tlsweep::v1::Enumeration& e, tlsweep::v1::TlsVersion version,
                        std::vector<uint32_t> suites) {
  VersionEnumeration* v = e.add_versions();
  v->set_version(version);
  v->set_status(suites.empty() ? VersionEnumeration::NOT_SUPPORTED : VersionEnumeration::SUPPORTED);
  for (uint32_t code : suites) v->add_suites()->set_code_point(code);
  return v;
}

TEST(WeakDependenceTest, SuitesThatFailAfterTheServerHelloDoNotCount) {
  tlsweep::v1::Enumeration e;
  Add(e, tlsweep::v1::TLSV1_0, {0x000A});
  VersionEnumeration* tls12 = Add(e, tlsweep::v1::TLSV1_2, {0xC02F});
  tls12->add_hello_only_suites(0xC02F);  // Chosen, then the handshake fails.
  const std::optional<ServerStrength> strength = StrengthOf(e);
  ASSERT_TRUE(strength.has_value());
  EXPECT_EQ(strength->best_class, SuiteClass::k3des);
  EXPECT_EQ(strength->newest, TlsVersion::kTls1_0);
}

TEST(WeakDependenceTest, UnknownWhenCutShortInErrorOrNothingAccepted) {
  tlsweep::v1::Enumeration none;
  Add(none, tlsweep::v1::TLSV1_2, {});
  EXPECT_FALSE(StrengthOf(none).has_value());
  tlsweep::v1::Enumeration cut;
  Add(cut, tlsweep::v1::TLSV1_0, {0x000A});
  Add(cut, tlsweep::v1::TLSV1_2, {})->set_status(VersionEnumeration::INCOMPLETE);
  EXPECT_FALSE(StrengthOf(cut).has_value());
}

TEST(WeakDependenceTest, TheStrongestMxDecidesAndOneUnknownMakesTheDomainUnknown) {
  const ServerStrength weak{SuiteClass::kRc4, TlsVersion::kTls1_0};
  const ServerStrength strong{SuiteClass::kStrong, TlsVersion::kTls1_3};
  const std::optional<ServerStrength> both = DomainStrength({weak, strong});
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->best_class, SuiteClass::kStrong);
  EXPECT_EQ(both->newest, TlsVersion::kTls1_3);
  EXPECT_FALSE(DomainStrength({weak, std::nullopt}).has_value());
  EXPECT_FALSE(DomainStrength({}).has_value());
}

}  // namespace
}  // namespace tlsweep::coordinator::report
