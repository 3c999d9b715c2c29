// Hostile servers (tests/testing/hostile_smtp_server.h) yield a classified failure within the
// stage's timeout, never a hang, a crash or unbounded buffering.
#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/match.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tests/testing/probe_runner.h"

namespace tlsweep::agent {
namespace {

using Behaviour = ::tlsweep::testing::HostileSmtpServer::Behaviour;
using ::tlsweep::testing::DefaultCandidate;
using ::tlsweep::testing::EndpointAt;
using ::tlsweep::testing::HostileSmtpServer;

struct HostileCase {
  Behaviour behaviour;
  tlsweep::v1::ProbeFailure expected;
  std::string backend;
};

void PrintTo(const HostileCase& c, std::ostream* out) {
  *out << HostileSmtpServer::BehaviourName(c.behaviour) << " via " << c.backend;
}

class HostileServerTest : public ::testing::TestWithParam<HostileCase> {};

ProbeOptions ShortTimeouts() {
  ProbeOptions options;
  options.ehlo_name = "scanner.example.test";
  options.connect_timeout = std::chrono::milliseconds(2000);
  options.banner_timeout = std::chrono::milliseconds(1500);
  options.command_timeout = std::chrono::milliseconds(1500);
  options.handshake_timeout = std::chrono::milliseconds(1500);
  return options;
}

TEST_P(HostileServerTest, FailsWithItsClassWithinTheStageTimeout) {
  const HostileCase& c = GetParam();
  auto server = HostileSmtpServer::Start(c.behaviour);
  ASSERT_TRUE(server.ok()) << server.status();
  const auto start = std::chrono::steady_clock::now();
  const tlsweep::v1::ProbeResult result = testing::RunProbe(
      EndpointAt((*server)->endpoint()), DefaultCandidate(c.backend), ShortTimeouts());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.failure(), c.expected)
      << tlsweep::v1::ProbeFailure_Name(result.failure()) << ": " << result.failure_detail();
  EXPECT_FALSE(result.failure_detail().empty());
  // Every stage is bounded by its own timeout (plus QUIT's few seconds at most).
  EXPECT_LT(elapsed, std::chrono::seconds(6));
  EXPECT_GT(result.timings().total_us(), 0u);
}

std::vector<HostileCase> Cases() {
  std::vector<HostileCase> cases;
  for (const std::string& backend : ::tlsweep::testing::BuiltBackendNames()) {
    cases.push_back({Behaviour::kCloseAfterStarttls, tlsweep::v1::TLS_UNEXPECTED_EOF, backend});
    cases.push_back({Behaviour::kPlainAfterStarttls, tlsweep::v1::TLS_NOT_TLS, backend});
    cases.push_back({Behaviour::kTlsAlert, tlsweep::v1::TLS_NO_SHARED_CIPHER, backend});
    // The server broke the protocol and this side aborts, whichever library saw it.
    cases.push_back({Behaviour::kHugeServerHello, tlsweep::v1::TLS_ALERT_SENT, backend});
  }
  const std::string any = "openssl";
  cases.push_back({Behaviour::kTarpit, tlsweep::v1::BANNER_TIMEOUT, any});
  cases.push_back({Behaviour::kSlowBanner, tlsweep::v1::BANNER_TIMEOUT, any});
  cases.push_back({Behaviour::kHugeLine, tlsweep::v1::SMTP_PROTOCOL_ERROR, any});
  cases.push_back({Behaviour::kEndlessContinuation, tlsweep::v1::SMTP_PROTOCOL_ERROR, any});
  cases.push_back({Behaviour::kGarbage, tlsweep::v1::SMTP_PROTOCOL_ERROR, any});
  cases.push_back({Behaviour::k421OnConnect, tlsweep::v1::SMTP_REJECTED, any});
  cases.push_back({Behaviour::kStarttlsRefused, tlsweep::v1::STARTTLS_REFUSED, any});
  cases.push_back({Behaviour::kNoStarttls, tlsweep::v1::STARTTLS_NOT_OFFERED, any});
  cases.push_back({Behaviour::kEhloRejected, tlsweep::v1::SMTP_REJECTED, any});
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<HostileCase>& info) {
  return std::string(HostileSmtpServer::BehaviourName(info.param.behaviour)) + "_" +
         info.param.backend;
}

INSTANTIATE_TEST_SUITE_P(Behaviours, HostileServerTest, ::testing::ValuesIn(Cases()), CaseName);

TEST(HostileServerDetailTest, RepliesAreRecordedWithTheirCodes) {
  auto refused = HostileSmtpServer::Start(Behaviour::kStarttlsRefused);
  ASSERT_TRUE(refused.ok());
  tlsweep::v1::ProbeResult result = testing::RunProbe(EndpointAt((*refused)->endpoint()),
                                                      DefaultCandidate("openssl"), ShortTimeouts());
  EXPECT_EQ(result.banner().code(), 220u);
  EXPECT_EQ(result.ehlo().code(), 250u);
  EXPECT_EQ(result.starttls().code(), 454u);
  EXPECT_EQ(result.smtp_codes_size(), 3);
  EXPECT_TRUE(absl::StrContains(result.failure_detail(), "454"));

  auto rejected = HostileSmtpServer::Start(Behaviour::kEhloRejected);
  ASSERT_TRUE(rejected.ok());
  result = testing::RunProbe(EndpointAt((*rejected)->endpoint()), DefaultCandidate("openssl"),
                             ShortTimeouts());
  EXPECT_EQ(result.ehlo().code(), 550u);
}

TEST(HostileServerDetailTest, HugeLineIsCutOffWithoutReadingItAll) {
  auto server = HostileSmtpServer::Start(Behaviour::kHugeLine);
  ASSERT_TRUE(server.ok());
  const tlsweep::v1::ProbeResult result = testing::RunProbe(
      EndpointAt((*server)->endpoint()), DefaultCandidate("openssl"), ShortTimeouts());
  EXPECT_EQ(result.failure(), tlsweep::v1::SMTP_PROTOCOL_ERROR);
  EXPECT_TRUE(absl::StrContains(result.failure_detail(), "longer than")) << result.failure_detail();
}

TEST(HostileServerDetailTest, TlsAlertKeepsItsCode) {
  auto server = HostileSmtpServer::Start(Behaviour::kTlsAlert);
  ASSERT_TRUE(server.ok());
  const tlsweep::v1::ProbeResult result = testing::RunProbe(
      EndpointAt((*server)->endpoint()), DefaultCandidate("gnutls"), ShortTimeouts());
  EXPECT_EQ(result.tls().alert_code(), 40);
  EXPECT_EQ(result.tls().alert_name(), "handshake_failure");
  EXPECT_FALSE(result.tls().alert_sent());
}

}  // namespace
}  // namespace tlsweep::agent
