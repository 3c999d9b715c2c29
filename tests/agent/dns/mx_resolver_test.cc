// MxResolver against a real unbound serving a test zone, plus a silent server for timeouts.
#include "agent/dns/mx_resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asio/co_spawn.hpp"
#include "asio/io_context.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int kBulkDomains = 200;

std::vector<std::string> ZoneRecords() {
  std::vector<std::string> records = {
      // Three MX listed out of order.
      "three.example.test. IN MX 30 mx3.example.test.",
      "three.example.test. IN MX 10 mx1.example.test.",
      "three.example.test. IN MX 20 mx2.example.test.",
      "mx1.example.test. IN A 198.18.0.1",
      "mx2.example.test. IN A 198.18.0.2",
      "mx3.example.test. IN A 198.18.0.3",
      "mx3.example.test. IN AAAA 2001:db8::3",
      // No MX: the domain is its own mail host.
      "implicit.example.test. IN A 198.18.1.1",
      // RFC 7505 null MX, alone and (misconfigured) beside a real exchange.
      "null.example.test. IN MX 0 .",
      "nullmixed.example.test. IN MX 0 .",
      "nullmixed.example.test. IN MX 10 mx1.example.test.",
      // MX target is an alias.
      "cnamemx.example.test. IN MX 10 alias.example.test.",
      "alias.example.test. IN CNAME real.example.test.",
      "real.example.test. IN A 198.18.2.1",
      // The domain itself is an alias of a domain with MX records.
      "aliasdomain.example.test. IN CNAME three.example.test.",
      // One host without address (NODATA), one missing (NXDOMAIN), one good.
      "partial.example.test. IN MX 10 noaddr.example.test.",
      "partial.example.test. IN MX 20 missing.example.test.",
      "partial.example.test. IN MX 30 mx1.example.test.",
      "noaddr.example.test. IN TXT \"no address here\"",
      // IPv6-only host.
      "v6.example.test. IN MX 10 mx6.example.test.",
      "mx6.example.test. IN AAAA 2001:db8::6",
      // No host has an address.
      "dead.example.test. IN MX 10 noaddr.example.test.",
      "dead.example.test. IN MX 20 missing.example.test.",
      // Exists, no MX, no address.
      "empty.example.test. IN TXT \"nothing\"",
      // Duplicates (case differs) and more hosts than the cap.
      "dup.example.test. IN MX 20 MX1.example.test.",
      "dup.example.test. IN MX 10 mx1.example.test.",
      "dup.example.test. IN MX 10 mx2.example.test.",
  };
  for (int i = 0; i < 15; ++i) {
    records.push_back(
        absl::StrCat("many.example.test. IN MX ", 100 - i, " m", i, ".example.test."));
    records.push_back(absl::StrCat("m", i, ".example.test. IN A 198.18.3.", i + 1));
  }
  for (int i = 0; i < 20; ++i) {
    records.push_back(absl::StrCat("lots.example.test. IN A 198.18.4.", i + 1));
  }
  // An MX set far larger than the EDNS buffer: truncated over UDP, fetched again over TCP.
  for (int i = 0; i < 80; ++i) {
    const std::string host =
        absl::StrCat("a-rather-long-mail-exchanger-name-", i, ".example.test.");
    records.push_back(absl::StrCat("big.example.test. IN MX ", i, " ", host));
    records.push_back(absl::StrCat(host, " IN A 198.18.5.", i + 1));
  }
  for (int i = 0; i < kBulkDomains; ++i) {
    records.push_back(absl::StrCat("bulk", i, ".example.test. IN MX 10 h", i, "a.example.test."));
    records.push_back(absl::StrCat("bulk", i, ".example.test. IN MX 20 h", i, "b.example.test."));
    records.push_back(
        absl::StrCat("h", i, "a.example.test. IN A 198.18.", 10 + i / 250, ".", i % 250 + 1));
    records.push_back(absl::StrCat("h", i, "b.example.test. IN AAAA 2001:db8::", i + 1));
  }
  return records;
}

// A UDP "server" that receives queries and never answers.
class SilentDnsServer {
 public:
  SilentDnsServer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentDnsServer() { close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Runs `task` on `io` until it and everything it started are done.
template <typename T>
T RunToEnd(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    result = std::move(value);
  });
  io.restart();
  io.run();
  if (error != nullptr) std::rethrow_exception(error);
  return std::move(*result);
}

std::vector<std::string> Names(const MxResolution& resolution) {
  std::vector<std::string> names;
  for (const MxHost& host : resolution.hosts) names.push_back(host.name);
  return names;
}

std::vector<std::string> Strings(const HostAddresses& addresses) {
  std::vector<std::string> strings;
  for (const asio::ip::address& address : addresses.addresses) {
    strings.push_back(address.to_string());
  }
  return strings;
}

