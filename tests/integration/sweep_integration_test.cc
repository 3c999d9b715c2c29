// Whole sweeps: a real DNS server (unbound) pointing test domains at a real Postfix, through
// the Sweeper with its politeness gate, endpoint sharing and 421 back-off.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/sweep/sweeper.h"
#include "backends/target/target_list_reader.h"
#include "tests/integration/postfix_lab.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tests/testing/probe_runner.h"
#include "tests/testing/unbound_fixture.h"

namespace tlsweep::agent {
namespace {

using ::tlsweep::testing::DefaultCandidate;
using ::tlsweep::testing::PostfixLab;
using ::tlsweep::v1::ProbeResult;

std::string Ip(const std::string& listener) { return PostfixLab()->listener(listener).address; }

struct SweepRun {
  std::vector<ProbeResult> results;
  int64_t probes = 0;
  int64_t reused = 0;

  // Results for one domain (or target), in arrival order.
  std::vector<ProbeResult> For(const std::string& target) const {
    std::vector<ProbeResult> out;
    for (const ProbeResult& result : results) {
      if (result.target() == target) out.push_back(result);
    }
    return out;
  }
};

SweepRun Sweep(const std::string& targets, SweepOptions options) {
  std::istringstream in(targets);
  backends::TargetListReader reader(in);
  Sweeper sweeper(std::move(options));
  SweepRun run;
  absl::Status status = sweeper.Run([&] { return reader.Next(); },
                                    [&](ProbeResult result) { run.results.push_back(result); });
  EXPECT_TRUE(status.ok()) << status;
  run.probes = sweeper.counters().probes_run.load();
  run.reused = sweeper.counters().results_reused.load();
  return run;
}

SweepOptions BaseOptions() {
  SweepOptions options;
  options.candidates.push_back(DefaultCandidate("openssl"));
  options.allow_private = true;
  options.threads = 2;
  options.politeness.per_ip_spacing = std::chrono::milliseconds(0);
  options.probe.ehlo_name = "scanner.example.test";
  options.probe.banner_timeout = std::chrono::seconds(10);
  return options;
}

class SweepIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(PostfixLab(), nullptr);
    std::vector<std::string> records = {
        absl::StrCat("mx-modern.example.test. 300 IN A ", Ip("modern")),
        absl::StrCat("mx-nocert.example.test. 300 IN A ", Ip("nocert")),
        absl::StrCat("mx-cbc.example.test. 300 IN A ", Ip("tls12_cbc")),
        absl::StrCat("mx-plain.example.test. 300 IN A ", Ip("nostarttls")),
        "good.example.test. 300 IN MX 10 mx-modern.example.test.",
        "backup.example.test. 300 IN MX 10 mx-nocert.example.test.",
        "backup.example.test. 300 IN MX 20 mx-modern.example.test.",
        "cbc.example.test. 300 IN MX 10 mx-cbc.example.test.",
        "plain.example.test. 300 IN MX 10 mx-plain.example.test.",
        "nullmx.example.test. 300 IN MX 0 .",
        absl::StrCat("implicit.example.test. 300 IN A ", Ip("modern")),
    };
    for (int i = 0; i < 20; ++i) {
      records.push_back(
          absl::StrCat("shared", i, ".example.test. 300 IN MX 10 mx-modern.example.test."));
    }
    auto dns = testing::UnboundFixture::Start(records);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
  }

  SweepOptions Options() {
    SweepOptions options = BaseOptions();
    options.resolver.servers = {dns_->address()};
    options.resolver.ipv6 = false;
    return options;
  }

  std::unique_ptr<testing::UnboundFixture> dns_;
};

TEST_F(SweepIntegrationTest, DomainsGetTheirMxVerdictsAndSharedEndpointsAreProbedOnce) {
  std::string targets =
      "good.example.test\nbackup.example.test\ncbc.example.test\nplain.example.test\n"
      "nullmx.example.test\nmissing.example.test\nimplicit.example.test\n";
  for (int i = 0; i < 20; ++i) absl::StrAppend(&targets, "shared", i, ".example.test\n");
  const SweepRun run = Sweep(targets, Options());

  ASSERT_EQ(run.For("good.example.test").size(), 1u);
  EXPECT_EQ(run.For("good.example.test")[0].failure(), tlsweep::v1::PROBE_OK);
  EXPECT_EQ(run.For("good.example.test")[0].mx_host(), "mx-modern.example.test");

  const std::vector<ProbeResult> backup = run.For("backup.example.test");
  ASSERT_EQ(backup.size(), 2u);  // Both MX hosts, in preference order.
  EXPECT_EQ(backup[0].mx_preference(), 10u);
  EXPECT_EQ(backup[0].failure(), tlsweep::v1::STARTTLS_REFUSED);
  EXPECT_EQ(backup[1].mx_preference(), 20u);
  EXPECT_EQ(backup[1].failure(), tlsweep::v1::PROBE_OK);

  EXPECT_EQ(run.For("cbc.example.test")[0].tls().suite().iana_name(),
            "TLS_RSA_WITH_AES_256_CBC_SHA");
  EXPECT_EQ(run.For("plain.example.test")[0].failure(), tlsweep::v1::STARTTLS_NOT_OFFERED);
  EXPECT_EQ(run.For("nullmx.example.test")[0].failure(), tlsweep::v1::NULL_MX);
  EXPECT_EQ(run.For("missing.example.test")[0].failure(), tlsweep::v1::DNS_NXDOMAIN);
  const std::vector<ProbeResult> implicit = run.For("implicit.example.test");
  ASSERT_EQ(implicit.size(), 1u);
  EXPECT_TRUE(implicit[0].implicit_mx());
  EXPECT_EQ(implicit[0].failure(), tlsweep::v1::PROBE_OK);

  int shared_ok = 0;
  for (int i = 0; i < 20; ++i) {
    for (const ProbeResult& result : run.For(absl::StrCat("shared", i, ".example.test"))) {
      shared_ok += result.failure() == tlsweep::v1::PROBE_OK;
      EXPECT_EQ(result.domain(), absl::StrCat("shared", i, ".example.test"));
    }
  }
  EXPECT_EQ(shared_ok, 20);
  // Unique endpoints: mx-modern, mx-nocert, mx-cbc, mx-plain, implicit.example.test.
  EXPECT_EQ(run.probes, 5);
  EXPECT_EQ(run.reused, 21);  // 20 shared domains + backup's second MX.
  EXPECT_EQ(run.results.size(), 28u);
}

