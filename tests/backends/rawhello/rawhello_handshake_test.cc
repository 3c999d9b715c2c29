// The rawhello engine against the real OpenSSL and GnuTLS server engines, in memory: for the same
// offer, the server's choice read off the raw hello's answer must be what a library client's
// complete handshake negotiates (version, suite, group, DH size), at every version the servers
// speak; refusals must get the classes a library client gets; and suites no Debian 12 client
// library can offer (3DES and RC4 here) must reach a server that still takes them.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/hello_parser.h"
#include "backends/memory_pump.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;

struct Attempt {
  HandshakeState state = HandshakeState::kInProgress;
  HandshakeOutcome outcome;
  std::string server_error;  // The server engine's own words, for failure messages.
};

Attempt Against(const std::string& client_backend, const ClientConfig& client_config,
                const std::string& server_backend, const ServerConfig& server_config) {
  Attempt run;
  auto client = GetBackend(client_backend).NewClient(client_config);
  auto server = GetBackend(server_backend).NewServer(server_config);
  EXPECT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(server.ok()) << server.status();
  if (!client.ok() || !server.ok()) return run;
  run.state = PumpHandshake(**client, **server).client;
  run.outcome = (*client)->Outcome();
  run.server_error = (*server)->Outcome().library_error;
  return run;
}

Attempt Raw(const ClientConfig& config, const std::string& server_backend,
            const ServerConfig& server_config) {
  return Against("rawhello", config, server_backend, server_config);
}

// A server that takes everything its library still can, RSA certificate, server order.
ServerConfig WideServer(const std::string& backend, TlsVersion version) {
  CipherSpec spec;
  spec.openssl_ciphers = "ALL:COMPLEMENTOFALL";
  spec.gnutls_priority = "NORMAL:+CAMELLIA-128-CBC:+CAMELLIA-256-CBC:+ANON-ECDH:+ANON-DH";
  ServerConfig config = MakeServerConfig(backend, SharedPki().rsa, spec);
  config.legacy = true;
  config.min_version = version;
  config.max_version = version;
  return config;
}

// The OpenSSL client's widest offer at `version`, by OpenSSL name, in its order.
std::vector<std::string> OpensslWidestNames(TlsVersion version) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "ALL:COMPLEMENTOFALL";
  config.ciphers.openssl_ciphersuites =
      "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
      "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";
  config.min_version = version;
  config.max_version = version;
  config.legacy = true;
  absl::StatusOr<Offer> offer = GetBackend("openssl").Expand(config);
  EXPECT_TRUE(offer.ok()) << offer.status();
  std::vector<std::string> names;
  if (!offer.ok()) return names;
  for (const OfferedSuite& suite : offer->suites) {
    if (suite.version == version) names.push_back(suite.library_name);
  }
  return names;
}

// The same offer for both clients: OpenSSL names mean the same code points to both.
ClientConfig SameOffer(TlsVersion version, const std::vector<std::string>& names) {
  ClientConfig config;
  if (version == TlsVersion::kTls1_3) {
    config.ciphers.openssl_ciphersuites = absl::StrJoin(names, ":");
  } else {
    config.ciphers.openssl_ciphers = absl::StrJoin(names, ":");
  }
  config.min_version = version;
  config.max_version = version;
  config.legacy = true;
  return config;
}

class RawVersusLibraryTest : public ::testing::TestWithParam<std::tuple<std::string, TlsVersion>> {
 protected:
  const std::string& server_backend() const { return std::get<0>(GetParam()); }
  TlsVersion version() const { return std::get<1>(GetParam()); }
};

