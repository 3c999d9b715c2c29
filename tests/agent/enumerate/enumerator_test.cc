// The elimination against real server engines in memory (no sockets): what it finds must be
// exactly what one-suite-at-a-time handshakes find, the preference must be read right, and the
// handshake count must stay near the floor.
#include "agent/enumerate/enumerator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"
#include "backends/memory_pump.h"
#include "backends/outcome_proto.h"
#include "tests/testing/backend_fixture.h"
#ifdef TLSWEEP_TEST_RAWHELLO
#include "tests/backends/rawhello/raw_test_support.h"
#endif

namespace tlsweep::agent {
namespace {

using backends::TlsVersion;
using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;
using tlsweep::v1::VersionEnumeration;

backends::CipherSpec OpensslSpec(const std::string& ciphers) {
  backends::CipherSpec spec;
  spec.openssl_ciphers = ciphers;
  return spec;
}

backends::CipherSpec GnutlsSpec(const std::string& priority) {
  backends::CipherSpec spec;
  spec.gnutls_priority = priority;
  return spec;
}

const OfferPlan& Plan() {
  static const OfferPlan* plan = [] {
    std::vector<backends::Backend*> backends = {&GetBackend("openssl"), &GetBackend("gnutls")};
    absl::StatusOr<OfferPlan> built = BuildOfferPlan(backends);
    EXPECT_TRUE(built.ok()) << built.status();
    return new OfferPlan(built.ok() ? *std::move(built) : OfferPlan{});
  }();
  return *plan;
}

// A fresh server engine per handshake, as a server forks per connection.
class MemoryChannel final : public HelloChannel {
 public:
  MemoryChannel(const std::string& backend, backends::ServerConfig config)
      : backend_(GetBackend(backend)), config_(std::move(config)) {}

  asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) override {
    ++exchanges_;
    absl::StatusOr<std::unique_ptr<backends::TlsEngine>> server = backend_.NewServer(config_);
    if (!server.ok()) {
      ServerAnswer answer;
      answer.kind = ServerAnswer::Kind::kNoConnection;
      answer.detail = std::string(server.status().message());
      co_return answer;
    }
    (*server)->ReceiveBytes(hello.records);
    const bool failed = (*server)->Advance() == backends::HandshakeState::kFailed;
    co_return ClassifyServerBytes((*server)->TakeOutput(), failed);
  }

  asio::awaitable<CompletedHandshake> Complete(backends::Backend& backend,
                                               const backends::ClientConfig& config) override {
    ++completes_;
    CompletedHandshake done;
    absl::StatusOr<std::unique_ptr<backends::TlsEngine>> server = backend_.NewServer(config_);
    absl::StatusOr<std::unique_ptr<backends::TlsEngine>> client = backend.NewClient(config);
    if (!server.ok() || !client.ok()) {
      done.detail = "no engine";
      co_return done;
    }
    done.connected = true;
    backends::PumpHandshake(**client, **server);
    done.outcome = (*client)->Outcome();
    co_return done;
  }

  int exchanges() const { return exchanges_; }
  int completes() const { return completes_; }

 private:
  backends::Backend& backend_;
  backends::ServerConfig config_;
  int exchanges_ = 0;
  int completes_ = 0;
};

template <typename T>
T RunSync(asio::awaitable<T> task) {
  asio::io_context io;
  T result{};
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await std::move(task); }, asio::detached);
  io.run();
  return result;
}

EnumerationRun Enumerate(MemoryChannel& channel, bool groups = true) {
  EnumeratorOptions options;
  options.sni = "mx.example.test";
  options.enumerate_groups = groups;
  return RunSync(agent::Enumerate(Plan(), channel, options));
}

