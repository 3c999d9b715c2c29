// The rawhello cipher-list language: explicit lists of names and code points, never rules.
#include "backends/rawhello/cipher_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "backends/cipher_suite_table.h"
#include "backends/rawhello/sslv2_cipher_specs.h"

namespace tlsweep::backends::rawhello {
namespace {

using ::testing::ElementsAre;

TEST(CipherListTest, TakesIanaNamesOpensslNamesAndCodePointsInTheOrderWritten) {
  absl::StatusOr<CipherList> list = ParseCipherList(
      "TLS_RSA_WITH_RC4_128_SHA:DES-CBC3-SHA, 0xc02f EXP-RC4-MD5:tls_rsa_with_null_md5",
      CipherField::kCiphers);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->suites, ElementsAre(0x0005, 0x000A, 0xC02F, 0x0003, 0x0001));
  EXPECT_TRUE(list->sslv2_specs.empty());
}

TEST(CipherListTest, CodePointsOutsideTheTableAndSignallingValuesPassThrough) {
  absl::StatusOr<CipherList> list = ParseCipherList(
      "0xFEFE:TLS_FALLBACK_SCSV:0x0A0A:TLS_EMPTY_RENEGOTIATION_INFO_SCSV", CipherField::kCiphers);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->suites, ElementsAre(0xFEFE, 0x5600, 0x0A0A, 0x00FF));
}

TEST(CipherListTest, ARepeatedSuiteKeepsItsFirstPlace) {
  absl::StatusOr<CipherList> list = ParseCipherList(
      "AES128-SHA:RC4-SHA:0x002F:TLS_RSA_WITH_AES_128_CBC_SHA", CipherField::kCiphers);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->suites, ElementsAre(0x002F, 0x0005));
}

TEST(CipherListTest, AllIsEveryTableSuiteOfTheFieldsKind) {
  absl::StatusOr<CipherList> legacy = ParseCipherList("ALL", CipherField::kCiphers);
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  size_t expected = 0;
  for (const CipherSuiteInfo& suite : AllCipherSuites()) {
    if (suite.code_point != 0 && !IsTls13Suite(suite.code_point)) ++expected;
  }
  EXPECT_EQ(legacy->suites.size(), expected);
  EXPECT_TRUE(std::is_sorted(legacy->suites.begin(), legacy->suites.end())) << "table order";
  // Everything OpenSSL 3.0 dropped is there: EXPORT, DES, RC4, 3DES, GOST, CAMELLIA-GCM.
  for (uint16_t code : {0x0003, 0x0009, 0x0005, 0x000A, 0x0081, 0xC07A}) {
    EXPECT_NE(std::find(legacy->suites.begin(), legacy->suites.end(), code), legacy->suites.end())
        << CipherSuiteName(code);
  }

  absl::StatusOr<CipherList> tls13 = ParseCipherList("all", CipherField::kCiphersuites);
  ASSERT_TRUE(tls13.ok()) << tls13.status();
  EXPECT_EQ(tls13->suites, DefaultTls13Suites());
}

TEST(CipherListTest, Sslv2SpecsByNameByCodeAndAll) {
  absl::StatusOr<CipherList> list =
      ParseCipherList("SSL_CK_RC4_128_WITH_MD5:0x0700C0:0x00002F", CipherField::kCiphers);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->sslv2_specs, ElementsAre(0x010080, 0x0700C0));
  EXPECT_THAT(list->suites, ElementsAre(0x002F)) << "0x00XXYY is a TLS suite written v2-style";

  absl::StatusOr<CipherList> all = ParseCipherList("SSLv2", CipherField::kCiphers);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->sslv2_specs.size(), AllSslv2CipherSpecs().size());
  EXPECT_TRUE(all->suites.empty());
}

TEST(CipherListTest, RuleSyntaxAndUnknownNamesAreRefusedWithTheGrammar) {
  for (const char* text : {"HIGH", "ALL:!aNULL", "DEFAULT", "COMPLEMENTOFALL", "@SECLEVEL=0",
                           "AES128-SHA:+RC4", "0x12345", "0xZZZZ", "NO-SUCH-SUITE"}) {
    absl::StatusOr<CipherList> list = ParseCipherList(text, CipherField::kCiphers);
    ASSERT_FALSE(list.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(list.status())) << text;
    EXPECT_TRUE(absl::StrContains(list.status().message(), "explicit lists")) << list.status();
  }
}

TEST(CipherListTest, EmptyTextIsAnEmptyList) {
  absl::StatusOr<CipherList> list = ParseCipherList(" : ,", CipherField::kCiphers);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->suites.empty());
  EXPECT_TRUE(list->sslv2_specs.empty());
}

}  // namespace
}  // namespace tlsweep::backends::rawhello
