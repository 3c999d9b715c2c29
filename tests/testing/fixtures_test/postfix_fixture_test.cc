#include "tests/testing/postfix_fixture.h"

#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/fixtures_test/raw_client.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Negotiated {
  bool connected = false;
  std::string protocol;
  std::string cipher;
  std::string output;
};

// What OpenSSL's own client negotiates with a listener: the reference the fixture is checked
// against.
Negotiated SClient(const std::string& endpoint, const std::string& extra_flags = "") {
  Negotiated result;
  absl::StatusOr<CommandResult> run = RunCommand(
      absl::StrCat("printf 'QUIT\\r\\n' | timeout 10 openssl s_client -starttls smtp -connect ",
                   ShellQuote(endpoint), " -brief ", extra_flags, " 2>&1"));
  if (!run.ok()) return result;
  result.output = run->output;
  result.connected = absl::StrContains(run->output, "CONNECTION ESTABLISHED");
  for (absl::string_view line : absl::StrSplit(run->output, '\n')) {
    if (absl::ConsumePrefix(&line, "Protocol version: ")) result.protocol = std::string(line);
    if (absl::ConsumePrefix(&line, "Ciphersuite: ")) result.cipher = std::string(line);
  }
  return result;
}

class PostfixFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    certs_dir_ = new std::string(MakeTempDirectory("tlsweep-fixture-certs"));
    absl::StatusOr<CertFactory> factory = CertFactory::Create(*certs_dir_);
    ASSERT_TRUE(factory.ok()) << factory.status();
    absl::StatusOr<IssuedCertificate> cert = factory->Issue("mx", {"mx.example.test"});
    ASSERT_TRUE(cert.ok()) << cert.status();
    // Both certificate forms: separate key (modern) and key-then-chain in one file (legacy12).
    const std::string combined = *certs_dir_ + "/mx-combined.pem";
    ASSERT_TRUE(PostfixFixture::WriteChainFile(cert->key_file, cert->chain_file, combined).ok());

    std::vector<PostfixListener> listeners(6);
    listeners[0].name = "modern";
    listeners[0].chain_file = cert->chain_file;
    listeners[0].key_file = cert->key_file;
    listeners[0].protocols = ">=TLSv1.2";
    listeners[0].ciphers_grade = "high";
    listeners[1].name = "legacy12";
    listeners[1].chain_file = combined;
    listeners[1].protocols = "!SSLv2,!SSLv3,!TLSv1,!TLSv1.1,!TLSv1.3";
    listeners[1].cipherlist = "AES256-SHA";
    listeners[2].name = "tls13chacha";
    listeners[2].chain_file = combined;
    listeners[2].protocols = ">=TLSv1.3";
    listeners[2].tls13_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
    listeners[3].name = "plain";
    listeners[3].tls_security_level = "none";
    listeners[4].name = "nocert";  // STARTTLS offered, but no certificate: 454.
    listeners[5].name = "ratelimited";
    listeners[5].tls_security_level = "none";
    listeners[5].extra_options = {"smtpd_client_connection_rate_limit=2"};
    const absl::Time before = absl::Now();
    absl::StatusOr<std::unique_ptr<PostfixFixture>> postfix =
        PostfixFixture::Start(std::move(listeners), {"anvil_rate_time_unit=60s"});
    ASSERT_TRUE(postfix.ok()) << postfix.status();
    std::fprintf(stderr, "Postfix started in %s at %s\n",
                 absl::FormatDuration(absl::Now() - before).c_str(),
                 (*postfix)->directory().c_str());
    postfix_ = postfix->release();
  }

  static void TearDownTestSuite() {
    const absl::Time before = absl::Now();
    delete postfix_;
    postfix_ = nullptr;
    std::fprintf(stderr, "Postfix stopped in %s\n",
                 absl::FormatDuration(absl::Now() - before).c_str());
    if (certs_dir_ != nullptr) {
      (void)RunCommand(absl::StrCat("rm -rf ", ShellQuote(*certs_dir_)));
      delete certs_dir_;
      certs_dir_ = nullptr;
    }
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "PostfixFixture needs root";
    ASSERT_NE(postfix_, nullptr);
  }

  static PostfixFixture* postfix_;
  static std::string* certs_dir_;
};

PostfixFixture* PostfixFixtureTest::postfix_ = nullptr;
std::string* PostfixFixtureTest::certs_dir_ = nullptr;