std::string Describe(const MxResolution& r) {
  std::string text = absl::StrCat(r.domain, " failure=", DnsFailureName(r.failure), " detail='",
                                  r.detail, "' implicit=", r.implicit_mx);
  for (const MxHost& host : r.hosts) {
    absl::StrAppend(&text, "\n  ", host.preference, " ", host.name, " [",
                    absl::StrJoin(Strings(host.addresses), ","), "] ",
                    DnsFailureName(host.addresses.failure), " ", host.addresses.detail);
  }
  return text;
}

class MxResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::UnboundFixture>> started =
        testing::UnboundFixture::Start(ZoneRecords());
    ASSERT_TRUE(started.ok()) << started.status();
    unbound_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete unbound_;
    unbound_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(unbound_, nullptr);
    options_.servers = {unbound_->address()};
  }

  std::unique_ptr<MxResolver> NewResolver() {
    absl::StatusOr<std::unique_ptr<MxResolver>> resolver =
        MxResolver::Create(io_.get_executor(), options_);
    EXPECT_TRUE(resolver.ok()) << resolver.status();
    return resolver.ok() ? std::move(*resolver) : nullptr;
  }

  MxResolution ResolveMx(const std::string& domain) {
    std::unique_ptr<MxResolver> resolver = NewResolver();
    if (resolver == nullptr) return {};
    return RunToEnd(io_, resolver->ResolveMx(domain));
  }

  static testing::UnboundFixture* unbound_;
  asio::io_context io_;
  ResolverOptions options_;
};

testing::UnboundFixture* MxResolverTest::unbound_ = nullptr;

