#include "backends/group_table.h"

#include <gtest/gtest.h>

namespace tlsweep::backends {
namespace {

TEST(GroupTableTest, ParsesIanaNamesAndLibraryAliases) {
  EXPECT_EQ(*ParseGroup("x25519"), 29);
  EXPECT_EQ(*ParseGroup("P-256"), 23);
  EXPECT_EQ(*ParseGroup("prime256v1"), 23);
  EXPECT_EQ(*ParseGroup("GROUP-SECP384R1"), 24);
  EXPECT_EQ(*ParseGroup("ffdhe2048"), 256);
  EXPECT_FALSE(ParseGroup("brainpoolP256r1").ok());
}

TEST(GroupTableTest, ParsesListsWithColonsOrCommas) {
  absl::StatusOr<std::vector<uint16_t>> groups = ParseGroupList("X25519:P-256, ffdhe3072");
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(*groups, (std::vector<uint16_t>{29, 23, 257}));
  EXPECT_FALSE(ParseGroupList("x25519:nope").ok());
}

TEST(GroupTableTest, NamesUnknownIdsInHex) {
  EXPECT_EQ(GroupName(29), "x25519");
  EXPECT_EQ(GroupName(0x6399), "group(0x6399)");
}

}  // namespace
}  // namespace tlsweep::backends