// The elimination an enumeration runs: offer everything, remove what the server picked, again,
// until it refuses. Every step, the raw engine's reading of the server's choice must equal the
// OpenSSL client's complete handshake on the same offer.
TEST_P(RawVersusLibraryTest, EveryChoiceOfTheEliminationMatchesACompleteHandshake) {
  const ServerConfig server = WideServer(server_backend(), version());
  std::vector<std::string> names = OpensslWidestNames(version());
  ASSERT_FALSE(names.empty());
  int accepted = 0;
  for (int round = 0; round < 400 && !names.empty(); ++round) {
    const ClientConfig offer = SameOffer(version(), names);
    const Attempt library = Against("openssl", offer, server_backend(), server);
    const Attempt raw = Raw(offer, server_backend(), server);
    SCOPED_TRACE(absl::StrFormat("round %d, %d suites offered", round, names.size()));
    if (!library.outcome.success) {
      EXPECT_EQ(library.outcome.failure, FailureClass::kNoSharedCipher)
          << library.outcome.library_error;
      EXPECT_FALSE(raw.outcome.success) << "raw took " << raw.outcome.library_suite_name;
      EXPECT_EQ(raw.outcome.failure, library.outcome.failure) << raw.outcome.library_error;
      EXPECT_EQ(raw.outcome.alert_code, library.outcome.alert_code);
      break;
    }
    ASSERT_EQ(raw.state, HandshakeState::kComplete) << raw.outcome.library_error;
    EXPECT_TRUE(absl::StartsWith(raw.outcome.library_error, "serverhello-only"));
    EXPECT_EQ(raw.outcome.version, library.outcome.version);
    ASSERT_EQ(raw.outcome.suite_code, library.outcome.suite_code)
        << CipherSuiteName(raw.outcome.suite_code) << " vs "
        << CipherSuiteName(library.outcome.suite_code);
    EXPECT_EQ(raw.outcome.group, library.outcome.group)
        << CipherSuiteName(raw.outcome.suite_code) << ": " << GroupName(raw.outcome.group) << " vs "
        << GroupName(library.outcome.group);
    EXPECT_EQ(raw.outcome.dh_bits, library.outcome.dh_bits)
        << CipherSuiteName(raw.outcome.suite_code);
    if (version() != TlsVersion::kTls1_3) {
      // The chain arrives in the clear below TLS 1.3, read by the same X.509 code.
      ASSERT_EQ(raw.outcome.peer_chain.size(), library.outcome.peer_chain.size());
      for (size_t i = 0; i < raw.outcome.peer_chain.size(); ++i) {
        EXPECT_EQ(raw.outcome.peer_chain[i].sha256_hex, library.outcome.peer_chain[i].sha256_hex);
        EXPECT_EQ(raw.outcome.peer_chain[i].subject, library.outcome.peer_chain[i].subject);
      }
    }
    ++accepted;
    const std::string picked = library.outcome.library_suite_name;
    auto at = std::find(names.begin(), names.end(), picked);
    ASSERT_NE(at, names.end()) << picked;
    names.erase(at);
  }
  RecordProperty("accepted_suites", accepted);
  EXPECT_GE(accepted, version() == TlsVersion::kTls1_3 ? 3 : 8);
}

INSTANTIATE_TEST_SUITE_P(
    EveryServerAndVersion, RawVersusLibraryTest,
    ::testing::Combine(::testing::Values("openssl", "gnutls"),
                       ::testing::Values(TlsVersion::kTls1_0, TlsVersion::kTls1_1,
                                         TlsVersion::kTls1_2, TlsVersion::kTls1_3)),
    [](const auto& info) {
      std::string version(TlsVersionName(std::get<1>(info.param)));
      version.erase(std::remove(version.begin(), version.end(), '.'), version.end());
      return std::get<0>(info.param) + "_" + version;
    });

class RawAgainstServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& server_backend() const { return GetParam(); }
  ServerConfig Server(TlsVersion min, TlsVersion max) const {
    ServerConfig config = WideServer(server_backend(), min);
    config.max_version = max;
    return config;
  }
};

TEST_P(RawAgainstServerTest, RealKeySharesForEveryGroupAreAccepted) {
  for (uint16_t group : {29, 30, 23, 24, 25, 256, 257, 258, 259, 260}) {
    ClientConfig config;
    config.min_version = TlsVersion::kTls1_3;
    config.groups = {group};
    const Attempt raw =
        Raw(config, server_backend(), Server(TlsVersion::kTls1_3, TlsVersion::kTls1_3));
    ASSERT_EQ(raw.state, HandshakeState::kComplete)
        << GroupName(group) << ": " << raw.outcome.library_error;
    EXPECT_EQ(raw.outcome.group, group);
    EXPECT_EQ(raw.outcome.library_error, "serverhello-only") << "a key share, no retry";
  }
}