TEST_F(MxResolverTest, HostsAreSortedByPreference) {
  const MxResolution r = ResolveMx("three.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  EXPECT_FALSE(r.implicit_mx);
  EXPECT_THAT(Names(r), ElementsAre("mx1.example.test", "mx2.example.test", "mx3.example.test"));
  EXPECT_EQ(r.hosts[0].preference, 10);
  EXPECT_EQ(r.hosts[1].preference, 20);
  EXPECT_EQ(r.hosts[2].preference, 30);
  EXPECT_THAT(Strings(r.hosts[0].addresses), ElementsAre("198.18.0.1"));
  EXPECT_THAT(Strings(r.hosts[2].addresses), ElementsAre("198.18.0.3", "2001:db8::3"));
  for (const MxHost& host : r.hosts) EXPECT_EQ(host.addresses.failure, DnsFailure::kNone);
}

TEST_F(MxResolverTest, DomainIsNormalised) {
  const MxResolution r = ResolveMx("Three.EXAMPLE.test.");
  EXPECT_EQ(r.domain, "three.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  EXPECT_THAT(r.hosts, SizeIs(3));
}

TEST_F(MxResolverTest, NoMxMeansImplicitMx) {
  const MxResolution r = ResolveMx("implicit.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  EXPECT_TRUE(r.implicit_mx);
  ASSERT_THAT(Names(r), ElementsAre("implicit.example.test"));
  EXPECT_EQ(r.hosts[0].preference, 0);
  EXPECT_THAT(Strings(r.hosts[0].addresses), ElementsAre("198.18.1.1"));
}

TEST_F(MxResolverTest, ImplicitMxWithoutAddressIsNoAddress) {
  const MxResolution r = ResolveMx("empty.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNoAddress) << Describe(r);
  EXPECT_TRUE(r.implicit_mx);
}

TEST_F(MxResolverTest, NullMx) {
  const MxResolution r = ResolveMx("null.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNullMx) << Describe(r);
  EXPECT_THAT(r.hosts, IsEmpty());
}

TEST_F(MxResolverTest, NullMxBesideRealExchangeIsIgnored) {
  const MxResolution r = ResolveMx("nullmixed.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  EXPECT_THAT(Names(r), ElementsAre("mx1.example.test"));
}

TEST_F(MxResolverTest, MxTargetBehindCname) {
  const MxResolution r = ResolveMx("cnamemx.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  // The host keeps the name the MX record gave; its address comes through the CNAME.
  ASSERT_THAT(Names(r), ElementsAre("alias.example.test"));
  EXPECT_THAT(Strings(r.hosts[0].addresses), ElementsAre("198.18.2.1"));
}

TEST_F(MxResolverTest, DomainBehindCname) {
  const MxResolution r = ResolveMx("aliasdomain.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  EXPECT_EQ(r.domain, "aliasdomain.example.test");
  EXPECT_FALSE(r.implicit_mx);
  EXPECT_THAT(Names(r), ElementsAre("mx1.example.test", "mx2.example.test", "mx3.example.test"));
}

TEST_F(MxResolverTest, HostsWithoutAddressKeepTheirOwnFailure) {
  const MxResolution r = ResolveMx("partial.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  ASSERT_THAT(Names(r),
              ElementsAre("noaddr.example.test", "missing.example.test", "mx1.example.test"));
  EXPECT_EQ(r.hosts[0].addresses.failure, DnsFailure::kNoAddress);
  EXPECT_THAT(r.hosts[0].addresses.addresses, IsEmpty());
  EXPECT_EQ(r.hosts[1].addresses.failure, DnsFailure::kNxdomain);
  EXPECT_EQ(r.hosts[2].addresses.failure, DnsFailure::kNone);
  EXPECT_THAT(Strings(r.hosts[2].addresses), ElementsAre("198.18.0.1"));
}

TEST_F(MxResolverTest, NoHostWithAddressIsNoAddress) {
  const MxResolution r = ResolveMx("dead.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNoAddress) << Describe(r);
  EXPECT_THAT(r.hosts, SizeIs(2));
  EXPECT_FALSE(r.detail.empty());
}

TEST_F(MxResolverTest, Nxdomain) {
  const MxResolution r = ResolveMx("nope.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNxdomain) << Describe(r);
  EXPECT_THAT(r.hosts, IsEmpty());
}

TEST_F(MxResolverTest, Ipv6OnlyHost) {
  const MxResolution r = ResolveMx("v6.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  ASSERT_THAT(r.hosts, SizeIs(1));
  EXPECT_THAT(Strings(r.hosts[0].addresses), ElementsAre("2001:db8::6"));
}

TEST_F(MxResolverTest, Ipv6OnlyHostWithIpv6Disabled) {
  options_.ipv6 = false;
  const MxResolution r = ResolveMx("v6.example.test");
  EXPECT_EQ(r.failure, DnsFailure::kNoAddress) << Describe(r);
  ASSERT_THAT(r.hosts, SizeIs(1));
  EXPECT_EQ(r.hosts[0].addresses.failure, DnsFailure::kNoAddress);
}

TEST_F(MxResolverTest, DuplicatesRemovedKeepingBestPreference) {
  const MxResolution r = ResolveMx("dup.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  EXPECT_THAT(Names(r), ElementsAre("mx1.example.test", "mx2.example.test"));
  EXPECT_EQ(r.hosts[0].preference, 10);
}

TEST_F(MxResolverTest, HostCountIsCapped) {
  options_.max_mx_hosts = 4;
  const MxResolution r = ResolveMx("many.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  // The lowest preferences (86..89) are kept.
  EXPECT_THAT(Names(r), ElementsAre("m14.example.test", "m13.example.test", "m12.example.test",
                                    "m11.example.test"));
}

TEST_F(MxResolverTest, TruncatedAnswerIsFetchedOverTcp) {
  const MxResolution r = ResolveMx("big.example.test");
  ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
  ASSERT_THAT(r.hosts, SizeIs(10));  // options.max_mx_hosts
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(r.hosts[i].name,
              absl::StrCat("a-rather-long-mail-exchanger-name-", i, ".example.test"));
    EXPECT_THAT(Strings(r.hosts[i].addresses), ElementsAre(absl::StrCat("198.18.5.", i + 1)));
  }
}

TEST_F(MxResolverTest, AddressCountIsCapped) {
  std::unique_ptr<MxResolver> resolver = NewResolver();
  const HostAddresses a = RunToEnd(io_, resolver->ResolveHost("lots.example.test"));
  EXPECT_EQ(a.failure, DnsFailure::kNone) << a.detail;
  EXPECT_THAT(a.addresses, SizeIs(16));
}

TEST_F(MxResolverTest, ResolveHost) {
  std::unique_ptr<MxResolver> resolver = NewResolver();
  const HostAddresses both = RunToEnd(io_, resolver->ResolveHost("MX3.example.test."));
  EXPECT_EQ(both.failure, DnsFailure::kNone) << both.detail;
  EXPECT_THAT(Strings(both), ElementsAre("198.18.0.3", "2001:db8::3"));

  const HostAddresses alias = RunToEnd(io_, resolver->ResolveHost("alias.example.test"));
  EXPECT_THAT(Strings(alias), ElementsAre("198.18.2.1"));

  const HostAddresses missing = RunToEnd(io_, resolver->ResolveHost("missing.example.test"));
  EXPECT_EQ(missing.failure, DnsFailure::kNxdomain) << missing.detail;
  EXPECT_THAT(missing.detail, ::testing::HasSubstr("missing.example.test"));

  const HostAddresses none = RunToEnd(io_, resolver->ResolveHost("noaddr.example.test"));
  EXPECT_EQ(none.failure, DnsFailure::kNoAddress) << none.detail;
}

TEST_F(MxResolverTest, ResolveHostIpv4Only) {
  options_.ipv6 = false;
  std::unique_ptr<MxResolver> resolver = NewResolver();
  const HostAddresses a = RunToEnd(io_, resolver->ResolveHost("mx3.example.test"));
  EXPECT_THAT(Strings(a), ElementsAre("198.18.0.3"));
}

TEST_F(MxResolverTest, Servfail) {
  const MxResolution r = ResolveMx("x.servfail.test");
  EXPECT_EQ(r.failure, DnsFailure::kServfail) << Describe(r);
}

TEST_F(MxResolverTest, Refused) {
  const MxResolution r = ResolveMx("refused.test");
  EXPECT_EQ(r.failure, DnsFailure::kRefused) << Describe(r);
}

TEST_F(MxResolverTest, EmptyDomainIsAnError) {
  const MxResolution r = ResolveMx(".");
  EXPECT_EQ(r.failure, DnsFailure::kError) << Describe(r);
}

class MxResolverBulkTest : public MxResolverTest, public ::testing::WithParamInterface<size_t> {};

// 200 domains started at once on one io_context, with the default in-flight limit and with
// every query queued behind a single slot.
TEST_P(MxResolverBulkTest, ManyDomainsConcurrently) {
  options_.max_queries_in_flight = GetParam();
  std::unique_ptr<MxResolver> resolver = NewResolver();
  std::vector<std::optional<MxResolution>> results(kBulkDomains);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBulkDomains; ++i) {
    asio::co_spawn(io_, resolver->ResolveMx(absl::StrCat("bulk", i, ".example.test")),
                   [&results, i](std::exception_ptr error, MxResolution r) {
                     ASSERT_EQ(error, nullptr);
                     results[i] = std::move(r);
                   });
  }
  io_.run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (int i = 0; i < kBulkDomains; ++i) {
    ASSERT_TRUE(results[i].has_value()) << i;
    const MxResolution& r = *results[i];
    ASSERT_EQ(r.failure, DnsFailure::kNone) << Describe(r);
    ASSERT_THAT(Names(r), ElementsAre(absl::StrCat("h", i, "a.example.test"),
                                      absl::StrCat("h", i, "b.example.test")));
    EXPECT_THAT(Strings(r.hosts[0].addresses),
                ElementsAre(absl::StrCat("198.18.", 10 + i / 250, ".", i % 250 + 1)));
    EXPECT_THAT(Strings(r.hosts[1].addresses), ElementsAre(absl::StrCat("2001:db8::", i + 1)));
  }
  // About 1000 queries against a local server: well under the per-try timeout even on CI.
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

INSTANTIATE_TEST_SUITE_P(InFlightLimits, MxResolverBulkTest,
                         ::testing::Values(ResolverOptions().max_queries_in_flight, 1));

TEST(MxResolverTimeoutTest, SilentServerTimesOut) {
  SilentDnsServer silent;
  asio::io_context io;
  ResolverOptions options;
  options.servers = {silent.address()};
  options.timeout = std::chrono::milliseconds(300);
  options.tries = 1;
  absl::StatusOr<std::unique_ptr<MxResolver>> resolver =
      MxResolver::Create(io.get_executor(), options);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  const auto start = std::chrono::steady_clock::now();
  const MxResolution r = RunToEnd(io, (*resolver)->ResolveMx("example.test"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.failure, DnsFailure::kTimeout) << Describe(r);
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST(MxResolverTimeoutTest, DestroyingTheResolverEndsPendingLookups) {
  SilentDnsServer silent;
  asio::io_context io;
  ResolverOptions options;
  options.servers = {silent.address()};
  options.timeout = std::chrono::seconds(30);
  absl::StatusOr<std::unique_ptr<MxResolver>> resolver =
      MxResolver::Create(io.get_executor(), options);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  std::optional<MxResolution> result;
  asio::co_spawn(io, (*resolver)->ResolveMx("example.test"),
                 [&](std::exception_ptr, MxResolution r) { result = std::move(r); });
  asio::steady_timer timer(io, std::chrono::milliseconds(50));
  timer.async_wait([&](const asio::error_code&) { resolver->reset(); });
  const auto start = std::chrono::steady_clock::now();
  io.run();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->failure, DnsFailure::kError) << Describe(*result);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(MxResolverCreateTest, BadServerIsInvalidArgument) {
  asio::io_context io;
  ResolverOptions options;
  options.servers = {"not-an-address"};
  EXPECT_EQ(MxResolver::Create(io.get_executor(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tlsweep::agent
