#include "tests/testing/hostile_smtp_server.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fixtures_test/raw_client.h"

namespace tlsweep::testing {
namespace {

using Behaviour = HostileSmtpServer::Behaviour;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::unique_ptr<HostileSmtpServer> StartServer(Behaviour behaviour) {
  absl::StatusOr<std::unique_ptr<HostileSmtpServer>> server = HostileSmtpServer::Start(behaviour);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// Connects, reads the banner, sends EHLO and returns the client positioned after the reply.
RawClient ConnectAndEhlo(const HostileSmtpServer& server, std::string* ehlo_reply) {
  absl::StatusOr<RawClient> client = RawClient::Connect(server.endpoint());
  EXPECT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::string> banner = client->ReadReply();
  EXPECT_TRUE(banner.ok()) << banner.status();
  EXPECT_THAT(*banner, StartsWith("220 "));
  EXPECT_TRUE(client->Send("EHLO scanner.example.test\r\n").ok());
  absl::StatusOr<std::string> reply = client->ReadReply();
  EXPECT_TRUE(reply.ok()) << reply.status();
  *ehlo_reply = reply.value_or("");
  return std::move(*client);
}

// Some bytes shaped like the start of a ClientHello record.
constexpr char kClientHelloStart[] = "\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03";

TEST(HostileSmtpServerTest, RejectsNonLoopbackAddresses) {
  EXPECT_FALSE(HostileSmtpServer::Start(Behaviour::kTarpit, "192.0.2.1").ok());
  EXPECT_FALSE(HostileSmtpServer::Start(Behaviour::kTarpit, "localhost").ok());
}

TEST(HostileSmtpServerTest, Sends421AndCloses) {
  auto server = StartServer(Behaviour::k421OnConnect);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<RawClient> client = RawClient::Connect(server->endpoint());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::string> all = client->ReadUntilEof();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, "421 4.7.0 Try again later\r\n");
  EXPECT_EQ(server->connections_accepted(), 1);
  EXPECT_EQ(server->bytes_sent(), 27);
}

TEST(HostileSmtpServerTest, StarttlsRefusedAnswers454) {
  auto server = StartServer(Behaviour::kStarttlsRefused);
  ASSERT_NE(server, nullptr);
  std::string ehlo;
  RawClient client = ConnectAndEhlo(*server, &ehlo);
  EXPECT_THAT(ehlo, HasSubstr("250-STARTTLS\r\n"));
  ASSERT_TRUE(client.Send("STARTTLS\r\n").ok());
  EXPECT_EQ(client.ReadReply().value_or(""),
            "454 4.7.0 TLS not available due to local problem\r\n");
  ASSERT_TRUE(client.Send("NOOP\r\nQUIT\r\n").ok());
  EXPECT_THAT(client.ReadReply().value_or(""), StartsWith("250 "));
  EXPECT_THAT(client.ReadReply().value_or(""), StartsWith("221 "));
  EXPECT_TRUE(client.ReadUntilEof().ok());
}

TEST(HostileSmtpServerTest, NoStarttlsAndEhloRejected) {
  auto no_tls = StartServer(Behaviour::kNoStarttls);
  ASSERT_NE(no_tls, nullptr);
  std::string ehlo;
  RawClient client = ConnectAndEhlo(*no_tls, &ehlo);
  EXPECT_THAT(ehlo, StartsWith("250-"));
  EXPECT_THAT(ehlo, Not(HasSubstr("STARTTLS")));
  ASSERT_TRUE(client.Send("STARTTLS\r\n").ok());
  EXPECT_THAT(client.ReadReply().value_or(""), StartsWith("502 "));

  auto rejected = StartServer(Behaviour::kEhloRejected);
  ASSERT_NE(rejected, nullptr);
  ConnectAndEhlo(*rejected, &ehlo);
  EXPECT_EQ(ehlo, "550 5.7.1 go away\r\n");
}

TEST(HostileSmtpServerTest, TlsAlertAfterClientHello) {
  auto server = StartServer(Behaviour::kTlsAlert);
  ASSERT_NE(server, nullptr);
  std::string ehlo;
  RawClient client = ConnectAndEhlo(*server, &ehlo);
  ASSERT_TRUE(client.Send("STARTTLS\r\n").ok());
  EXPECT_THAT(client.ReadReply().value_or(""), StartsWith("220 "));
  ASSERT_TRUE(client.Send(std::string(kClientHelloStart, sizeof(kClientHelloStart) - 1)).ok());
  absl::StatusOr<std::string> rest = client.ReadUntilEof();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, std::string("\x15\x03\x03\x00\x02\x02\x28", 7));
}

TEST(HostileSmtpServerTest, PlainTextAfterStarttls) {
  auto server = StartServer(Behaviour::kPlainAfterStarttls);
  ASSERT_NE(server, nullptr);
  std::string ehlo;
  RawClient client = ConnectAndEhlo(*server, &ehlo);
  ASSERT_TRUE(client.Send("STARTTLS\r\n").ok());
  EXPECT_THAT(client.ReadReply().value_or(""), StartsWith("220 "));
  ASSERT_TRUE(client.Send(std::string(kClientHelloStart, sizeof(kClientHelloStart) - 1)).ok());
  EXPECT_EQ(client.ReadLine().value_or(""), "220 hello again\r\n");
}

TEST(HostileSmtpServerTest, CloseAfterStarttls) {
  auto server = StartServer(Behaviour::kCloseAfterStarttls);
  ASSERT_NE(server, nullptr);
  std::string ehlo;
  RawClient client = ConnectAndEhlo(*server, &ehlo);
  ASSERT_TRUE(client.Send("STARTTLS\r\n").ok());
  EXPECT_THAT(client.ReadReply().value_or(""), StartsWith("220 "));
  absl::StatusOr<std::string> rest = client.ReadUntilEof();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, "");
}