TEST_P(RawAgainstServerTest, HelloRetryRequestNamesTheServersGroupAsALibraryNegotiatesIt) {
  ServerConfig server = Server(TlsVersion::kTls1_3, TlsVersion::kTls1_3);
  server.groups = {24};  // secp384r1 only; the client's key share is x25519.
  ClientConfig config;
  config.min_version = TlsVersion::kTls1_3;
  config.groups = {29, 23, 24};
  const Attempt raw = Raw(config, server_backend(), server);
  ASSERT_EQ(raw.state, HandshakeState::kComplete) << raw.outcome.library_error;
  EXPECT_EQ(raw.outcome.group, 24);
  EXPECT_EQ(raw.outcome.library_error, "serverhello-only; hrr");
  const Attempt library = Against("openssl", config, server_backend(), server);
  ASSERT_TRUE(library.outcome.success) << library.outcome.library_error;
  EXPECT_EQ(raw.outcome.group, library.outcome.group);
  EXPECT_EQ(raw.outcome.suite_code, library.outcome.suite_code);

  server.groups = {258};  // No group in common at all.
  config.groups = {29, 23};
  const Attempt refused = Raw(config, server_backend(), server);
  EXPECT_EQ(refused.outcome.failure, FailureClass::kNoSharedCipher)
      << refused.outcome.library_error;
}

TEST_P(RawAgainstServerTest, Tls12CurveAndDhSizeComeFromServerKeyExchange) {
  ServerConfig server = Server(TlsVersion::kTls1_2, TlsVersion::kTls1_2);
  server.groups = {25, 24};
  ClientConfig ecdhe;
  ecdhe.ciphers.openssl_ciphers = "ECDHE-RSA-AES256-GCM-SHA384";
  ecdhe.max_version = TlsVersion::kTls1_2;
  ecdhe.groups = {23, 24, 25};
  const Attempt raw = Raw(ecdhe, server_backend(), server);
  ASSERT_EQ(raw.state, HandshakeState::kComplete) << raw.outcome.library_error;
  const Attempt library = Against("openssl", ecdhe, server_backend(), server);
  ASSERT_TRUE(library.outcome.success) << library.outcome.library_error;
  EXPECT_EQ(raw.outcome.group, library.outcome.group);
  EXPECT_TRUE(raw.outcome.group == 24 || raw.outcome.group == 25) << GroupName(raw.outcome.group);
  EXPECT_TRUE(absl::StrContains(raw.outcome.library_error, "sigalg=rsa_"))
      << raw.outcome.library_error;

  // GnuTLS takes its DHE parameters from the groups it is allowed, so none are restricted here.
  server.groups.clear();
  ClientConfig dhe;
  dhe.ciphers.openssl_ciphers = "DHE-RSA-AES128-GCM-SHA256";
  dhe.max_version = TlsVersion::kTls1_2;
  const Attempt raw_dhe = Raw(dhe, server_backend(), server);
  ASSERT_EQ(raw_dhe.state, HandshakeState::kComplete) << raw_dhe.outcome.library_error;
  const Attempt library_dhe = Against("openssl", dhe, server_backend(), server);
  ASSERT_TRUE(library_dhe.outcome.success) << library_dhe.outcome.library_error;
  EXPECT_GE(raw_dhe.outcome.dh_bits, 2048u);
  EXPECT_EQ(raw_dhe.outcome.dh_bits, library_dhe.outcome.dh_bits);
  EXPECT_EQ(raw_dhe.outcome.group, 0);
}

TEST_P(RawAgainstServerTest, CertificateIsReadAndVerifiedLikeTheOpensslClientDoes) {
  ServerConfig server = MakeServerConfig(server_backend(), SharedPki().ecdsa);
  server.max_version = TlsVersion::kTls1_2;
  ClientConfig config;
  config.sni = "mx.example.test";
  config.ca_file = SharedPki().factory.ca_file();
  config.max_version = TlsVersion::kTls1_2;
  const Attempt raw = Raw(config, server_backend(), server);
  ASSERT_EQ(raw.state, HandshakeState::kComplete) << raw.outcome.library_error;
  const Attempt library = Against("openssl", config, server_backend(), server);
  ASSERT_TRUE(library.outcome.success) << library.outcome.library_error;
  ASSERT_GE(raw.outcome.peer_chain.size(), 1u);
  EXPECT_EQ(raw.outcome.peer_chain[0].key_type, "EC");
  EXPECT_TRUE(absl::StrContains(raw.outcome.peer_chain[0].subject, "CN=mx.example.test"));
  EXPECT_TRUE(raw.outcome.verification.performed);
  EXPECT_EQ(raw.outcome.verification.trusted, library.outcome.verification.trusted);
  EXPECT_TRUE(raw.outcome.verification.trusted) << raw.outcome.verification.error;
  EXPECT_TRUE(raw.outcome.verification.hostname_match);
  EXPECT_TRUE(absl::StrContains(raw.outcome.library_error, "sigalg=ecdsa_"))
      << raw.outcome.library_error;

  config.verify_name = "other.example.test";
  const Attempt wrong_name = Raw(config, server_backend(), server);
  EXPECT_TRUE(wrong_name.outcome.verification.trusted);
  EXPECT_FALSE(wrong_name.outcome.verification.hostname_match);
}

