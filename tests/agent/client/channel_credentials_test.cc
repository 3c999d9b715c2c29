#include "agent/client/channel_credentials.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "absl/strings/match.h"
#include "backends/file_contents.h"
#include "tests/testing/cert_factory.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::agent {
namespace {

// (GCC's -Wmissing-field-initializers refuses designated initializers that leave fields out.)
ChannelCredentialsOptions Tls(const std::string& ca, const std::string& cert = "",
                              const std::string& key = "") {
  ChannelCredentialsOptions options;
  options.ca_file = ca;
  options.cert_file = cert;
  options.key_file = key;
  return options;
}

ChannelCredentialsOptions PlainText(const std::string& ca = "", const std::string& cert = "",
                                    const std::string& key = "") {
  ChannelCredentialsOptions options = Tls(ca, cert, key);
  options.insecure = true;
  return options;
}

class ChannelCredentialsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new std::string(tlsweep::testing::MakeTempDirectory("channel-credentials"));
    absl::StatusOr<tlsweep::testing::CertFactory> factory =
        tlsweep::testing::CertFactory::Create(*directory_);
    ASSERT_TRUE(factory.ok()) << factory.status();
    factory_ = new tlsweep::testing::CertFactory(*std::move(factory));
    absl::StatusOr<tlsweep::testing::IssuedCertificate> server =
        factory_->Issue("server", {"localhost"});
    ASSERT_TRUE(server.ok()) << server.status();
    absl::StatusOr<tlsweep::testing::IssuedCertificate> client =
        factory_->Issue("client", {"agent-1"});
    ASSERT_TRUE(client.ok()) << client.status();
    server_ = new tlsweep::testing::IssuedCertificate(*server);
    client_ = new tlsweep::testing::IssuedCertificate(*client);
  }

  static std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = *directory_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static std::string* directory_;
  static tlsweep::testing::CertFactory* factory_;
  static tlsweep::testing::IssuedCertificate* server_;
  static tlsweep::testing::IssuedCertificate* client_;
};

std::string* ChannelCredentialsTest::directory_ = nullptr;
tlsweep::testing::CertFactory* ChannelCredentialsTest::factory_ = nullptr;
tlsweep::testing::IssuedCertificate* ChannelCredentialsTest::server_ = nullptr;
tlsweep::testing::IssuedCertificate* ChannelCredentialsTest::client_ = nullptr;

TEST_F(ChannelCredentialsTest, MissingCaFileIsNotFoundAndNamesItsRoleAndPath) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(Tls("/nonexistent/ca.pem"));
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(absl::IsNotFound(credentials.status())) << credentials.status();
  EXPECT_TRUE(absl::StartsWith(credentials.status().message(), "CA file: "))
      << credentials.status();
  EXPECT_TRUE(
      absl::StrContains(credentials.status().message(), "cannot read '/nonexistent/ca.pem'"))
      << credentials.status();
}

TEST_F(ChannelCredentialsTest, EmptyCaFileIsRefusedNotTakenAsTheSystemRoots) {
  const std::string empty = WriteFile("empty-ca.pem", "");
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(Tls(empty));
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(credentials.status())) << credentials.status();
  EXPECT_TRUE(absl::StrContains(credentials.status().message(), "holds no PEM block"))
      << credentials.status();
  EXPECT_TRUE(absl::StrContains(credentials.status().message(), empty)) << credentials.status();
}

TEST_F(ChannelCredentialsTest, DirectoryAsCaFileIsRefused) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(Tls(*directory_));
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(credentials.status())) << credentials.status();
  EXPECT_TRUE(absl::StrContains(credentials.status().message(), "is a directory"))
      << credentials.status();
}

TEST_F(ChannelCredentialsTest, CertificateWithoutKeyAndKeyWithoutCertificateAreRefused) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> no_key =
      MakeChannelCredentials(Tls(factory_->ca_file(), client_->chain_file));
  ASSERT_FALSE(no_key.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(no_key.status()));
  EXPECT_TRUE(absl::StrContains(no_key.status().message(), "certificate needs its key"))
      << no_key.status();

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> no_cert =
      MakeChannelCredentials(Tls(factory_->ca_file(), "", client_->key_file));
  ASSERT_FALSE(no_cert.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(no_cert.status()));
  EXPECT_TRUE(absl::StrContains(no_cert.status().message(), "key needs its certificate"))
      << no_cert.status();
}

TEST_F(ChannelCredentialsTest, MissingKeyFileNamesTheKey) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(Tls("", client_->chain_file, "/nonexistent/key.pem"));
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(absl::IsNotFound(credentials.status())) << credentials.status();
  EXPECT_TRUE(absl::StartsWith(credentials.status().message(), "client key: "))
      << credentials.status();
}

TEST_F(ChannelCredentialsTest, PlainTextTakesNoFiles) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> plain =
      MakeChannelCredentials(PlainText());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_NE(*plain, nullptr);
  for (const ChannelCredentialsOptions& options :
       {PlainText(factory_->ca_file()), PlainText("", client_->chain_file),
        PlainText("", "", client_->key_file)}) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> refused =
        MakeChannelCredentials(options);
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(refused.status()));
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "plain-text")) << refused.status();
  }
}

// The files end up in the handshake: a server that requires a client certificate accepts the
// channel made with one and not the channel made without, and a channel that trusts another CA
// refuses the server. (The server does not verify the client certificate: cert_factory issues
// serverAuth leaves, and that is not this helper's concern.)
TEST_F(ChannelCredentialsTest, CaAndClientCertificateAreWhatTheHandshakeUses) {
  absl::StatusOr<std::string> ca = backends::ReadFileContents(factory_->ca_file());
  absl::StatusOr<std::string> cert = backends::ReadFileContents(server_->chain_file);
  absl::StatusOr<std::string> key = backends::ReadFileContents(server_->key_file);
  ASSERT_TRUE(ca.ok() && cert.ok() && key.ok());
  grpc::SslServerCredentialsOptions server_options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  server_options.pem_root_certs = *ca;
  server_options.pem_key_cert_pairs.push_back({*key, *cert});
  int port = 0;
  // Any service: gRPC starts no server without one. Every method is unimplemented; the test
  // only needs the handshake.
  tlsweep::v1::ScanService::Service service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(server_options), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  auto connects = [port](const ChannelCredentialsOptions& options) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MakeChannelCredentials(options);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    if (!credentials.ok()) return false;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), *credentials, args);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5));
  };
  EXPECT_TRUE(connects(Tls(factory_->ca_file(), client_->chain_file, client_->key_file)));
  EXPECT_FALSE(connects(Tls(factory_->ca_file())));
  absl::StatusOr<tlsweep::testing::CertFactory> other =
      tlsweep::testing::CertFactory::Create(*directory_ + "/other-ca");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(connects(Tls(other->ca_file(), client_->chain_file, client_->key_file)));
  server->Shutdown();
}

}  // namespace
}  // namespace tlsweep::agent