TEST_F(SweepIntegrationTest, PrivateAddressesAreRefusedUnlessAllowed) {
  SweepOptions options = Options();
  options.allow_private = false;
  const SweepRun run = Sweep("good.example.test\n[127.0.0.1]:25\n", options);
  ASSERT_EQ(run.results.size(), 2u);
  for (const ProbeResult& result : run.results) {
    EXPECT_EQ(result.failure(), tlsweep::v1::ADDRESS_NOT_ALLOWED) << result.target();
  }
  EXPECT_EQ(run.probes, 0);
}

TEST_F(SweepIntegrationTest, OptOutRulesStopTheProbeAndNameTheRule) {
  OptOutList opt_out;
  ASSERT_TRUE(opt_out.AddRule("backup.example.test").ok());
  ASSERT_TRUE(opt_out.AddRule(absl::StrCat(Ip("tls12_cbc"), "/32")).ok());
  SweepOptions options = Options();
  options.opt_out = &opt_out;
  const SweepRun run = Sweep("backup.example.test\ncbc.example.test\ngood.example.test\n", options);
  EXPECT_EQ(run.For("backup.example.test")[0].failure(), tlsweep::v1::OPTED_OUT);
  EXPECT_EQ(run.For("cbc.example.test")[0].failure(), tlsweep::v1::OPTED_OUT);
  EXPECT_NE(run.For("cbc.example.test")[0].failure_detail().find("/32"), std::string::npos);
  EXPECT_EQ(run.For("good.example.test")[0].failure(), tlsweep::v1::PROBE_OK);
  EXPECT_EQ(run.probes, 1);
}

TEST_F(SweepIntegrationTest, ConnectionLimitedListenerIsRetriedUntilItsTrueVerdict) {
  // The listener accepts one connection per client at a time and answers any other "421".
  // Hold one connection open until the sweep has had to retry: every first attempt meets the
  // 421, and the agent must back off and come back rather than record a failure.
  asio::io_context io;
  asio::ip::tcp::socket held(io);
  held.connect({asio::ip::make_address(Ip("count_limited")), 25});
  std::string banner(512, '\0');
  banner.resize(held.read_some(asio::buffer(banner)));
  ASSERT_EQ(banner.substr(0, 3), "220") << banner;

  SweepOptions options = Options();
  options.candidates.clear();
  for (int i = 0; i < 4; ++i) {
    backends::TlsCandidate candidate = DefaultCandidate(i % 2 == 0 ? "openssl" : "gnutls");
    candidate.name = absl::StrCat("candidate", i);
    candidate.settings.set_name(candidate.name);
    options.candidates.push_back(candidate);
  }
  options.rate_limit_backoff = std::chrono::milliseconds(300);
  options.max_attempts = 8;
  std::istringstream in(absl::StrCat("[", Ip("count_limited"), "]:25\n"));
  backends::TargetListReader reader(in);
  Sweeper sweeper(std::move(options));
  // Four first attempts, then a fifth connection: a retry, so every first attempt was refused.
  std::thread release([&] {
    while (sweeper.counters().probes_run.load() < 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    asio::error_code ignored;
    held.close(ignored);
  });
  SweepRun run;
  ASSERT_TRUE(sweeper
                  .Run([&] { return reader.Next(); },
                       [&](ProbeResult result) { run.results.push_back(result); })
                  .ok());
  run.probes = sweeper.counters().probes_run.load();
  release.join();
  ASSERT_EQ(run.results.size(), 4u);
  int64_t attempts = 0;
  for (const ProbeResult& result : run.results) {
    EXPECT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
    EXPECT_GT(result.attempts(), 1u)
        << result.tls_settings().name() << " " << result.banner().text();
    attempts += result.attempts();
  }
  EXPECT_EQ(run.probes, attempts);
}

TEST(SweepBackOffTest, AServerThatAlwaysAnswers421EndsRateLimitedAfterBackingOff) {
  auto server =
      testing::HostileSmtpServer::Start(testing::HostileSmtpServer::Behaviour::k421OnConnect);
  ASSERT_TRUE(server.ok());
  SweepOptions options = BaseOptions();
  options.rate_limit_backoff = std::chrono::milliseconds(200);
  options.max_attempts = 3;
  const auto start = std::chrono::steady_clock::now();
  const SweepRun run = Sweep(absl::StrCat("[127.0.0.1]:", (*server)->port(), "\n"), options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(run.results.size(), 1u);
  EXPECT_EQ(run.results[0].failure(), tlsweep::v1::RATE_LIMITED);
  EXPECT_EQ(run.results[0].attempts(), 3u);
  EXPECT_EQ((*server)->connections_accepted(), 3);
  EXPECT_GE(elapsed, std::chrono::milliseconds(600));  // 200 ms, then 400 ms of back-off.
}

}  // namespace
}  // namespace tlsweep::agent