TEST_P(RawAgainstServerTest, RefusalsGetTheClassesALibraryClientGets) {
  const ServerConfig tls12_only = Server(TlsVersion::kTls1_2, TlsVersion::kTls1_2);
  ClientConfig old_versions;
  old_versions.ciphers.openssl_ciphers = "AES128-SHA";
  old_versions.min_version = TlsVersion::kTls1_0;
  old_versions.max_version = TlsVersion::kTls1_1;
  const Attempt version = Raw(old_versions, server_backend(), tls12_only);
  EXPECT_EQ(version.outcome.failure, FailureClass::kProtocolVersion)
      << version.outcome.library_error;
  const Attempt library = Against("openssl", old_versions, server_backend(), tls12_only);
  EXPECT_EQ(version.outcome.failure, library.outcome.failure);
  EXPECT_EQ(version.outcome.alert_code, library.outcome.alert_code);

  ClientConfig tls13_only;
  tls13_only.min_version = TlsVersion::kTls1_3;
  EXPECT_EQ(Raw(tls13_only, server_backend(), tls12_only).outcome.failure,
            FailureClass::kProtocolVersion);

  ClientConfig weak;
  weak.ciphers.openssl_ciphers = "EXP-RC4-MD5:DES-CBC-SHA:GOST2001-GOST89-GOST89:IDEA-CBC-SHA";
  weak.max_version = TlsVersion::kTls1_2;
  const Attempt none = Raw(weak, server_backend(), tls12_only);
  EXPECT_EQ(none.outcome.failure, FailureClass::kNoSharedCipher) << none.outcome.library_error;
  EXPECT_EQ(none.outcome.alert_code, 40);
  EXPECT_FALSE(none.outcome.alert_sent);
}

INSTANTIATE_TEST_SUITE_P(EveryServer, RawAgainstServerTest, ::testing::Values("openssl", "gnutls"));

// GnuTLS 3.7 still serves 3DES and RC4, which Debian's OpenSSL 3.0 cannot offer at all.
TEST(RawAgainstGnutlsTest, ThreeDesAndRc4SuitesReachAServerThatTakesThem) {
  ClientConfig openssl_attempt;
  openssl_attempt.ciphers.openssl_ciphers = "DES-CBC3-SHA:RC4-SHA";
  openssl_attempt.legacy = true;
  EXPECT_FALSE(GetBackend("openssl").Expand(openssl_attempt).ok())
      << "if OpenSSL can offer these again, this test proves less";

  CipherSpec spec;
  spec.gnutls_priority = "NORMAL:+3DES-CBC:+ARCFOUR-128";
  ServerConfig server = MakeServerConfig("gnutls", SharedPki().rsa, spec);
  server.legacy = true;
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_2}) {
    SCOPED_TRACE(TlsVersionName(version));
    // The GnuTLS client's own hello for these suites, replayed code point for code point.
    ClientConfig gnutls_client;
    gnutls_client.ciphers.gnutls_priority =
        "NONE:+VERS-ALL:+3DES-CBC:+ARCFOUR-128:+RSA:+ECDHE-RSA:+SHA1:+SIGN-ALL:+GROUP-ALL:"
        "+COMP-NULL:+CTYPE-X509";
    gnutls_client.min_version = version;
    gnutls_client.max_version = version;
    gnutls_client.legacy = true;
    auto engine = GetBackend("gnutls").NewClient(gnutls_client);
    ASSERT_TRUE(engine.ok()) << engine.status();
    (*engine)->Advance();
    absl::StatusOr<ClientHello> hello = ParseClientHello((*engine)->TakeOutput());
    ASSERT_TRUE(hello.ok()) << hello.status();

    std::vector<uint16_t> remaining = hello->cipher_suites;
    ClientConfig raw_config;
    raw_config.min_version = version;
    raw_config.max_version = version;
    raw_config.groups = hello->supported_groups;
    std::vector<uint16_t> accepted;
    for (int round = 0; round < 10 && !remaining.empty(); ++round) {
      std::vector<std::string> codes;
      for (uint16_t code : remaining) codes.push_back(absl::StrFormat("0x%04X", code));
      raw_config.ciphers.openssl_ciphers = absl::StrJoin(codes, ":");
      const Attempt raw = Raw(raw_config, "gnutls", server);
      if (round == 0) {
        const Attempt library = Against("gnutls", gnutls_client, "gnutls", server);
        ASSERT_TRUE(library.outcome.success) << library.outcome.library_error;
        EXPECT_EQ(raw.outcome.version, library.outcome.version);
        EXPECT_EQ(raw.outcome.suite_code, library.outcome.suite_code);
        EXPECT_EQ(raw.outcome.group, library.outcome.group);
      }
      if (!raw.outcome.success) {
        EXPECT_EQ(raw.outcome.failure, FailureClass::kNoSharedCipher) << raw.outcome.library_error;
        break;
      }
      accepted.push_back(raw.outcome.suite_code);
      remaining.erase(std::find(remaining.begin(), remaining.end(), raw.outcome.suite_code));
    }
    std::sort(accepted.begin(), accepted.end());
    // TLS_RSA_WITH_RC4_128_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA, and their ECDHE_RSA forms.
    EXPECT_EQ(accepted, (std::vector<uint16_t>{0x0005, 0x000A, 0xC011, 0xC012}));
  }
}

