// `tlsweep capture`'s server against real clients on loopback (openssl s_client, gnutls-cli),
// and the round trip a team relies on: the capture file read back as a candidate, whose raw
// replay offers exactly what the client offered. Hostile clients end their own session only.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/enumerate/offer_plan.h"
#include "asio.hpp"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/captured_hello.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/cipher_suite_table.h"
#include "cli/capture/hello_capture_server.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::cli {
namespace {

using backends::TlsVersion;

// The server on its own thread; the captures and misses it reported.
class CaptureRun {
 public:
  explicit CaptureRun(int count) {
    options_.listen_port = 0;
    options_.count = count;
    options_.total_timeout = std::chrono::seconds(60);
    options_.session_timeout = std::chrono::seconds(10);
    events_.listening = [this](uint16_t port) {
      std::lock_guard<std::mutex> lock(mutex_);
      port_ = port;
      changed_.notify_all();
    };
    events_.captured = [this](const CapturedHello& hello) {
      std::lock_guard<std::mutex> lock(mutex_);
      captured_.push_back(hello);
    };
    events_.missed = [this](const std::string&, const std::string& why) {
      std::lock_guard<std::mutex> lock(mutex_);
      missed_.push_back(why);
    };
    thread_ = std::thread([this] { status_ = RunHelloCapture(options_, events_); });
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [this] { return port_ != 0; });
  }
  ~CaptureRun() {
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }
  absl::Status Finish() {
    thread_.join();
    return status_;
  }
  const std::vector<CapturedHello>& captured() const { return captured_; }
  const std::vector<std::string>& missed() const { return missed_; }

 private:
  CaptureOptions options_;
  CaptureEvents events_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint16_t port_ = 0;
  std::vector<CapturedHello> captured_;
  std::vector<std::string> missed_;
  absl::Status status_;
  std::thread thread_;
};

TEST(HelloCaptureTest, OpensslClientOfferIsCapturedAndReplayedExactly) {
  CaptureRun run(1);
  ASSERT_NE(run.port(), 0);
  // The client fails the handshake (the server refuses it), so s_client exits non-zero.
  auto client = testing::RunCommand(absl::StrCat(
      "timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:", run.port(),
      " -servername mx.example.test -cipher AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384 "
      "-ciphersuites TLS_AES_128_GCM_SHA256 -groups P-384:X25519 -min_protocol TLSv1.2 "
      "-max_protocol TLSv1.3 </dev/null 2>&1"));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(run.Finish().ok());
  ASSERT_EQ(run.captured().size(), 1u) << client->output;
  const CapturedHello& captured = run.captured()[0];
  EXPECT_EQ(captured.hello.cipher_suites, (std::vector<uint16_t>{0x1301, 0x002F, 0xC030}));
  EXPECT_EQ(captured.hello.supported_groups, (std::vector<uint16_t>{24, 29}));
  EXPECT_EQ(captured.hello.supported_versions,
            (std::vector<TlsVersion>{TlsVersion::kTls1_3, TlsVersion::kTls1_2}));
  EXPECT_TRUE(captured.hello.has_server_name);
  EXPECT_FALSE(captured.hello.signature_algorithms.empty());
  EXPECT_FALSE(captured.origin.ehlo.empty());

  // The file a team keeps, read back as `--candidate 'hello=FILE tls=required'`.
  const std::string dir = testing::MakeTempDirectory("tlsweep-capture");
  const std::string path = dir + "/mta.hello";
  std::ofstream(path) << backends::FormatCapture(captured.hello, captured.origin);
  auto settings = backends::ParseCandidateSpec(absl::StrCat("hello=", path, " tls=required"));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->backend(), "rawhello");
  EXPECT_TRUE(settings->tls_required());
  EXPECT_EQ(settings->openssl_ciphers(), "0x002f:0xc030");
  EXPECT_EQ(settings->openssl_ciphersuites(), "0x1301");
  EXPECT_EQ(settings->min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(settings->max_version(), tlsweep::v1::TLSV1_3);
  EXPECT_EQ(std::vector<std::string>(settings->groups().begin(), settings->groups().end()),
            (std::vector<std::string>{"secp384r1", "x25519"}));

  // The raw backend's hello for that candidate offers the same suites, in order, and groups.
  auto config = backends::ClientConfigFromSettings(*settings, "");
  ASSERT_TRUE(config.ok()) << config.status();
  auto replay = agent::PrepareHello(testing::GetBackend("rawhello"), *config);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->parsed.cipher_suites, captured.hello.cipher_suites);
  EXPECT_EQ(replay->parsed.supported_groups, captured.hello.supported_groups);
  EXPECT_EQ(replay->parsed.supported_versions, captured.hello.supported_versions);
}

// A raw client: writes `bytes` after the greeting and reads until the server closes.
void SendAndDrain(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  ASSERT_FALSE(ec) << ec.message();
  timeval timeout{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  asio::write(socket, asio::buffer(bytes), ec);
  char buffer[4096];
  while (!ec) socket.read_some(asio::buffer(buffer), ec);
}

TEST(HelloCaptureTest, GnutlsClientAndHostileClientsEndOnlyTheirOwnSession) {
  CaptureRun run(1);
  ASSERT_NE(run.port(), 0);
  const std::string port = absl::StrCat(run.port());
  // Garbage after STARTTLS, then a line far over RFC 5321's 1,000 bytes: both are missed.
  SendAndDrain(run.port(), "EHLO bad.example\r\nSTARTTLS\r\nGET / HTTP/1.0\r\n\r\n");
  SendAndDrain(run.port(), absl::StrCat("EHLO ", std::string(5000, 'a'), "\r\n"));
  auto client = testing::RunCommand(
      "timeout 20 gnutls-cli --insecure --starttls-proto=smtp --port " + port +
      " --priority 'NONE:+VERS-TLS1.2:+AES-128-CBC:+AES-256-GCM:+RSA:+ECDHE-RSA:+SHA1:+AEAD:"
      "+COMP-NULL:+SIGN-ALL:+GROUP-SECP256R1' 127.0.0.1 </dev/null 2>&1");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(run.Finish().ok());
  ASSERT_EQ(run.captured().size(), 1u) << client->output;
  const backends::ClientHello& hello = run.captured()[0].hello;
  for (uint16_t suite : hello.cipher_suites) {
    EXPECT_TRUE(suite == 0x002F || suite == 0xC013 || suite == 0xC030 || suite == 0x009D)
        << backends::CipherSuiteName(suite);
  }
  EXPECT_EQ(hello.supported_groups, (std::vector<uint16_t>{23}));
  ASSERT_EQ(run.missed().size(), 2u);
  EXPECT_NE(run.missed()[0].find("not a TLS ClientHello"), std::string::npos) << run.missed()[0];
  EXPECT_NE(run.missed()[1].find("overlong"), std::string::npos) << run.missed()[1];
}

TEST(HelloCaptureTest, AnAddressThatCannotBeBoundIsAClearError) {
  CaptureOptions options;
  options.listen_address = "not-an-address";
  EXPECT_TRUE(absl::IsInvalidArgument(RunHelloCapture(options, {})));
  options.listen_address = "192.0.2.1";  // Not ours: bind fails (nothing is sent anywhere).
  options.listen_port = 0;
  const absl::Status status = RunHelloCapture(options, {});
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
}

}  // namespace
}  // namespace tlsweep::cli
