#include "agent/policy/opt_out_list.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace tlsweep::agent {
namespace {

asio::ip::address Ip(const char* text) { return asio::ip::make_address(text); }

OptOutList LoadText(const std::string& text) {
  std::istringstream in(text);
  absl::StatusOr<OptOutList> list = OptOutList::Load(in);
  EXPECT_TRUE(list.ok()) << list.status();
  return *std::move(list);
}

TEST(OptOutListTest, DomainRulesMatchTheNameAndItsSubdomainsOnly) {
  OptOutList list = LoadText("example.com\n");
  EXPECT_TRUE(list.MatchesDomain("example.com"));
  EXPECT_TRUE(list.MatchesDomain("mx.example.com"));
  EXPECT_TRUE(list.MatchesDomain("a.b.c.example.com"));
  EXPECT_TRUE(list.MatchesDomain("MX.Example.COM."));
  EXPECT_FALSE(list.MatchesDomain("notexample.com"));
  EXPECT_FALSE(list.MatchesDomain("example.com.au"));
  EXPECT_FALSE(list.MatchesDomain("example.co"));
  EXPECT_FALSE(list.MatchesDomain("com"));
  EXPECT_FALSE(list.MatchesDomain(""));
}

TEST(OptOutListTest, DomainRulesAreNormalised) {
  OptOutList list = LoadText("Bücher.Example.\n*.Wildcard.example\n");
  EXPECT_TRUE(list.MatchesDomain("xn--bcher-kva.example"));
  EXPECT_TRUE(list.MatchesDomain("mx.xn--bcher-kva.example"));
  EXPECT_TRUE(list.MatchesDomain("wildcard.example"));
  EXPECT_TRUE(list.MatchesDomain("mx.wildcard.example"));
  EXPECT_EQ(list.domain_rule_count(), 2u);
}

TEST(OptOutListTest, Ipv4NetworkEdges) {
  OptOutList list = LoadText("192.0.2.0/24\n198.51.100.7\n10.0.0.0/8\n");
  EXPECT_FALSE(list.MatchesAddress(Ip("192.0.1.255")));
  EXPECT_TRUE(list.MatchesAddress(Ip("192.0.2.0")));
  EXPECT_TRUE(list.MatchesAddress(Ip("192.0.2.255")));
  EXPECT_FALSE(list.MatchesAddress(Ip("192.0.3.0")));
  EXPECT_TRUE(list.MatchesAddress(Ip("198.51.100.7")));
  EXPECT_FALSE(list.MatchesAddress(Ip("198.51.100.6")));
  EXPECT_FALSE(list.MatchesAddress(Ip("198.51.100.8")));
  EXPECT_TRUE(list.MatchesAddress(Ip("10.255.255.255")));
  EXPECT_FALSE(list.MatchesAddress(Ip("11.0.0.0")));
  // Mapped addresses match IPv4 rules; a plain IPv6 address never does.
  EXPECT_TRUE(list.MatchesAddress(Ip("::ffff:192.0.2.9")));
  EXPECT_FALSE(list.MatchesAddress(Ip("::c000:209")));
  EXPECT_EQ(list.network_rule_count(), 3u);
}

TEST(OptOutListTest, OddPrefixLengthsAndHostBits) {
  OptOutList list = LoadText("172.16.0.0/12\n203.0.113.77/25\n0.0.0.0/0\n");
  EXPECT_EQ(list.Match("", "", Ip("172.31.255.255")), "172.16.0.0/12");
  EXPECT_EQ(list.Match("", "", Ip("203.0.113.0")), "203.0.113.0/25");  // host bits dropped
  EXPECT_EQ(list.Match("", "", Ip("203.0.113.127")), "203.0.113.0/25");
  EXPECT_EQ(list.Match("", "", Ip("203.0.113.128")), "0.0.0.0/0");
  EXPECT_FALSE(list.MatchesAddress(Ip("2001:db8::1")));
}

TEST(OptOutListTest, Ipv6NetworkEdges) {
  OptOutList list = LoadText("2001:db8::/32\n2001:DB8:1:2::/63\n2a00::1\n::ffff:192.0.2.0/120\n");
  EXPECT_TRUE(list.MatchesAddress(Ip("2001:db8::")));
  EXPECT_TRUE(list.MatchesAddress(Ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(list.MatchesAddress(Ip("2001:db9::")));
  EXPECT_FALSE(list.MatchesAddress(Ip("2001:db7:ffff::")));
  EXPECT_TRUE(list.MatchesAddress(Ip("2a00::1")));
  EXPECT_FALSE(list.MatchesAddress(Ip("2a00::2")));
  // The mapped rule became 192.0.2.0/24.
  EXPECT_EQ(list.Match("", "", Ip("192.0.2.200")), "192.0.2.0/24");
  EXPECT_EQ(list.Match("", "", Ip("2001:db8:1:3::1")), "2001:db8::/32");
}

TEST(OptOutListTest, MatchReportsTheRuleForDomainHostOrAddress) {
  OptOutList list = LoadText("example.com\nprovider.net\n192.0.2.0/24\n");
  EXPECT_EQ(list.Match("mail.example.com", "", std::nullopt), "example.com");
  EXPECT_EQ(list.Match("customer.org", "mx1.provider.net", std::nullopt), "provider.net");
  EXPECT_EQ(list.Match("customer.org", "mx.customer.org", Ip("192.0.2.25")), "192.0.2.0/24");
  EXPECT_EQ(list.Match("customer.org", "mx.customer.org", Ip("198.51.100.1")), std::nullopt);
  EXPECT_EQ(list.Match("", "", std::nullopt), std::nullopt);
}

TEST(OptOutListTest, CollectsBadLinesWithLineNumbers) {
  OptOutList list = LoadText(
      "\xEF\xBB\xBF# opt-outs\r\n"          // 1
      "example.com # asked 2024-01-02\r\n"  // 2
      "x..y\r\n"                            // 3
      "10.0.0.0/33\r\n"                     // 4
      "\r\n"                                // 5
      "2001:db8::/129\r\n"                  // 6
      "192.0.2.0/abc\r\n"                   // 7
      "2001:db8::zz\r\n"                    // 8
      "192.0.2.0/24\r\n");                  // 9
  EXPECT_EQ(list.domain_rule_count(), 1u);
  EXPECT_EQ(list.network_rule_count(), 1u);
  ASSERT_EQ(list.bad_line_count(), 5u);
  ASSERT_EQ(list.bad_lines().size(), 5u);
  EXPECT_EQ(FormatBadLine(list.bad_lines()[0], "optout.txt", "opt-out rule"),
            "optout.txt:3: bad opt-out rule 'x..y': empty label");
  EXPECT_EQ(list.bad_lines()[1].line_number, 4u);
  EXPECT_EQ(list.bad_lines()[1].reason, "prefix length too long");
  EXPECT_EQ(list.bad_lines()[2].line_number, 6u);
  EXPECT_EQ(list.bad_lines()[2].reason, "prefix length too long");
  EXPECT_EQ(list.bad_lines()[3].line_number, 7u);
  EXPECT_EQ(list.bad_lines()[3].reason, "prefix length is not a number");
  EXPECT_EQ(list.bad_lines()[4].line_number, 8u);
  EXPECT_EQ(list.bad_lines()[4].reason, "not a valid IP address or network");
}

TEST(OptOutListTest, AddRule) {
  OptOutList list;
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(list.AddRule("example.org").ok());
  EXPECT_EQ(list.AddRule("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list.AddRule("bad_name.org").message(), "underscore not allowed in host names");
  EXPECT_FALSE(list.empty());
  EXPECT_TRUE(list.MatchesDomain("www.example.org"));
}

TEST(OptOutListTest, LoadFile) {
  const std::string path = testing::TempDir() + "/opt_out_list_test.txt";
  {
    std::ofstream out(path);
    out << "example.com\n198.51.100.0/24\n";
  }
  absl::StatusOr<OptOutList> list = OptOutList::LoadFile(path);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->MatchesDomain("example.com"));
  EXPECT_TRUE(list->MatchesAddress(Ip("198.51.100.1")));
  std::remove(path.c_str());

  absl::StatusOr<OptOutList> missing = OptOutList::LoadFile(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path), absl::string_view::npos);
}

}  // namespace
}  // namespace tlsweep::agent
