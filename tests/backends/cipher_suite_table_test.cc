#include "backends/cipher_suite_table.h"

#include <gtest/gtest.h>

namespace tlsweep::backends {
namespace {

TEST(CipherSuiteTableTest, FindsSuitesByCodePointAndName) {
  const CipherSuiteInfo* suite = FindCipherSuite(0xC02F);
  ASSERT_NE(suite, nullptr);
  EXPECT_EQ(suite->iana_name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(suite->openssl_name, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(FindCipherSuiteByIanaName("TLS_RSA_WITH_3DES_EDE_CBC_SHA")->code_point, 0x000A);
  EXPECT_EQ(CipherSuiteName(0x1301), "TLS_AES_128_GCM_SHA256");
}

TEST(CipherSuiteTableTest, UnknownCodePointGetsAHexName) {
  EXPECT_EQ(FindCipherSuite(0xFEFE), nullptr);
  EXPECT_EQ(CipherSuiteName(0xFEFE), "0xFEFE");
}

TEST(CipherSuiteTableTest, TableIsSortedAndUnique) {
  uint16_t previous = 0;
  bool first = true;
  for (const CipherSuiteInfo& suite : AllCipherSuites()) {
    if (!first) {
      EXPECT_LT(previous, suite.code_point) << suite.iana_name;
    }
    previous = suite.code_point;
    first = false;
  }
  EXPECT_GT(AllCipherSuites().size(), 300u);
}

TEST(CipherSuiteTableTest, Tls13SuitesAreRecognised) {
  EXPECT_TRUE(IsTls13Suite(0x1302));
  EXPECT_FALSE(IsTls13Suite(0xC030));
}

}  // namespace
}  // namespace tlsweep::backends