// What a bare OpenSSL server (an SSL object between memory BIOs, no project engine around it)
// answers to `client_bytes`: the project's server engines refuse anything MayBeTlsRecord() calls
// not TLS, SSLv2-format hellos included, before OpenSSL sees them.
std::string BareOpensslServerAnswer(absl::string_view client_bytes) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (!ctx ||
      SSL_CTX_use_certificate_chain_file(ctx.get(), SharedPki().rsa.chain_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), SharedPki().rsa.key_file.c_str(), SSL_FILETYPE_PEM) !=
          1) {
    ADD_FAILURE() << "cannot set up a bare OpenSSL server";
    return "";
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  SSL_CTX_set_security_level(ctx.get(), 0);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl.get(), in, out);
  SSL_set_accept_state(ssl.get());
  BIO_write(in, client_bytes.data(), static_cast<int>(client_bytes.size()));
  (void)SSL_do_handshake(ssl.get());
  ERR_clear_error();
  std::string answer(BIO_ctrl_pending(out), '\0');
  const int read = BIO_read(out, answer.data(), static_cast<int>(answer.size()));
  answer.resize(read > 0 ? static_cast<size_t>(read) : 0);
  return answer;
}

HandshakeOutcome RawAgainstBareOpenssl(const ClientConfig& config) {
  auto engine = GetBackend("rawhello").NewClient(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  (*engine)->Advance();
  (*engine)->ReceiveBytes(BareOpensslServerAnswer((*engine)->TakeOutput()));
  (*engine)->ReceiveEof();
  (*engine)->Advance();
  return (*engine)->Outcome();
}

// OpenSSL 3.0 still reads an SSLv2-format ClientHello that asks for TLS (RFC 5246 E.2) and
// answers it in TLS; one that asks for SSL 2.0 itself it refuses.
TEST(RawAgainstOpensslTest, Sslv2FormatHellos) {
  ClientConfig compatible;
  compatible.ciphers.openssl_ciphers = "SSLv2:AES128-SHA:DES-CBC3-SHA";
  compatible.max_version = TlsVersion::kTls1_2;
  const HandshakeOutcome raw = RawAgainstBareOpenssl(compatible);
  ASSERT_TRUE(raw.success) << raw.library_error;
  EXPECT_EQ(raw.version, TlsVersion::kTls1_2);
  EXPECT_EQ(raw.suite_code, 0x002F);
  EXPECT_EQ(raw.peer_chain.size(), 2u);

  ClientConfig pure;
  pure.ciphers.openssl_ciphers = "SSLv2";
  const HandshakeOutcome refused = RawAgainstBareOpenssl(pure);
  EXPECT_FALSE(refused.success);
  EXPECT_EQ(refused.failure, FailureClass::kProtocolVersion) << refused.library_error;

  // The project's own server engine does not let the SSLv2 record through at all.
  const Attempt engine = Raw(compatible, "openssl", WideServer("openssl", TlsVersion::kTls1_2));
  EXPECT_EQ(engine.outcome.failure, FailureClass::kUnexpectedEof) << engine.server_error;
}

}  // namespace
}  // namespace tlsweep::backends
