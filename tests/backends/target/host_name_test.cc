#include "backends/target/host_name.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"

namespace tlsweep::backends {
namespace {

TEST(NormalizeHostNameTest, LowersCaseAndStripsOneTrailingDot) {
  EXPECT_EQ(*NormalizeHostName("Example.COM."), "example.com");
  EXPECT_EQ(*NormalizeHostName("mx-1.example.com"), "mx-1.example.com");
  EXPECT_EQ(*NormalizeHostName("localhost"), "localhost");
}

struct IdnCase {
  const char* unicode;
  const char* ascii;
};

class IdnTest : public testing::TestWithParam<IdnCase> {};

TEST_P(IdnTest, ConvertsToALabels) {
  absl::StatusOr<std::string> name = NormalizeHostName(GetParam().unicode);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, GetParam().ascii);
}

INSTANTIATE_TEST_SUITE_P(Scripts, IdnTest,
                         testing::Values(
                             // German, including upper case and the non-transitional sharp s.
                             IdnCase{"bücher.example", "xn--bcher-kva.example"},
                             IdnCase{"BÜCHER.Example.", "xn--bcher-kva.example"},
                             IdnCase{"straße.de", "xn--strae-oqa.de"},
                             // Chinese, with the ideographic full stop UTS #46 maps to '.'.
                             IdnCase{"例子.测试", "xn--fsqu00a.xn--0zwm56d"},
                             IdnCase{"例子。测试", "xn--fsqu00a.xn--0zwm56d"},
                             IdnCase{"中文.com", "xn--fiq228c.com"},
                             // Cyrillic.
                             IdnCase{"пример.испытание", "xn--e1afmkfd.xn--80akhbyknj4f"},
                             IdnCase{"Президент.РФ", "xn--d1abbgf6aiiy.xn--p1ai"},
                             // Greek and a Unicode label under an ASCII domain.
                             IdnCase{"παράδειγμα.δοκιμή", "xn--hxajbheg2az3al.xn--jxalpdlp"},
                             IdnCase{"mx.bücher.example", "mx.xn--bcher-kva.example"}));

struct BadNameCase {
  std::string name;
  const char* reason;
};

class BadNameTest : public testing::TestWithParam<BadNameCase> {};

TEST_P(BadNameTest, IsRejectedWithItsReason) {
  absl::StatusOr<std::string> name = NormalizeHostName(GetParam().name);
  ASSERT_FALSE(name.ok()) << *name;
  EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(name.status().message(), GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, BadNameTest,
    testing::Values(BadNameCase{"", "empty name"}, BadNameCase{".", "empty label"},
                    BadNameCase{"x..y", "empty label"}, BadNameCase{".example.com", "empty label"},
                    BadNameCase{"example.com..", "empty label"},
                    BadNameCase{std::string(64, 'a') + ".com", "label longer than 63 characters"},
                    BadNameCase{"_dmarc.example.com", "underscore not allowed in host names"},
                    BadNameCase{"-mx.example.com", "label starts or ends with a hyphen"},
                    BadNameCase{"mx-.example.com", "label starts or ends with a hyphen"},
                    BadNameCase{"mx example.com", "invalid character 0x20"},
                    BadNameCase{"mx!.example.com", "invalid character '!'"},
                    BadNameCase{"1.2.3", "not a valid IP address or host name"},
                    BadNameCase{"example.123", "not a valid IP address or host name"}));

TEST(NormalizeHostNameTest, LengthLimits) {
  std::string label63(63, 'a');
  EXPECT_TRUE(NormalizeHostName(label63 + ".com").ok());
  // 4 * 63 + 3 dots = 255 > 253; 61 + 3 * 63 + 3 dots = 253 exactly.
  std::string too_long = label63 + "." + label63 + "." + label63 + "." + label63;
  EXPECT_EQ(NormalizeHostName(too_long).status().message(), "name longer than 253 characters");
  std::string longest = std::string(61, 'b') + "." + label63 + "." + label63 + "." + label63;
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(NormalizeHostName(longest).ok());
  EXPECT_TRUE(NormalizeHostName(longest + ".").ok());  // the trailing dot does not count
}

// Names IDNA2008 refuses (a joiner outside its allowed context, a symbol) still convert the way
// IDNA2003/transitional resolvers do.
TEST(NormalizeHostNameTest, FallsBackToTransitionalProcessing) {
  EXPECT_EQ(*NormalizeHostName("a\u200Db.example"), "ab.example");
  EXPECT_EQ(*NormalizeHostName("\u2603.example"), "xn--n3h.example");
}

TEST(NormalizeHostNameTest, RejectsInvalidUnicode) {
  absl::StatusOr<std::string> name = NormalizeHostName("bad\xff.example");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(name.status().message(), "not a valid internationalised name"))
      << name.status();
}

TEST(NormalizeHostNameTest, HasNonAscii) {
  EXPECT_FALSE(HasNonAscii("example.com"));
  EXPECT_TRUE(HasNonAscii("bücher.example"));
}

}  // namespace
}  // namespace tlsweep::backends
