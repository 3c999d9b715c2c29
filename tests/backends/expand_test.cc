// Expand must say exactly what a client config offers: it agrees with `openssl ciphers -s -v`,
// and every (version, suite) it lists is negotiated against a server limited to that pair.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/cipher_suite_table.h"
#include "backends/memory_pump.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/run_command.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::RunCommand;
using ::tlsweep::testing::SharedPki;
using ::tlsweep::testing::ShellQuote;

std::set<std::string> LibraryNamesFor(const Offer& offer, TlsVersion version,
                                      bool never_completing_only = false) {
  std::set<std::string> names;
  for (const OfferedSuite& suite : offer.suites) {
    if (suite.version == version && (!never_completing_only || !suite.completes)) {
      names.insert(suite.library_name);
    }
  }
  return names;
}

// What `openssl ciphers -s -v` lists for one version (the legacy provider loaded, as ours is).
std::set<std::string> OpensslCiphersCommand(const std::string& spec, TlsVersion version,
                                            bool legacy) {
  const char* flag = version == TlsVersion::kTls1_0   ? "-tls1"
                     : version == TlsVersion::kTls1_1 ? "-tls1_1"
                     : version == TlsVersion::kTls1_2 ? "-tls1_2"
                                                      : "-tls1_3";
  const std::string cipher_string = legacy ? spec + ":@SECLEVEL=0" : spec;
  absl::StatusOr<testing::CommandResult> result =
      RunCommand(absl::StrCat("openssl ciphers -provider legacy -provider default -s ", flag,
                              " -v ", ShellQuote(cipher_string), " 2>/dev/null"));
  std::set<std::string> names;
  if (!result.ok() || result->exit_code != 0) return names;
  for (absl::string_view line : absl::StrSplit(result->output, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 2) continue;
    // The command lists the TLS 1.3 suites whatever version it is asked about.
    const bool tls13_line = fields[1] == "TLSv1.3";
    if (tls13_line == (version == TlsVersion::kTls1_3)) names.insert(fields[0]);
  }
  return names;
}

struct CommandCase {
  std::string spec;
  bool legacy;
};