// Suites accepted at `version`, one handshake per suite that a backend can offer alone.
std::set<uint16_t> SingleSuiteTruth(MemoryChannel& channel, TlsVersion version) {
  std::set<uint16_t> accepted, judged;
  for (const VersionPlan& plan : Plan().versions) {
    if (plan.version != version) continue;
    for (const BackendOffer& offer : plan.offers) {
      for (const backends::OfferedSuite& suite : offer.suites) {
        if (!judged.insert(suite.code_point).second) continue;
        const uint16_t code = suite.code_point;
        absl::StatusOr<backends::ClientConfig> config = ConfigFor(offer, version, {&code, 1}, {});
        if (!config.ok()) continue;
        absl::StatusOr<PreparedHello> hello = PrepareHello(*offer.backend, *config);
        if (!hello.ok()) continue;
        std::set<uint16_t> offered;
        for (uint16_t c : hello->parsed.cipher_suites) {
          if (DefinedAt(c, version)) offered.insert(c);
        }
        if (offered != std::set<uint16_t>{code}) {
          judged.erase(code);  // Another backend may offer it alone.
          continue;
        }
        const ServerAnswer answer = RunSync(channel.Exchange(*hello));
        if (answer.kind == ServerAnswer::Kind::kServerHello && answer.hello.version == version &&
            answer.hello.cipher_suite == code) {
          accepted.insert(code);
        }
      }
    }
  }
  return accepted;
}

const VersionEnumeration& At(const tlsweep::v1::Enumeration& enumeration, TlsVersion version) {
  for (const VersionEnumeration& v : enumeration.versions()) {
    if (v.version() == backends::VersionToProto(version)) return v;
  }
  static const VersionEnumeration kNone;
  return kNone;
}

std::vector<uint16_t> SuiteCodes(const VersionEnumeration& version) {
  std::vector<uint16_t> codes;
  for (const auto& suite : version.suites()) codes.push_back(suite.code_point());
  return codes;
}

std::string Names(const std::vector<uint16_t>& codes) {
  std::vector<std::string> names;
  for (uint16_t code : codes) names.push_back(backends::CipherSuiteName(code));
  return absl::StrJoin(names, ", ");
}

// The goal of the issue: supported suites + versions tested + a small constant, plus one
// handshake per accepted TLS 1.3 group and one refusal for groups.
void ExpectWithinBudget(const tlsweep::v1::Enumeration& enumeration, uint32_t constant) {
  uint32_t supported = 0, tested = 0, groups = 0;
  for (const VersionEnumeration& v : enumeration.versions()) {
    if (v.status() == VersionEnumeration::NOT_TESTED) continue;
    ++tested;
    supported += v.suites_size();
    if (v.groups_tested()) groups += v.groups_size() + 1;
  }
  EXPECT_LE(enumeration.handshakes(), supported + tested + constant + groups)
      << "supported " << supported << ", versions " << tested << ", group handshakes " << groups;
  EXPECT_GE(enumeration.handshakes(), enumeration.floor_handshakes());
}

backends::ServerConfig OpensslServer(const std::string& ciphers, TlsVersion min, TlsVersion max,
                                     bool prefer_server) {
  backends::ServerConfig config =
      MakeServerConfig("openssl", SharedPki().rsa, OpensslSpec(ciphers));
  config.min_version = min;
  config.max_version = max;
  config.prefer_server_ciphers = prefer_server;
  config.legacy = true;
  return config;
}

constexpr char kMixedOrder[] =
    "ECDHE-RSA-AES128-SHA:AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA";
const std::vector<uint16_t> kMixedOrderCodes = {0xC013, 0x009D, 0xCCA8, 0x002F};

TEST(EnumeratorTest, ServerPreferenceGivesTheServersOrder) {
  MemoryChannel channel("openssl", OpensslServer(kMixedOrder, TlsVersion::kTls1_2,
                                                 TlsVersion::kTls1_2, /*prefer_server=*/true));
  const EnumerationRun run = Enumerate(channel);
  ASSERT_FALSE(run.aborted);
  const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
  EXPECT_EQ(tls12.status(), VersionEnumeration::SUPPORTED);
  EXPECT_EQ(SuiteCodes(tls12), kMixedOrderCodes) << Names(SuiteCodes(tls12));
  EXPECT_TRUE(tls12.preference_tested());
  EXPECT_TRUE(tls12.server_preference());
  EXPECT_EQ(tls12.found_by(0), "openssl");
  EXPECT_EQ(tls12.confirmation(), VersionEnumeration::CONFIRMED) << tls12.confirmation_detail();
  // TLS 1.2 curves, with complete handshakes offering the accepted ECDHE suites.
  EXPECT_TRUE(tls12.groups_tested());
  const std::set<std::string> curves(tls12.groups().begin(), tls12.groups().end());
  EXPECT_TRUE(curves.contains("x25519") && curves.contains("secp256r1"))
      << absl::StrJoin(tls12.groups(), " ");
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_3}) {
    EXPECT_EQ(At(run.enumeration, version).status(), VersionEnumeration::NOT_SUPPORTED)
        << backends::TlsVersionName(version) << ": " << At(run.enumeration, version).detail();
  }
  EXPECT_EQ(At(run.enumeration, TlsVersion::kSsl3).status(), VersionEnumeration::NOT_TESTED);
  EXPECT_EQ(run.enumeration.floor_handshakes(), 5u);
  EXPECT_EQ(run.enumeration.handshakes(), static_cast<uint32_t>(channel.exchanges()));
  // 4 suites + 1 refusal + the GnuTLS-only refusal, and one refused handshake per other version.
  EXPECT_EQ(run.enumeration.handshakes(), 9u);
  ExpectWithinBudget(run.enumeration, 3);
}

