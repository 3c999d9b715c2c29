#include "agent/policy/provider_key.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tlsweep::agent {
namespace {

struct ProviderCase {
  const char* host;
  const char* provider;
};

class ProviderKeyTest : public testing::TestWithParam<ProviderCase> {};

TEST_P(ProviderKeyTest, IsTheRegistrableDomain) {
  EXPECT_EQ(ProviderKey(GetParam().host), GetParam().provider) << GetParam().host;
}

INSTANTIATE_TEST_SUITE_P(
    PublicSuffixList, ProviderKeyTest,
    testing::Values(
        ProviderCase{"gmail-smtp-in.l.google.com", "google.com"},
        ProviderCase{"alt4.gmail-smtp-in.l.google.com.", "google.com"},
        ProviderCase{"Mx1.Example.CO.UK", "example.co.uk"},
        ProviderCase{"example.co.uk", "example.co.uk"},
        ProviderCase{"example-com.mail.protection.outlook.com", "outlook.com"},
        ProviderCase{"mx.example.com", "example.com"}, ProviderCase{"example.com", "example.com"},
        // Wildcard and exception rules: *.ck and !www.ck.
        ProviderCase{"mx.foo.bar.ck", "foo.bar.ck"}, ProviderCase{"mx.www.ck", "www.ck"},
        // Internationalised suffix (.рф) in A-label form.
        ProviderCase{"mx.xn--d1abbgf6aiiy.xn--p1ai", "xn--d1abbgf6aiiy.xn--p1ai"},
        // Private-section suffixes are ignored: all tenants share the platform's budget.
        ProviderCase{"mx.a.blogspot.com", "blogspot.com"},
        ProviderCase{"mx.b.blogspot.com", "blogspot.com"},
        ProviderCase{"smtp.someone.github.io", "github.io"},
        // Unknown TLDs fall under the implicit "*" rule.
        ProviderCase{"mx.lab.internal", "lab.internal"},
        // A public suffix itself, and single labels, are their own key.
        ProviderCase{"co.uk", "co.uk"}, ProviderCase{"com", "com"},
        ProviderCase{"localhost", "localhost"},
        // IP literals are their own provider, canonically spelled.
        ProviderCase{"192.0.2.1", "192.0.2.1"}, ProviderCase{"[192.0.2.1]", "192.0.2.1"},
        ProviderCase{"2001:DB8::0:1", "2001:db8::1"}, ProviderCase{"[2001:db8::1]", "2001:db8::1"},
        ProviderCase{"", ""}));

TEST(ProviderKeyThreadsTest, IsSafeFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &mismatches] {
      for (int i = 0; i < 2000; ++i) {
        if (ProviderKey("mx" + std::to_string(i) + ".example.co.uk") != "example.co.uk") {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : mismatches) EXPECT_EQ(count, 0);
}

TEST(PublicSuffixListSourceTest, UsesALoadedList) { EXPECT_NE(PublicSuffixListSource(), "none"); }

}  // namespace
}  // namespace tlsweep::agent
