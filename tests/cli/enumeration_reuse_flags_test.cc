#include "cli/enumeration_reuse_flags.h"

#include <gtest/gtest.h>

namespace tlsweep::cli {
namespace {

TEST(EnumerationReuseFlagsTest, AgesAreReadInDaysHoursMinutesAndSeconds) {
  EXPECT_EQ(ParseMaxAge("7d").value(), 7 * 86400);
  EXPECT_EQ(ParseMaxAge("36h").value(), 36 * 3600);
  EXPECT_EQ(ParseMaxAge(" 90m ").value(), 90 * 60);
  EXPECT_EQ(ParseMaxAge("45s").value(), 45);
  EXPECT_EQ(ParseMaxAge("1d12h").value(), 86400 + 12 * 3600);
  EXPECT_EQ(ParseMaxAge("0").value(), 0);
  for (const char* bad : {"", "7", "d", "7x", "-1d", "1.5d", "7d ago", "9999999999d"}) {
    EXPECT_FALSE(ParseMaxAge(bad).ok()) << bad;
  }
}

TEST(EnumerationReuseFlagsTest, TheProfileSaysWhatTheFlagsSaid) {
  v1::ProbeProfile profile;
  ASSERT_TRUE(ApplyEnumerationReuse({}, profile).ok());
  EXPECT_FALSE(profile.has_enumeration_max_age_s()) << "unset: the coordinator's default";
  EXPECT_FALSE(profile.fresh_enumeration());
  ASSERT_TRUE(ApplyEnumerationReuse({.max_age = "0", .fresh = true}, profile).ok());
  EXPECT_TRUE(profile.has_enumeration_max_age_s());
  EXPECT_EQ(profile.enumeration_max_age_s(), 0);
  EXPECT_TRUE(profile.fresh_enumeration());
  const absl::Status bad = ApplyEnumerationReuse({.max_age = "soon"}, profile);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("--enumeration-max-age"), std::string::npos) << bad;
}

}  // namespace
}  // namespace tlsweep::cli