TEST(EnumeratorTest, ClientPreferenceIsDetectedWithoutAnExtraHandshake) {
  MemoryChannel channel("openssl", OpensslServer(kMixedOrder, TlsVersion::kTls1_2,
                                                 TlsVersion::kTls1_2, /*prefer_server=*/false));
  const EnumerationRun run = Enumerate(channel);
  const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
  const std::vector<uint16_t> found = SuiteCodes(tls12);
  EXPECT_EQ(std::set<uint16_t>(found.begin(), found.end()),
            std::set<uint16_t>(kMixedOrderCodes.begin(), kMixedOrderCodes.end()));
  EXPECT_TRUE(tls12.preference_tested());
  EXPECT_FALSE(tls12.server_preference());
  EXPECT_EQ(run.enumeration.handshakes(), 9u);
  ExpectWithinBudget(run.enumeration, 3);
}

TEST(EnumeratorTest, Tls13SuitesPreferenceAndGroupsInServerOrder) {
  for (bool prefer_server : {true, false}) {
    backends::ServerConfig config =
        OpensslServer("", TlsVersion::kTls1_3, TlsVersion::kTls1_3, prefer_server);
    config.ciphers.openssl_ciphersuites =
        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
    config.groups = {24, 23};  // secp384r1 before secp256r1.
    MemoryChannel channel("openssl", config);
    const EnumerationRun run = Enumerate(channel);
    const VersionEnumeration& tls13 = At(run.enumeration, TlsVersion::kTls1_3);
    ASSERT_EQ(tls13.status(), VersionEnumeration::SUPPORTED) << tls13.detail();
    if (prefer_server) {
      EXPECT_EQ(SuiteCodes(tls13), (std::vector<uint16_t>{0x1302, 0x1303, 0x1301}));
    } else {
      const std::vector<uint16_t> found = SuiteCodes(tls13);
      EXPECT_EQ(std::set<uint16_t>(found.begin(), found.end()),
                (std::set<uint16_t>{0x1301, 0x1302, 0x1303}));
    }
    EXPECT_TRUE(tls13.preference_tested());
    EXPECT_EQ(tls13.server_preference(), prefer_server);
    EXPECT_TRUE(tls13.groups_tested()) << tls13.detail();
    // An OpenSSL server takes the client's key share whenever it accepts that group, whatever
    // its suite preference: the order test shows it, and the groups claim no server order.
    EXPECT_TRUE(tls13.group_preference_tested());
    EXPECT_FALSE(tls13.group_server_preference());
    EXPECT_EQ(std::vector<std::string>(tls13.groups().begin(), tls13.groups().end()),
              (std::vector<std::string>{"secp256r1", "secp384r1"}));
    // 3 suites + 1 refusal; 2 groups + 1 refusal + 1 order test; one refusal for each of
    // TLS 1.0-1.2.
    EXPECT_EQ(run.enumeration.handshakes(), 11u) << "prefer_server " << prefer_server;
    ExpectWithinBudget(run.enumeration, 3);
  }
}

