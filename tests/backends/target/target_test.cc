#include "backends/target/target.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace tlsweep::backends {
namespace {

using Kind = Target::Kind;

struct GoodCase {
  const char* text;
  Kind kind;
  const char* name;
  uint16_t port;
  double weight;
};

class GoodTargetTest : public testing::TestWithParam<GoodCase> {};

TEST_P(GoodTargetTest, Parses) {
  const GoodCase& c = GetParam();
  absl::StatusOr<Target> target = ParseTarget(c.text);
  ASSERT_TRUE(target.ok()) << c.text << ": " << target.status();
  EXPECT_EQ(target->kind, c.kind) << c.text;
  EXPECT_EQ(target->name, c.name) << c.text;
  EXPECT_EQ(target->port, c.port) << c.text;
  EXPECT_EQ(target->weight, c.weight) << c.text;
  EXPECT_EQ(target->address.has_value(), c.kind == Kind::kAddress) << c.text;
  if (target->address) {
    EXPECT_EQ(target->address->to_string(), c.name);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, GoodTargetTest,
    testing::Values(
        GoodCase{"example.com", Kind::kDomain, "example.com", 25, 1},
        GoodCase{"  Example.COM.  ", Kind::kDomain, "example.com", 25, 1},
        GoodCase{"bücher.example", Kind::kDomain, "xn--bcher-kva.example", 25, 1},
        GoodCase{"example.com,1234.5", Kind::kDomain, "example.com", 25, 1234.5},
        GoodCase{"example.com , 7", Kind::kDomain, "example.com", 25, 7},
        GoodCase{"example.com,0", Kind::kDomain, "example.com", 25, 0},
        GoodCase{"example.com,-0", Kind::kDomain, "example.com", 25, 0},
        GoodCase{"example.com,1e3", Kind::kDomain, "example.com", 25, 1000},
        GoodCase{"mx.example.com:2525", Kind::kHost, "mx.example.com", 2525, 1},
        GoodCase{"MX.Example.com.:587,3", Kind::kHost, "mx.example.com", 587, 3},
        GoodCase{"[mx.example.com]", Kind::kHost, "mx.example.com", 25, 1},
        GoodCase{"[mx.example.com]:465", Kind::kHost, "mx.example.com", 465, 1},
        GoodCase{"mx.bücher.example:25", Kind::kHost, "mx.xn--bcher-kva.example", 25, 1},
        GoodCase{"192.0.2.1", Kind::kAddress, "192.0.2.1", 25, 1},
        GoodCase{"192.0.2.1:465", Kind::kAddress, "192.0.2.1", 465, 1},
        GoodCase{"[192.0.2.1]:25", Kind::kAddress, "192.0.2.1", 25, 1},
        GoodCase{"[192.0.2.1]", Kind::kAddress, "192.0.2.1", 25, 1},
        GoodCase{"[2001:db8::1]:587", Kind::kAddress, "2001:db8::1", 587, 1},
        GoodCase{"[2001:DB8:0:0::0001]:587,2.5", Kind::kAddress, "2001:db8::1", 587, 2.5},
        GoodCase{"2001:db8::1", Kind::kAddress, "2001:db8::1", 25, 1},
        GoodCase{"::ffff:192.0.2.1", Kind::kAddress, "::ffff:192.0.2.1", 25, 1},
        GoodCase{"mx.example.com:65535", Kind::kHost, "mx.example.com", 65535, 1},
        GoodCase{"mx.example.com:1", Kind::kHost, "mx.example.com", 1, 1}));

TEST(ParseTargetTest, KeepsInputAndAppliesDefaultPort) {
  absl::StatusOr<Target> target = ParseTarget("  Example.COM,5 ", 587);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->input, "Example.COM,5");
  EXPECT_EQ(target->port, 587);
  EXPECT_EQ(ParseTarget("2001:db8::1", 465)->port, 465);
  EXPECT_EQ(ParseTarget("[mx.example.com]", 465)->port, 465);
  EXPECT_EQ(ParseTarget("mx.example.com:26", 465)->port, 26);  // explicit wins
}

struct BadCase {
  const char* text;
  const char* reason;
};

class BadTargetTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadTargetTest, IsRejectedWithItsReason) {
  absl::StatusOr<Target> target = ParseTarget(GetParam().text);
  ASSERT_FALSE(target.ok()) << GetParam().text << " parsed as " << target->name;
  EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(target.status().message(), GetParam().reason) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, BadTargetTest,
    testing::Values(
        BadCase{"", "empty target"}, BadCase{"   ", "empty target"}, BadCase{"x..y", "empty label"},
        BadCase{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
                "label longer than 63 characters"},
        BadCase{"_smtp._tcp.example.com", "underscore not allowed in host names"},
        BadCase{"mx.example.com:0", "port out of range"},
        BadCase{"mx.example.com:65536", "port out of range"},
        BadCase{"mx.example.com:99999999", "port out of range"},
        BadCase{"mx.example.com:smtp", "port is not a number"},
        BadCase{"mx.example.com:+25", "port is not a number"},
        BadCase{"mx.example.com:", "missing port after ':'"},
        BadCase{":25", "missing host before ':'"},
        BadCase{"example.com,abc", "weight is not a number"},
        BadCase{"example.com,1,2", "weight is not a number"},
        BadCase{"example.com,", "missing weight after ','"},
        BadCase{"example.com,nan", "weight is not a finite number"},
        BadCase{"example.com,inf", "weight is not a finite number"},
        BadCase{"example.com,-1", "weight is negative"}, BadCase{",5", "empty target"},
        BadCase{"[192.0.2.1", "missing ']'"}, BadCase{"[192.0.2.1]x", "unexpected text after ']'"},
        BadCase{"[]:25", "empty brackets"}, BadCase{"[2001:db8::1]:70000", "port out of range"},
        BadCase{"[2001:db8::zz]", "not a valid IPv6 address"},
        BadCase{"[fe80::1%eth0]", "IPv6 zone index not supported"},
        BadCase{"fe80::1%eth0", "IPv6 zone index not supported"},
        BadCase{"2001:db8::1:25:x",
                "not a valid IPv6 address (write [address]:port to give a port)"},
        BadCase{"256.1.1.1", "not a valid IP address or host name"},
        BadCase{"192.0.2.1.5:25", "not a valid IP address or host name"},
        BadCase{"mx!.example.com", "invalid character '!'"}));