TEST(HostileSmtpServerTest, HugeLineHasNoLineEnd) {
  auto server = StartServer(Behaviour::kHugeLine);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<RawClient> client = RawClient::Connect(server->endpoint());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::string> first = client->ReadExactly(4 + (1 << 20));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(*first, StartsWith("220 "));
  EXPECT_FALSE(absl::StrContains(*first, '\n'));
}

TEST(HostileSmtpServerTest, EndlessContinuationNeverEnds) {
  auto server = StartServer(Behaviour::kEndlessContinuation);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<RawClient> client = RawClient::Connect(server->endpoint());
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<std::string> line = client->ReadLine();
    ASSERT_TRUE(line.ok()) << line.status();
    ASSERT_THAT(*line, StartsWith("220-")) << "line " << i;
  }
}

TEST(HostileSmtpServerTest, GarbageIsNotAReply) {
  auto server = StartServer(Behaviour::kGarbage);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<RawClient> client = RawClient::Connect(server->endpoint());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::string> line = client->ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->size(), 514u);
  EXPECT_NE((*line)[0], '2');
  EXPECT_NE((*line)[0], '\x16');
}

TEST(HostileSmtpServerTest, SlowBannerTrickles) {
  auto server = StartServer(Behaviour::kSlowBanner);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<RawClient> client = RawClient::Connect(server->endpoint());
  ASSERT_TRUE(client.ok());
  const std::string early = client->ReadFor(absl::Milliseconds(2500));
  EXPECT_GE(early.size(), 2u);
  EXPECT_LE(early.size(), 4u);
  EXPECT_TRUE(absl::StartsWith("220 slow ESMTP\r\n", early)) << early;
}

TEST(HostileSmtpServerTest, TarpitHoldsManyClientsAndStopsPromptly) {
  auto server = StartServer(Behaviour::kTarpit);
  ASSERT_NE(server, nullptr);
  std::vector<RawClient> clients;
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<RawClient> client = RawClient::Connect(server->endpoint());
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(std::move(*client));
  }
  ASSERT_TRUE(clients[0].Send("EHLO impatient.example.test\r\n").ok());
  EXPECT_EQ(clients[0].ReadFor(absl::Milliseconds(1200)), "");
  EXPECT_FALSE(clients[0].peer_closed());
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (server->connections_accepted() < 50 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server->connections_accepted(), 50);
  EXPECT_EQ(server->bytes_sent(), 0);

  const absl::Time before = absl::Now();
  server.reset();  // Clients are still connected and silent.
  EXPECT_LT(absl::Now() - before, absl::Seconds(1));
  EXPECT_TRUE(clients[1].ReadUntilEof(absl::Seconds(2)).ok());
}

TEST(HostileSmtpServerTest, ListensOnPort25OfAnotherLoopbackAddress) {
  HostileSmtpServer::Options options;
  options.address = "127.26.0.25";
  options.port = 25;
  absl::StatusOr<std::unique_ptr<HostileSmtpServer>> server =
      HostileSmtpServer::Start(Behaviour::k421OnConnect, options);
  if (!server.ok() && absl::IsUnavailable(server.status())) {
    GTEST_SKIP() << server.status();  // Not root, or another test program holds it.
  }
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->endpoint(), "127.26.0.25:25");
  absl::StatusOr<RawClient> client = RawClient::Connect((*server)->endpoint());
  ASSERT_TRUE(client.ok());
  EXPECT_THAT(client->ReadLine().value_or(""), StartsWith("421 "));
}

}  // namespace
}  // namespace tlsweep::testing