TEST(EnumeratorTest, SuitesOnlyGnutlsCanOfferAreFoundThroughGnutls) {
  backends::ServerConfig config =
      MakeServerConfig("gnutls", SharedPki().rsa,
                       GnutlsSpec("NONE:+VERS-TLS1.2:+VERS-TLS1.0:+RSA:+ECDHE-RSA:+AES-128-CBC:"
                                  "+3DES-CBC:+ARCFOUR-128:+CAMELLIA-128-GCM:+SHA1:+MD5:+AEAD:"
                                  "+SIGN-ALL:+GROUP-ALL:+COMP-NULL:+CTYPE-X509"));
  MemoryChannel channel("gnutls", config);
  const EnumerationRun run = Enumerate(channel);
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2}) {
    const VersionEnumeration& result = At(run.enumeration, version);
    const std::vector<uint16_t> found = SuiteCodes(result);
    const std::set<uint16_t> truth = SingleSuiteTruth(channel, version);
    EXPECT_EQ(std::set<uint16_t>(found.begin(), found.end()), truth)
        << backends::TlsVersionName(version) << ": found " << Names(found) << "; truth "
        << Names({truth.begin(), truth.end()}) << "; " << result.detail();
    if (version == TlsVersion::kTls1_1) {
      EXPECT_EQ(result.status(), VersionEnumeration::NOT_SUPPORTED);
      continue;
    }
    ASSERT_EQ(result.status(), VersionEnumeration::SUPPORTED);
    EXPECT_TRUE(truth.contains(0x000A)) << "RSA 3DES must be accepted";
    EXPECT_TRUE(truth.contains(0x0005)) << "RSA RC4-SHA must be accepted";
    for (int i = 0; i < result.suites_size(); ++i) {
      const bool openssl_can = Plan().versions[static_cast<int>(version) - 0x0300].offers[0].Offers(
          result.suites(i).code_point());
      EXPECT_EQ(result.found_by(i), openssl_can ? "openssl" : "gnutls")
          << result.suites(i).iana_name();
    }
  }
}

// Accuracy over a wide legacy configuration: every version, every suite OpenSSL has.
TEST(EnumeratorTest, WideLegacyServerMatchesSingleSuiteHandshakes) {
  for (bool prefer_server : {true, false}) {
    MemoryChannel channel("openssl",
                          OpensslServer("ALL:COMPLEMENTOFALL:@SECLEVEL=0", TlsVersion::kTls1_0,
                                        TlsVersion::kTls1_3, prefer_server));
    const EnumerationRun run = Enumerate(channel, /*groups=*/false);
    for (TlsVersion version :
         {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2, TlsVersion::kTls1_3}) {
      const VersionEnumeration& result = At(run.enumeration, version);
      const std::vector<uint16_t> found = SuiteCodes(result);
      const std::set<uint16_t> truth = SingleSuiteTruth(channel, version);
      EXPECT_FALSE(truth.empty());
      EXPECT_EQ(std::set<uint16_t>(found.begin(), found.end()), truth)
          << backends::TlsVersionName(version) << " prefer_server " << prefer_server << ": "
          << result.detail();
      EXPECT_EQ(result.server_preference(), prefer_server) << backends::TlsVersionName(version);
    }
    ExpectWithinBudget(run.enumeration, 3);
  }
}

// TLS <= 1.2 curves: a server limited to P-384 is found limited to it (a candidate offering only
// X25519 and P-256 would skip its ECDHE suites), and the curve order is read for real.
TEST(EnumeratorTest, Tls12CurvesAndWhoseOrderPicksThem) {
  for (bool prefer_server : {true, false}) {
    SCOPED_TRACE(prefer_server ? "server preference" : "client preference");
    backends::ServerConfig config =
        OpensslServer("ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA", TlsVersion::kTls1_2,
                      TlsVersion::kTls1_2, prefer_server);
    config.groups = {24, 23};  // secp384r1, then secp256r1.
    MemoryChannel channel("openssl", config);
    const EnumerationRun run = Enumerate(channel);
    const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
    ASSERT_EQ(tls12.status(), VersionEnumeration::SUPPORTED) << tls12.detail();
    EXPECT_EQ(tls12.confirmation(), VersionEnumeration::CONFIRMED);
    EXPECT_TRUE(tls12.groups_tested());
    EXPECT_TRUE(tls12.group_preference_tested()) << tls12.detail();
    EXPECT_EQ(tls12.group_server_preference(), prefer_server);
    const std::vector<std::string> groups(tls12.groups().begin(), tls12.groups().end());
    if (prefer_server) {
      EXPECT_EQ(groups, (std::vector<std::string>{"secp384r1", "secp256r1"}));
    } else {
      EXPECT_EQ(std::set<std::string>(groups.begin(), groups.end()),
                (std::set<std::string>{"secp384r1", "secp256r1"}));
    }
    // One confirming handshake, one per curve and one refusal, one order test.
    EXPECT_EQ(run.enumeration.confirmation_handshakes(), 5u);
    EXPECT_EQ(channel.completes(), 5);
  }
}