TEST(OpensslExpandTest, AgreesWithOpensslCiphersForEveryVersion) {
  const std::vector<CommandCase> cases = {{"DEFAULT", false},      {"HIGH:!aNULL", false},
                                          {"ECDHE+AESGCM", false}, {"ALL:COMPLEMENTOFALL", true},
                                          {"AES256-SHA", true},    {"MEDIUM:HIGH:aNULL", true}};
  Backend& openssl = GetBackend("openssl");
  int compared = 0;
  for (const CommandCase& c : cases) {
    ClientConfig config;
    config.ciphers.openssl_ciphers = c.spec;
    config.legacy = c.legacy;
    absl::StatusOr<Offer> offer = openssl.Expand(config);
    ASSERT_TRUE(offer.ok()) << offer.status();
    for (TlsVersion version : openssl.SpeakableVersions()) {
      const std::set<std::string> expected = OpensslCiphersCommand(c.spec, version, c.legacy);
      EXPECT_EQ(LibraryNamesFor(*offer, version), expected)
          << c.spec << " at " << TlsVersionName(version);
      // Below TLS 1.2 and above security level 0, the suites whose key exchange needs a SHA-1
      // signature are offered but refused in the handshake (ExpandLiveTest proves both).
      std::set<std::string> never_completing;
      if (!c.legacy && version < TlsVersion::kTls1_2) {
        for (const std::string& name : expected) {
          if (absl::StrContains(name, "ECDHE-") || absl::StrContains(name, "DHE-")) {
            never_completing.insert(name);
          }
        }
      }
      EXPECT_EQ(LibraryNamesFor(*offer, version, /*never_completing_only=*/true), never_completing)
          << c.spec << " at " << TlsVersionName(version);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 24);
}

TEST(OpensslExpandTest, VersionBoundsAndBadStrings) {
  Backend& openssl = GetBackend("openssl");
  ClientConfig config;
  config.min_version = TlsVersion::kTls1_2;
  config.max_version = TlsVersion::kTls1_2;
  absl::StatusOr<Offer> offer = openssl.Expand(config);
  ASSERT_TRUE(offer.ok());
  EXPECT_EQ(offer->versions, std::vector<TlsVersion>{TlsVersion::kTls1_2});
  EXPECT_FALSE(offer->groups.empty());
  config.ciphers.openssl_ciphers = "NO-SUCH-CIPHER";
  EXPECT_TRUE(absl::IsInvalidArgument(openssl.Expand(config).status()));
}

// For each offered pair, an OpenSSL server (security level 0) limited to exactly that suite and
// version must complete a handshake with the config, on exactly that suite; or, for a pair
// marked as never completing, the client must abort it. Returns the marked pairs checked.
struct LiveCase {
  std::string backend;
  ClientConfig config;
};

int ExpectEveryOfferedPairNegotiates(const LiveCase& live) {
  Backend& client_backend = GetBackend(live.backend);
  absl::StatusOr<Offer> offer = client_backend.Expand(live.config);
  EXPECT_TRUE(offer.ok()) << offer.status();
  if (!offer.ok() || offer->suites.empty()) {
    ADD_FAILURE() << "nothing offered";
    return 0;
  }
  int checked = 0;
  int never_completing = 0;
  for (const OfferedSuite& offered : offer->suites) {
    const CipherSuiteInfo* info = FindCipherSuite(offered.code_point);
    if (info == nullptr) {
      ADD_FAILURE() << "unknown suite " << offered.code_point;
      continue;
    }
    // The test server can present RSA and ECDSA certificates, or none (anonymous suites).
    const bool ecdsa = info->authentication == "ECDSA";
    if (!(ecdsa || info->authentication == "RSA" || info->authentication == "None" ||
          info->authentication == "any") ||
        info->openssl_name.empty()) {
      continue;
    }
    CipherSpec spec;
    if (IsTls13Suite(offered.code_point)) {
      spec.openssl_ciphersuites = std::string(info->iana_name);
    } else {
      spec.openssl_ciphers = std::string(info->openssl_name);
    }
    ServerConfig server_config =
        MakeServerConfig("openssl", ecdsa ? SharedPki().ecdsa : SharedPki().rsa, spec);
    server_config.legacy = true;
    server_config.min_version = offered.version;
    server_config.max_version = offered.version;
    auto server = GetBackend("openssl").NewServer(server_config);
    if (!server.ok()) continue;  // A suite this OpenSSL cannot serve (3DES, RC4...).
    auto client = client_backend.NewClient(live.config);
    if (!client.ok()) {
      ADD_FAILURE() << client.status();
      continue;
    }
    const PumpResult result = PumpHandshake(**client, **server);
    ++checked;
    if (!offered.completes) {
      EXPECT_EQ(result.client, HandshakeState::kFailed)
          << info->iana_name << " at " << TlsVersionName(offered.version)
          << " is marked as never completing";
      ++never_completing;
      continue;
    }
    EXPECT_EQ(result.client, HandshakeState::kComplete)
        << live.backend << " " << info->iana_name << " " << TlsVersionName(offered.version) << ": "
        << (*client)->Outcome().library_error;
    EXPECT_EQ((*client)->Outcome().suite_code, offered.code_point) << info->iana_name;
    EXPECT_EQ((*client)->Outcome().version, offered.version) << info->iana_name;
  }
  // Suites the test server cannot present (DSS, PSK; 3DES and RC4 from GnuTLS) are skipped.
  EXPECT_GE(checked * 2, static_cast<int>(offer->suites.size()));
  return never_completing;
}

void ExpectUnofferedSuiteFails(const LiveCase& live, const std::string& openssl_suite,
                               TlsVersion version) {
  absl::StatusOr<Offer> offer = GetBackend(live.backend).Expand(live.config);
  ASSERT_TRUE(offer.ok());
  const CipherSuiteInfo* info = nullptr;
  for (const CipherSuiteInfo& suite : AllCipherSuites()) {
    if (suite.openssl_name == openssl_suite) info = &suite;
  }
  ASSERT_NE(info, nullptr);
  for (const OfferedSuite& offered : offer->suites) {
    ASSERT_FALSE(offered.code_point == info->code_point && offered.version == version);
  }
  CipherSpec spec;
  spec.openssl_ciphers = openssl_suite;
  ServerConfig server_config = MakeServerConfig("openssl", SharedPki().rsa, spec);
  server_config.legacy = true;
  server_config.min_version = version;
  server_config.max_version = version;
  auto server = GetBackend("openssl").NewServer(server_config);
  auto client = GetBackend(live.backend).NewClient(live.config);
  ASSERT_TRUE(server.ok() && client.ok());
  EXPECT_EQ(PumpHandshake(**client, **server).client, HandshakeState::kFailed);
}

bool GnutlsBuilt() {
  for (const std::string& name : ::tlsweep::testing::BuiltBackendNames()) {
    if (name == "gnutls") return true;
  }
  return false;
}

TEST(ExpandLiveTest, OpensslDefaultOffersExactlyWhatNegotiates) {
  LiveCase live{"openssl", {}};
  // TLS 1.0 and 1.1 offer ECDHE-RSA-AES256-SHA and its kin, and abort on them.
  EXPECT_GT(ExpectEveryOfferedPairNegotiates(live), 0);
}

TEST(ExpandLiveTest, OpensslLegacyOffersExactlyWhatNegotiates) {
  LiveCase live{"openssl", {}};
  live.config.ciphers.openssl_ciphers = "ALL:COMPLEMENTOFALL";
  live.config.legacy = true;
  EXPECT_EQ(ExpectEveryOfferedPairNegotiates(live), 0) << "security level 0 signs with SHA-1";
}

TEST(ExpandLiveTest, OpensslRestrictedStringLeavesOthersOut) {
  LiveCase live{"openssl", {}};
  live.config.ciphers.openssl_ciphers = "ECDHE+AESGCM";
  live.config.max_version = TlsVersion::kTls1_2;
  EXPECT_EQ(ExpectEveryOfferedPairNegotiates(live), 0);
  ExpectUnofferedSuiteFails(live, "AES256-SHA", TlsVersion::kTls1_2);
  ExpectUnofferedSuiteFails(live, "ECDHE-RSA-AES128-SHA256", TlsVersion::kTls1_2);
}

TEST(ExpandLiveTest, GnutlsNormalOffersExactlyWhatNegotiates) {
  if (!GnutlsBuilt()) GTEST_SKIP() << "gnutls backend not built (TLSWEEP_BACKENDS)";
  LiveCase live{"gnutls", {}};
  live.config.ciphers.gnutls_priority = "NORMAL";
  EXPECT_EQ(ExpectEveryOfferedPairNegotiates(live), 0);
}

TEST(ExpandLiveTest, GnutlsLegacyOffersExactlyWhatNegotiates) {
  if (!GnutlsBuilt()) GTEST_SKIP() << "gnutls backend not built (TLSWEEP_BACKENDS)";
  LiveCase live{"gnutls", {}};
  live.config.ciphers.gnutls_priority = "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+AES-256-CBC:+SHA1";
  live.config.legacy = true;
  EXPECT_EQ(ExpectEveryOfferedPairNegotiates(live), 0);
  ExpectUnofferedSuiteFails(live, "CAMELLIA128-SHA", TlsVersion::kTls1_2);
}

}  // namespace
}  // namespace tlsweep::backends