TEST(TargetKeyTest, IgnoresSpellingAndWeight) {
  EXPECT_EQ(TargetKey(*ParseTarget("Example.COM.,3")), TargetKey(*ParseTarget("example.com")));
  EXPECT_EQ(TargetKey(*ParseTarget("example.com")), "domain example.com:25");
  EXPECT_EQ(TargetKey(*ParseTarget("[mx.example.com]")), "host mx.example.com:25");
  EXPECT_EQ(TargetKey(*ParseTarget("[2001:db8::1]:587")), "address [2001:db8::1]:587");
  EXPECT_EQ(TargetKey(*ParseTarget("192.0.2.1")), "address 192.0.2.1:25");
  EXPECT_NE(TargetKey(*ParseTarget("example.com")), TargetKey(*ParseTarget("example.com:25")));
  EXPECT_NE(TargetKey(*ParseTarget("mx.example.com:25")),
            TargetKey(*ParseTarget("mx.example.com:587")));
}

TEST(TargetKindNameTest, Names) {
  EXPECT_EQ(TargetKindName(Kind::kDomain), "domain");
  EXPECT_EQ(TargetKindName(Kind::kHost), "host");
  EXPECT_EQ(TargetKindName(Kind::kAddress), "address");
}

}  // namespace
}  // namespace tlsweep::backends