TEST(EnumeratorTest, DhePrimeSizeIsRead) {
  MemoryChannel channel("openssl", OpensslServer("DHE-RSA-AES128-GCM-SHA256", TlsVersion::kTls1_2,
                                                 TlsVersion::kTls1_2, /*prefer_server=*/true));
  const EnumerationRun run = Enumerate(channel);
  const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
  ASSERT_EQ(tls12.status(), VersionEnumeration::SUPPORTED) << tls12.detail();
  EXPECT_GE(tls12.dh_bits(), 2048u);
  EXPECT_EQ(tls12.groups_size(), 0);
}

// A server that answers ServerHello and then fails: the channel's complete handshakes fail for
// the suites in `broken` (all of them when empty), as OpenSMTPD on Debian 12 does for every one.
class BrokenAfterHelloChannel final : public HelloChannel {
 public:
  BrokenAfterHelloChannel(MemoryChannel& inner, std::set<uint16_t> broken)
      : inner_(inner), broken_(std::move(broken)) {}

  asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) override {
    return inner_.Exchange(hello);
  }
  asio::awaitable<CompletedHandshake> Complete(backends::Backend& backend,
                                               const backends::ClientConfig& config) override {
    CompletedHandshake done = co_await inner_.Complete(backend, config);
    if (done.outcome.success && (broken_.empty() || broken_.contains(done.outcome.suite_code))) {
      done.outcome = backends::HandshakeOutcome();
      done.outcome.failure = backends::FailureClass::kAlertReceived;
      done.outcome.alert_code = 80;
      done.outcome.library_error = "internal error after the ServerHello";
    }
    co_return done;
  }

 private:
  MemoryChannel& inner_;
  std::set<uint16_t> broken_;
};

TEST(EnumeratorTest, AServerThatFailsEveryHandshakeIsBrokenNotSupported) {
  MemoryChannel inner("openssl", OpensslServer(kMixedOrder, TlsVersion::kTls1_2,
                                               TlsVersion::kTls1_2, /*prefer_server=*/true));
  BrokenAfterHelloChannel channel(inner, {});
  EnumeratorOptions options;
  options.sni = "mx.example.test";
  const EnumerationRun run = RunSync(agent::Enumerate(Plan(), channel, options));
  const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
  EXPECT_EQ(tls12.suites_size(), 4);  // What the ServerHellos said.
  EXPECT_EQ(tls12.confirmation(), VersionEnumeration::HELLO_ONLY);
  EXPECT_EQ(tls12.hello_only_suites_size(), 4);
  EXPECT_EQ(tls12.hello_only_failure(), tlsweep::v1::TLS_FAILURE_ALERT_RECEIVED);
  EXPECT_FALSE(tls12.groups_tested());  // Nothing completes: no curve can be read.
  EXPECT_TRUE(run.enumeration.broken_server());
  // One handshake offering all four, then one per suite.
  EXPECT_EQ(run.enumeration.confirmation_handshakes(), 5u);
}

TEST(EnumeratorTest, SuitesThatFailAfterTheServerHelloAreMarked) {
  MemoryChannel inner("openssl", OpensslServer(kMixedOrder, TlsVersion::kTls1_2,
                                               TlsVersion::kTls1_2, /*prefer_server=*/true));
  BrokenAfterHelloChannel channel(inner, {0xC013});  // The server's first choice.
  EnumeratorOptions options;
  const EnumerationRun run = RunSync(agent::Enumerate(Plan(), channel, options));
  const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
  EXPECT_EQ(tls12.confirmation(), VersionEnumeration::PARTLY_CONFIRMED);
  EXPECT_EQ(
      std::vector<uint32_t>(tls12.hello_only_suites().begin(), tls12.hello_only_suites().end()),
      std::vector<uint32_t>{0xC013});
  EXPECT_FALSE(run.enumeration.broken_server());
}

// The channel stops letting us in half way (a 4xx after every retry): what was found is kept,
// and the versions not finished are INCOMPLETE, never SUPPORTED with a partial list.
class RefusingAfterChannel final : public HelloChannel {
 public:
  RefusingAfterChannel(MemoryChannel& inner, int allowed) : inner_(inner), allowed_(allowed) {}

  asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) override {
    if (allowed_-- > 0) {
      ServerAnswer answer = co_await inner_.Exchange(hello);
      co_return answer;
    }
    ServerAnswer answer;
    answer.kind = ServerAnswer::Kind::kNoConnection;
    answer.detail = "still refused after 4 attempts: banner 451 Too many connections";
    co_return answer;
  }
  asio::awaitable<CompletedHandshake> Complete(backends::Backend& backend,
                                               const backends::ClientConfig& config) override {
    return inner_.Complete(backend, config);
  }

 private:
  MemoryChannel& inner_;
  int allowed_;
};

TEST(EnumeratorTest, ACutShortEnumerationIsIncompleteNotSupported) {
  MemoryChannel inner("openssl", OpensslServer(kMixedOrder, TlsVersion::kTls1_0,
                                               TlsVersion::kTls1_3, /*prefer_server=*/true));
  RefusingAfterChannel channel(inner, 2);
  EnumeratorOptions options;
  options.versions = {TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  const EnumerationRun run = RunSync(agent::Enumerate(Plan(), channel, options));
  EXPECT_TRUE(run.aborted);
  const VersionEnumeration& tls12 = At(run.enumeration, TlsVersion::kTls1_2);
  EXPECT_EQ(tls12.status(), VersionEnumeration::INCOMPLETE) << tls12.detail();
  EXPECT_EQ(tls12.suites_size(), 2);
  const VersionEnumeration& tls13 = At(run.enumeration, TlsVersion::kTls1_3);
  EXPECT_EQ(tls13.status(), VersionEnumeration::INCOMPLETE);
  EXPECT_NE(tls13.detail().find("451 Too many connections"), std::string::npos) << tls13.detail();
}

#ifdef TLSWEEP_TEST_RAWHELLO
const OfferPlan& PlanWithRaw() {
  static const OfferPlan* plan = [] {
    std::vector<backends::Backend*> backends = {&GetBackend("openssl"), &GetBackend("gnutls"),
                                                &GetBackend("rawhello")};
    absl::StatusOr<OfferPlan> built = BuildOfferPlan(backends);
    EXPECT_TRUE(built.ok()) << built.status();
    return new OfferPlan(built.ok() ? *std::move(built) : OfferPlan{});
  }();
  return *plan;
}

// A ServerHello record choosing `suite` at `version`, without extensions (as SSLv3 and the
// servers of EXPORT days wrote it).
std::string LegacyServerHello(TlsVersion version, uint16_t suite) {
  const uint16_t wire = static_cast<uint16_t>(version);
  std::string body = {static_cast<char>(wire >> 8), static_cast<char>(wire & 0xff)};
  body += std::string(32, 'r');  // random
  body += '\0';                  // no session id
  body += {static_cast<char>(suite >> 8), static_cast<char>(suite & 0xff), '\0'};
  std::string message = {2, 0, 0, static_cast<char>(body.size())};
  message += body;
  std::string record = {22, static_cast<char>(wire >> 8), static_cast<char>(wire & 0xff), 0,
                        static_cast<char>(message.size())};
  return record + message;
}

// The minimal scripted responder the rawhello tests use too, in front of a real server: no
// Debian 12 server can still accept EXPORT, DES or SSLv3, so at the versions of `script` the
// suites listed there (in the server's order) are answered with a written ServerHello, and
// everything else goes to the real server engine. It proves the enumeration's handling of what
// only the raw backend can offer, not that any server behaves so.
class ScriptedLegacyChannel final : public HelloChannel {
 public:
  ScriptedLegacyChannel(MemoryChannel& inner, std::map<TlsVersion, std::vector<uint16_t>> script)
      : inner_(inner), script_(std::move(script)) {}

  asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) override {
    const backends::ClientHello& offer = hello.parsed;
    TlsVersion version = offer.legacy_version;
    for (TlsVersion v : offer.supported_versions) version = std::max(version, v);
    if (auto it = script_.find(version); it != script_.end()) {
      for (uint16_t suite : it->second) {
        if (std::find(offer.cipher_suites.begin(), offer.cipher_suites.end(), suite) !=
            offer.cipher_suites.end()) {
          ++scripted_;
          co_return ClassifyServerBytes(LegacyServerHello(version, suite), false);
        }
      }
    }
    if (version == TlsVersion::kSsl3) {  // The real engines have no SSLv3: what they answer.
      co_return ClassifyServerBytes(std::string("\x15\x03\x00\x00\x02\x02\x28", 7), true);
    }
    ServerAnswer answer = co_await inner_.Exchange(hello);
    co_return answer;
  }
  // The raw backend comes here only with the one SSLv2 hello: answered with an SSLv2
  // SERVER-HELLO listing `sslv2_specs`, or, when empty, with end of stream (as TLS-only servers
  // do).
  asio::awaitable<CompletedHandshake> Complete(backends::Backend& backend,
                                               const backends::ClientConfig& config) override {
    if (backend.Name() != "rawhello") {
      CompletedHandshake done = co_await inner_.Complete(backend, config);
      co_return done;
    }
    EXPECT_EQ(config.ciphers.openssl_ciphers, "SSLv2") << "a raw hello cannot complete a handshake";
    CompletedHandshake done;
    auto engine = backend.NewClient(config);
    if (!engine.ok()) co_return done;
    done.connected = true;
    (*engine)->Advance();
    const std::string hello = (*engine)->TakeOutput();
    EXPECT_EQ(static_cast<uint8_t>(hello[0]) & 0x80, 0x80) << "an SSLv2 record";
    if (sslv2_specs_.empty()) {
      (*engine)->ReceiveEof();
    } else {
      (*engine)->ReceiveBytes(backends::rawhello::testing::Sslv2ServerHello(sslv2_specs_, "der"));
    }
    (*engine)->Advance();
    done.outcome = (*engine)->Outcome();
    co_return done;
  }
  int scripted() const { return scripted_; }
  void set_sslv2_specs(std::vector<uint32_t> specs) { sslv2_specs_ = std::move(specs); }

 private:
  MemoryChannel& inner_;
  std::map<TlsVersion, std::vector<uint16_t>> script_;
  std::vector<uint32_t> sslv2_specs_;
  int scripted_ = 0;
};

