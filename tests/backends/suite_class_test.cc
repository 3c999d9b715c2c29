#include "backends/suite_class.h"

#include <gtest/gtest.h>

namespace tlsweep::backends {
namespace {

TEST(SuiteClassTest, ClassesFollowTheTable) {
  EXPECT_EQ(SuiteClassOf(0x0003), SuiteClass::kExport);           // EXP-RC4-MD5
  EXPECT_EQ(SuiteClassOf(0x0062), SuiteClass::kExport);           // EXP1024-DES-CBC-SHA
  EXPECT_EQ(SuiteClassOf(0x0002), SuiteClass::kNullOrAnonymous);  // NULL-SHA
  EXPECT_EQ(SuiteClassOf(0x0034), SuiteClass::kNullOrAnonymous);  // ADH-AES128-SHA
  EXPECT_EQ(SuiteClassOf(0x0018), SuiteClass::kNullOrAnonymous);  // ADH-RC4-MD5: anonymous first
  EXPECT_EQ(SuiteClassOf(0x0009), SuiteClass::kLow);              // DES-CBC-SHA
  EXPECT_EQ(SuiteClassOf(0x0005), SuiteClass::kRc4);              // RC4-SHA
  EXPECT_EQ(SuiteClassOf(0x000A), SuiteClass::k3des);             // DES-CBC3-SHA
  EXPECT_EQ(SuiteClassOf(0xC013), SuiteClass::kCbcSha1);          // ECDHE-RSA-AES128-SHA
  EXPECT_EQ(SuiteClassOf(0x003C), SuiteClass::kStrong);           // AES128-SHA256
  EXPECT_EQ(SuiteClassOf(0xC02F), SuiteClass::kStrong);           // ECDHE-RSA-AES128-GCM-SHA256
  EXPECT_EQ(SuiteClassOf(0x1301), SuiteClass::kStrong);           // TLS_AES_128_GCM_SHA256
  EXPECT_LT(SuiteClass::kRc4, SuiteClass::k3des);  // Weakest first: max() is the strongest.
  EXPECT_EQ(SuiteClassName(SuiteClass::k3des), "3DES");
}

}  // namespace
}  // namespace tlsweep::backends
