#include "agent/dns/resolver_options.h"

#include "agent/dns/dns_failure.h"
#include "gtest/gtest.h"

namespace tlsweep::agent {
namespace {

TEST(ParseDnsServerTest, AcceptsTheDocumentedForms) {
  struct Case {
    const char* text;
    const char* address;
    uint16_t port;
  };
  for (const Case& c :
       {Case{"192.0.2.1", "192.0.2.1", 53}, Case{"127.0.0.1:5353", "127.0.0.1", 5353},
        Case{"::1", "::1", 53}, Case{"2001:db8::1", "2001:db8::1", 53},
        Case{"[2001:db8::1]:5300", "2001:db8::1", 5300}, Case{"[::1]", "::1", 53}}) {
    absl::StatusOr<DnsServer> server = ParseDnsServer(c.text);
    ASSERT_TRUE(server.ok()) << c.text << ": " << server.status();
    EXPECT_EQ(server->address.to_string(), c.address) << c.text;
    EXPECT_EQ(server->port, c.port) << c.text;
  }
}

TEST(ParseDnsServerTest, RejectsEverythingElse) {
  for (const char* text :
       {"", "localhost", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:53x",
        "[192.0.2.1]:53", "[::1", "[::1]53", "[::1]:", "1.2.3.4.5", "dns.example:53"}) {
    absl::StatusOr<DnsServer> server = ParseDnsServer(text);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(ValidateResolverOptionsTest, ChecksRanges) {
  EXPECT_TRUE(ValidateResolverOptions(ResolverOptions{}).ok());
  ResolverOptions options;
  options.tries = 0;
  EXPECT_FALSE(ValidateResolverOptions(options).ok());
  options = {};
  options.ipv4 = options.ipv6 = false;
  EXPECT_FALSE(ValidateResolverOptions(options).ok());
  options = {};
  options.max_mx_hosts = 0;
  EXPECT_FALSE(ValidateResolverOptions(options).ok());
  options = {};
  options.timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(ValidateResolverOptions(options).ok());
  options = {};
  options.servers = {"127.0.0.1", "nonsense"};
  EXPECT_EQ(ValidateResolverOptions(options).code(), absl::StatusCode::kInvalidArgument);
}

TEST(DnsFailureNameTest, StableNames) {
  EXPECT_EQ(DnsFailureName(DnsFailure::kNxdomain), "dns_nxdomain");
  EXPECT_EQ(DnsFailureName(DnsFailure::kNoAddress), "dns_no_address");
  EXPECT_EQ(DnsFailureName(DnsFailure::kNullMx), "null_mx");
  EXPECT_EQ(DnsFailureName(DnsFailure::kTimeout), "dns_timeout");
  EXPECT_EQ(DnsFailureName(DnsFailure::kServfail), "dns_servfail");
  EXPECT_EQ(DnsFailureName(DnsFailure::kRefused), "dns_refused");
  EXPECT_EQ(DnsFailureName(DnsFailure::kError), "dns_error");
  EXPECT_EQ(DnsFailureName(DnsFailure::kNone), "none");
}

}  // namespace
}  // namespace tlsweep::agent