// EXPORT, DES and SSLv3 suites are found through the raw backend, beside what the libraries
// find and confirm; they are ServerHello evidence only, never confirmed, never a broken server.
TEST(EnumeratorTest, SuitesOnlyTheRawBackendCanOfferAreFoundAndMarkedUnconfirmable) {
  MemoryChannel inner("openssl", OpensslServer("AES128-SHA:ECDHE-RSA-AES128-SHA",
                                               TlsVersion::kTls1_0, TlsVersion::kTls1_2,
                                               /*prefer_server=*/true));
  // TLS 1.0: EXP-RC4-MD5 and DES-CBC-SHA; SSLv3: EXP-RC4-MD5 and RC4-MD5.
  ScriptedLegacyChannel channel(
      inner, {{TlsVersion::kTls1_0, {0x0003, 0x0009}}, {TlsVersion::kSsl3, {0x0003, 0x0004}}});
  channel.set_sslv2_specs({0x010080, 0x0700C0});  // RC4-MD5 and DES-CBC3-MD5.
  EnumeratorOptions options;
  options.sni = "mx.example.test";
  const EnumerationRun run = RunSync(agent::Enumerate(PlanWithRaw(), channel, options));
  ASSERT_FALSE(run.aborted) << run.abort_detail;
  EXPECT_EQ(std::vector<std::string>(run.enumeration.backends().begin(),
                                     run.enumeration.backends().end()),
            (std::vector<std::string>{"openssl", "gnutls", "rawhello"}));

  const VersionEnumeration& tls10 = At(run.enumeration, TlsVersion::kTls1_0);
  ASSERT_EQ(tls10.status(), VersionEnumeration::SUPPORTED) << tls10.detail();
  const std::vector<uint16_t> found = SuiteCodes(tls10);
  EXPECT_EQ(std::set<uint16_t>(found.begin(), found.end()),
            (std::set<uint16_t>{0x002F, 0xC013, 0x0003, 0x0009}))
      << Names(found);
  EXPECT_EQ(
      std::set<uint32_t>(tls10.unconfirmable_suites().begin(), tls10.unconfirmable_suites().end()),
      (std::set<uint32_t>{0x0003, 0x0009}));
  for (int i = 0; i < tls10.suites_size(); ++i) {
    const bool raw = tls10.suites(i).code_point() == 0x0003 || tls10.suites(i).code_point() == 9;
    EXPECT_EQ(tls10.found_by(i), raw ? "rawhello" : "openssl") << tls10.suites(i).iana_name();
  }
  EXPECT_EQ(tls10.confirmation(), VersionEnumeration::CONFIRMED) << tls10.confirmation_detail();
  EXPECT_EQ(tls10.untested_suites_size(), 0);
  EXPECT_EQ(tls10.hello_only_suites_size(), 0);

  const VersionEnumeration& ssl3 = At(run.enumeration, TlsVersion::kSsl3);
  ASSERT_EQ(ssl3.status(), VersionEnumeration::SUPPORTED) << ssl3.detail();
  EXPECT_EQ(SuiteCodes(ssl3), (std::vector<uint16_t>{0x0003, 0x0004})) << Names(SuiteCodes(ssl3));
  EXPECT_EQ(ssl3.confirmation(), VersionEnumeration::UNCONFIRMABLE);
  EXPECT_EQ(ssl3.unconfirmable_suites_size(), 2);
  EXPECT_TRUE(ssl3.server_preference());  // The script answers in its own order.
  EXPECT_EQ(ssl3.untested_suites_size(), 0);

  for (TlsVersion version : {TlsVersion::kTls1_1, TlsVersion::kTls1_2}) {
    const VersionEnumeration& v = At(run.enumeration, version);
    EXPECT_EQ(v.status(), VersionEnumeration::SUPPORTED);
    EXPECT_EQ(v.unconfirmable_suites_size(), 0) << backends::TlsVersionName(version);
    EXPECT_EQ(v.untested_suites_size(), 0) << backends::TlsVersionName(version);
  }
  EXPECT_FALSE(run.enumeration.broken_server());
  EXPECT_EQ(run.enumeration.sslv2_status(), VersionEnumeration::SUPPORTED);
  EXPECT_EQ(
      std::vector<std::string>(run.enumeration.sslv2_cipher_specs().begin(),
                               run.enumeration.sslv2_cipher_specs().end()),
      (std::vector<std::string>{"SSL_CK_RC4_128_WITH_MD5", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"}));
  EXPECT_EQ(channel.scripted(), 4);  // The four accepts: the order showed in those hellos.
  ExpectWithinBudget(run.enumeration, 6);
}

// The same server without the legacy suites: the raw backend costs one refusal per version
// where the libraries found something, and nothing where the version itself is refused.
TEST(EnumeratorTest, TheRawBackendCostsOneRefusalPerSupportedVersion) {
  MemoryChannel plain_inner("openssl", OpensslServer("AES128-SHA:ECDHE-RSA-AES128-SHA",
                                                     TlsVersion::kTls1_2, TlsVersion::kTls1_2,
                                                     /*prefer_server=*/true));
  ScriptedLegacyChannel plain(plain_inner, {});
  EnumeratorOptions options;
  options.enumerate_groups = false;
  options.confirm = false;
  const EnumerationRun without = RunSync(agent::Enumerate(Plan(), plain, options));
  const EnumerationRun with = RunSync(agent::Enumerate(PlanWithRaw(), plain, options));
  EXPECT_EQ(SuiteCodes(At(with.enumeration, TlsVersion::kTls1_2)),
            SuiteCodes(At(without.enumeration, TlsVersion::kTls1_2)));
  // SSLv3 (not tested without the raw backend) is one refused hello; TLS 1.2 one more refusal;
  // and the one SSLv2 hello, which this server ends.
  EXPECT_EQ(with.enumeration.handshakes(), without.enumeration.handshakes() + 3);
  EXPECT_EQ(with.enumeration.sslv2_status(), VersionEnumeration::NOT_SUPPORTED);
  EXPECT_EQ(without.enumeration.sslv2_status(), VersionEnumeration::NOT_TESTED);
  EXPECT_EQ(At(with.enumeration, TlsVersion::kSsl3).status(), VersionEnumeration::NOT_SUPPORTED);
  EXPECT_EQ(At(without.enumeration, TlsVersion::kSsl3).status(), VersionEnumeration::NOT_TESTED);
}
#endif  // TLSWEEP_TEST_RAWHELLO

}  // namespace
}  // namespace tlsweep::agent