TEST_F(PostfixFixtureTest, ListenersAnswerAsConfigured) {
  for (const char* name : {"modern", "legacy12", "tls13chacha", "plain", "nocert"}) {
    SCOPED_TRACE(name);
    const std::string endpoint = postfix_->endpoint(name);
    EXPECT_THAT(endpoint, StartsWith("127.25."));
    EXPECT_TRUE(absl::EndsWith(endpoint, ":25"));
    absl::StatusOr<RawClient> client = RawClient::Connect(endpoint);
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_EQ(client->ReadReply().value_or(""), "220 mx.example.test ESMTP Postfix\r\n");
    ASSERT_TRUE(client->Send("EHLO scanner.example.test\r\n").ok());
    const std::string ehlo = client->ReadReply().value_or("");
    EXPECT_THAT(ehlo, StartsWith("250-mx.example.test\r\n"));
    if (std::string(name) == "plain") {
      EXPECT_THAT(ehlo, Not(HasSubstr("STARTTLS")));
      continue;
    }
    EXPECT_THAT(ehlo, HasSubstr("250-STARTTLS\r\n"));
    if (std::string(name) == "nocert") {
      ASSERT_TRUE(client->Send("STARTTLS\r\n").ok());
      EXPECT_EQ(client->ReadReply().value_or(""),
                "454 4.7.0 TLS not available due to local problem\r\n");
    }
  }
}

TEST_F(PostfixFixtureTest, TlsNegotiationMatchesPolicy) {
  Negotiated modern = SClient(postfix_->endpoint("modern"));
  EXPECT_TRUE(modern.connected) << modern.output;
  EXPECT_EQ(modern.protocol, "TLSv1.3");
  Negotiated modern12 = SClient(postfix_->endpoint("modern"), "-tls1_2");
  EXPECT_EQ(modern12.protocol, "TLSv1.2");
  EXPECT_THAT(modern12.cipher, StartsWith("ECDHE-RSA-")) << modern12.output;
  EXPECT_FALSE(
      SClient(postfix_->endpoint("modern"), "-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'").connected);

  Negotiated legacy = SClient(postfix_->endpoint("legacy12"), "-cipher 'ALL:@SECLEVEL=0'");
  EXPECT_TRUE(legacy.connected) << legacy.output;
  EXPECT_EQ(legacy.protocol, "TLSv1.2");
  EXPECT_EQ(legacy.cipher, "AES256-SHA");
  EXPECT_FALSE(SClient(postfix_->endpoint("legacy12"), "-tls1_3").connected);
  EXPECT_FALSE(
      SClient(postfix_->endpoint("legacy12"), "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256")
          .connected);

  Negotiated chacha = SClient(postfix_->endpoint("tls13chacha"));
  EXPECT_TRUE(chacha.connected) << chacha.output;
  EXPECT_EQ(chacha.protocol, "TLSv1.3");
  EXPECT_EQ(chacha.cipher, "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_FALSE(
      SClient(postfix_->endpoint("tls13chacha"), "-ciphersuites TLS_AES_128_GCM_SHA256").connected);
}

TEST_F(PostfixFixtureTest, RateLimitAnswers421OnThirdConnection) {
  const std::string endpoint = postfix_->endpoint("ratelimited");
  std::vector<std::string> banners;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<RawClient> client = RawClient::Connect(endpoint);
    ASSERT_TRUE(client.ok()) << client.status();
    banners.push_back(client->ReadReply().value_or(""));
  }
  EXPECT_THAT(banners[0], StartsWith("220 "));
  EXPECT_THAT(banners[1], StartsWith("220 "));
  EXPECT_EQ(banners[2], "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1\r\n");
  // Postfix also logs it (through postlogd, so allow a moment).
  const absl::Time deadline = absl::Now() + absl::Seconds(3);
  std::string log;
  while (absl::Now() < deadline) {
    std::ifstream in(postfix_->maillog_path());
    std::stringstream content;
    content << in.rdbuf();
    log = content.str();
    if (absl::StrContains(log, "Connection rate limit exceeded: 3 from")) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(log, HasSubstr("postfix/ratelimited/smtpd"));
  EXPECT_THAT(log, HasSubstr("Connection rate limit exceeded: 3 from unknown[127.0.0.1]"));
}

TEST(PostfixFixtureStartTest, FailureCarriesMaillogTail) {
  if (geteuid() != 0) GTEST_SKIP() << "PostfixFixture needs root";
  // Occupy the listener's address first: master cannot bind and exits.
  const std::string address = absl::StrCat("127.27.", getpid() % 250, ".2");
  HostileSmtpServer::Options options;
  options.address = address;
  options.port = 25;
  absl::StatusOr<std::unique_ptr<HostileSmtpServer>> squatter =
      HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kTarpit, options);
  ASSERT_TRUE(squatter.ok()) << squatter.status();
  PostfixListener listener;
  listener.name = "taken";
  listener.address = address;
  absl::StatusOr<std::unique_ptr<PostfixFixture>> postfix = PostfixFixture::Start({listener});
  ASSERT_FALSE(postfix.ok());
  EXPECT_THAT(std::string(postfix.status().message()), HasSubstr("Address already in use"));
}

TEST(PostfixFixtureStartTest, RejectsBadListeners) {
  PostfixListener outside;
  outside.name = "outside";
  outside.address = "192.0.2.25";
  EXPECT_FALSE(PostfixFixture::Start({outside}).ok());
  PostfixListener a, b;
  a.name = b.name = "same";
  EXPECT_FALSE(PostfixFixture::Start({a, b}).ok());
}

}  // namespace
}  // namespace tlsweep::testing
