#include "backends/target/line_bytes.h"

#include <gtest/gtest.h>

#include <string>

#include "backends/target/target.h"

namespace tlsweep::backends {
namespace {

using namespace std::string_literals;

TEST(LineBytesTest, ControlBytesAndBrokenUtf8AreRefusedWithTheirColumn) {
  EXPECT_TRUE(CheckLineBytes("b\xc3\xbc"
                             "cher.example,12\t# tab is fine")
                  .ok());
  EXPECT_EQ(CheckLineBytes("ab\0c"s).message(), "control character 0x00 at column 3");
  EXPECT_EQ(CheckLineBytes("x\x1b[31m").message(), "control character 0x1b at column 2");
  EXPECT_EQ(CheckLineBytes("m\xfcnchen.example").message(),
            "byte 0xfc at column 2 is not UTF-8 (save the list as UTF-8)");
  EXPECT_FALSE(CheckLineBytes("\xc0\xaf").ok()) << "overlong '/'";
  EXPECT_FALSE(CheckLineBytes("\xed\xa0\x80").ok()) << "a UTF-16 surrogate";
  EXPECT_FALSE(CheckLineBytes("\xf4\x90\x80\x80").ok()) << "above U+10FFFF";
  EXPECT_FALSE(CheckLineBytes("\xe2\x82").ok()) << "cut short";
}

TEST(LineBytesTest, EscapingKeepsValidTextAndMakesTheRestVisible) {
  EXPECT_EQ(EscapeLineBytes("b\xc3\xbc"
                            "cher.example"),
            "b\xc3\xbc"
            "cher.example");
  EXPECT_EQ(EscapeLineBytes("b\xc3\xbc"
                            "cher\0\xff\xfe"s),
            "b\xc3\xbc"
            "cher\\x00\\xff\\xfe");
  EXPECT_EQ(EscapeLineBytes("\x1b[2J\x07"), "\\x1b[2J\\x07");
  EXPECT_EQ(EscapeLineBytes("a\\x00"), "a\\\\x00") << "a literal backslash stays unambiguous";
  EXPECT_TRUE(CheckLineBytes(EscapeLineBytes("m\xfc\0\x01"s)).ok());
}

// The two lines of the hardening report: one accepted as another name, one that broke the
// distributed path.
TEST(LineBytesTest, TargetsWithNulOrLatin1AreBadLines) {
  EXPECT_FALSE(ParseTarget("b\xc3\xbc"
                           "cher.lab.test\0\xff\xfe"s,
                           25)
                   .ok());
  EXPECT_FALSE(ParseTarget("m\xfcnchen.lab.test", 25).ok());
  EXPECT_TRUE(ParseTarget("b\xc3\xbc"
                          "cher.lab.test",
                          25)
                  .ok());
}

TEST(LineBytesTest, WeightsAreCapped) {
  EXPECT_TRUE(ParseTarget("example.com,1e12", 25).ok());
  absl::StatusOr<Target> huge = ParseTarget("example.com,1e308", 25);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().message(), "weight is larger than 1e+12");
}

}  // namespace
}  // namespace tlsweep::backends
