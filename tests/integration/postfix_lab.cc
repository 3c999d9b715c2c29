#include "tests/integration/postfix_lab.h"

#include <gtest/gtest.h>

#include <memory>

#include "tests/testing/backend_fixture.h"

namespace tlsweep::testing {
namespace {

class PostfixLabEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const TestPki& pki = SharedPki();
    auto listener = [&](std::string name) {
      PostfixListener l;
      l.name = std::move(name);
      l.chain_file = pki.rsa.chain_file;
      l.key_file = pki.rsa.key_file;
      return l;
    };
    PostfixListener modern = listener("modern");
    modern.protocols = ">=TLSv1.2";
    modern.ciphers_grade = "high";
    modern.cipherlist = "ECDHE+AESGCM:ECDHE+CHACHA20";
    PostfixListener defaults = listener("defaults");
    PostfixListener tls12_cbc = listener("tls12_cbc");
    tls12_cbc.protocols = ">=TLSv1.2, <=TLSv1.2";
    tls12_cbc.ciphers_grade = "high";
    tls12_cbc.cipherlist = "AES256-SHA";
    PostfixListener nostarttls = listener("nostarttls");
    nostarttls.tls_security_level = "none";
    PostfixListener nocert = listener("nocert");
    nocert.chain_file.clear();
    nocert.key_file.clear();
    PostfixListener count_limited = listener("count_limited");
    count_limited.extra_options = {"smtpd_client_connection_count_limit=1"};
    auto started =
        PostfixFixture::Start({modern, defaults, tls12_cbc, nostarttls, nocert, count_limited});
    ASSERT_TRUE(started.ok()) << "cannot start the Postfix lab: " << started.status();
    lab = *std::move(started);
  }
  void TearDown() override { lab.reset(); }

  std::unique_ptr<PostfixFixture> lab;
};

PostfixLabEnvironment* const environment = static_cast<PostfixLabEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new PostfixLabEnvironment));

}  // namespace

PostfixFixture* PostfixLab() { return environment->lab.get(); }

}  // namespace tlsweep::testing
