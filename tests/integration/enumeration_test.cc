// Enumeration against a real Postfix whose listeners allow known suite sets: what the
// elimination finds must be what single-suite handshakes (the backends directly, and
// `openssl s_client -starttls smtp`) find, and what `sslscan --starttls-smtp` finds for every
// suite both can test; the server's preference must be read right; the handshake count must stay
// near the floor; and every connection must go through the politeness gate.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "agent/enumerate/enumeration_probe.h"
#include "agent/enumerate/offer_plan.h"
#include "backends/cipher_suite_table.h"
#include "backends/outcome_proto.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/postfix_fixture.h"
#include "tests/testing/probe_runner.h"
#include "tests/testing/run_command.h"
#include "tests/testing/tls_truth.h"

namespace tlsweep::agent {
namespace {

using backends::TlsVersion;
using ::tlsweep::testing::EndpointAt;
using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::PostfixFixture;
using ::tlsweep::testing::PostfixListener;
using ::tlsweep::testing::RunCommand;
using ::tlsweep::testing::SharedPki;
using tlsweep::v1::ProbeResult;
using tlsweep::v1::VersionEnumeration;

constexpr char kMixedOrder[] =
    "ECDHE-RSA-AES128-SHA:AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA";
const std::vector<uint16_t> kMixedOrderCodes = {0xC013, 0x009D, 0xCCA8, 0x002F};
constexpr TlsVersion kTested[] = {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2,
                                  TlsVersion::kTls1_3};

class EnumerationLab : public ::testing::Environment {
 public:
  void SetUp() override {
    const ::tlsweep::testing::TestPki& pki = SharedPki();
    auto listener = [&](std::string name, std::string protocols, std::string cipherlist) {
      PostfixListener l;
      l.name = std::move(name);
      l.chain_file = pki.rsa.chain_file;
      l.key_file = pki.rsa.key_file;
      l.protocols = std::move(protocols);
      l.cipherlist = std::move(cipherlist);
      return l;
    };
    PostfixListener modern = listener("modern", ">=TLSv1.2", "ECDHE+AESGCM:ECDHE+CHACHA20");
    PostfixListener tls12 = listener("tls12", ">=TLSv1.2, <=TLSv1.2", "AES256-SHA");
    // Everything Debian's OpenSSL still has, anonymous suites included, at TLS 1.0-1.2.
    PostfixListener legacy = listener("legacy", ">=TLSv1, <=TLSv1.2", "ALL:@SECLEVEL=0");
    legacy.ciphers_grade = "medium";
    legacy.extra_options = {"tls_preempt_cipherlist=yes"};
    PostfixListener pref_server = listener("pref_server", ">=TLSv1.2", kMixedOrder);
    pref_server.extra_options = {"tls_preempt_cipherlist=yes"};
    PostfixListener pref_client = listener("pref_client", ">=TLSv1.2", kMixedOrder);
    pref_client.extra_options = {"tls_preempt_cipherlist=no"};
    PostfixListener tls13 = listener("tls13", ">=TLSv1.3", "");
    tls13.tls13_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
    // Two connections per client per anvil time unit: the rest are answered 421.
    PostfixListener limited = listener("limited", ">=TLSv1.2, <=TLSv1.2", "AES256-SHA");
    limited.extra_options = {"smtpd_client_connection_rate_limit=2"};
    auto started =
        PostfixFixture::Start({modern, tls12, legacy, pref_server, pref_client, tls13, limited},
                              {"anvil_rate_time_unit=2s"});
    ASSERT_TRUE(started.ok()) << "cannot start Postfix: " << started.status();
    lab = *std::move(started);
    std::vector<backends::Backend*> backends = {&GetBackend("openssl"), &GetBackend("gnutls")};
    absl::StatusOr<OfferPlan> built = BuildOfferPlan(backends);
    ASSERT_TRUE(built.ok()) << built.status();
    plan = std::make_unique<OfferPlan>(*std::move(built));
  }
  void TearDown() override { lab.reset(); }

  std::unique_ptr<PostfixFixture> lab;
  std::unique_ptr<OfferPlan> plan;
};

EnumerationLab* const lab_environment =
    static_cast<EnumerationLab*>(::testing::AddGlobalTestEnvironment(new EnumerationLab));

PostfixFixture& Lab() { return *lab_environment->lab; }
const OfferPlan& Plan() { return *lab_environment->plan; }

ProbeOptions Options() {
  ProbeOptions options;
  options.ehlo_name = "scanner.example.test";
  options.banner_timeout = std::chrono::seconds(10);
  options.handshake_timeout = std::chrono::seconds(10);
  return options;
}

struct Enumerated {
  ProbeResult result;
  int64_t gate_connections = 0;
};

Enumerated Enumerate(const std::string& listener, bool groups = true,
                     std::chrono::milliseconds backoff = std::chrono::milliseconds(1000),
                     const OfferPlan* plan = nullptr) {
  PolitenessOptions politeness;
  politeness.per_ip_spacing = std::chrono::milliseconds(0);
  PolitenessGate gate(politeness);
  EnumerationContext context;
  context.plan = plan != nullptr ? plan : &Plan();
  context.probe = Options();
  context.gate = &gate;
  context.rate_limit_backoff = backoff;
  context.enumerate_groups = groups;
  Enumerated enumerated;
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        enumerated.result = co_await RunEnumeration(EndpointAt(Lab().endpoint(listener)), context);
      },
      asio::detached);
  io.run();
  enumerated.gate_connections = gate.connections_started();
  return enumerated;
}

const VersionEnumeration& At(const ProbeResult& result, TlsVersion version) {
  for (const VersionEnumeration& v : result.enumeration().versions()) {
    if (v.version() == backends::VersionToProto(version)) return v;
  }
  static const VersionEnumeration kNone;
  return kNone;
}

std::vector<uint16_t> Codes(const VersionEnumeration& version) {
  std::vector<uint16_t> codes;
  for (const auto& suite : version.suites()) codes.push_back(suite.code_point());
  return codes;
}

std::set<uint16_t> CodeSet(const VersionEnumeration& version) {
  const std::vector<uint16_t> codes = Codes(version);
  return {codes.begin(), codes.end()};
}

std::string Names(const std::set<uint16_t>& codes) {
  std::vector<std::string> names;
  for (uint16_t code : codes) names.push_back(backends::CipherSuiteName(code));
  return absl::StrJoin(names, ", ");
}

const VersionPlan& PlanAt(TlsVersion version) {
  for (const VersionPlan& plan : Plan().versions) {
    if (plan.version == version) return plan;
  }
  static const VersionPlan kNone;
  return kNone;
}

// One full handshake per suite, through the backend that can offer it alone (OpenSSL for every
// suite it has, GnuTLS for the rest): the suites `listener` accepts at `version`.
std::set<uint16_t> SingleSuiteTruth(const std::string& listener, TlsVersion version) {
  std::set<uint16_t> accepted, judged;
  for (const BackendOffer& offer : PlanAt(version).offers) {
    for (const backends::OfferedSuite& suite : offer.suites) {
      const uint16_t code = suite.code_point;
      if (judged.contains(code)) continue;
      absl::StatusOr<backends::ClientConfig> config = ConfigFor(offer, version, {&code, 1}, {});
      if (!config.ok()) continue;
      config->sni = "mx.example.test";
      absl::StatusOr<PreparedHello> hello = PrepareHello(*offer.backend, *config);
      if (!hello.ok()) continue;
      std::set<uint16_t> offered;
      for (uint16_t c : hello->parsed.cipher_suites) {
        if (DefinedAt(c, version)) offered.insert(c);
      }
      if (offered != std::set<uint16_t>{code}) continue;
      judged.insert(code);
      backends::TlsCandidate candidate;
      candidate.backend = offer.backend;
      candidate.config = *config;
      const ProbeResult result =
          ::tlsweep::testing::RunProbe(EndpointAt(Lab().endpoint(listener)), candidate, Options());
      if (result.failure() == tlsweep::v1::PROBE_OK &&
          result.tls().version() == backends::VersionToProto(version) &&
          result.tls().suite().code_point() == code) {
        accepted.insert(code);
      }
    }
  }
  return accepted;
}

// `openssl s_client -starttls smtp` with one suite: did the handshake complete with it? Judged
// by tls_truth: "Cipher is" proves nothing (s_client prints it after a ServerHello even when the
// handshake then fails), so the exit status, the suite and version named, and the server's 221
// to our QUIT over the new session must all be there.
bool SClientAccepts(const std::string& listener, TlsVersion version, uint16_t code) {
  const backends::CipherSuiteInfo* info = backends::FindCipherSuite(code);
  if (info == nullptr) {
    ADD_FAILURE() << "no suite " << code;
    return false;
  }
  ::tlsweep::testing::TlsTruthRequest request;
  request.address = Lab().listener(listener).address;
  request.port = Lab().listener(listener).port;
  request.server_name = "mx.example.test";
  request.versions = {version};
  request.suites = {std::string(info->iana_name)};
  request.tool = ::tlsweep::testing::TruthTool::kOpenSsl;
  request.command_timeout = absl::Seconds(20);
  absl::StatusOr<::tlsweep::testing::TlsTruth> truth = ::tlsweep::testing::ProbeTlsTruth(request);
  if (!truth.ok()) {
    ADD_FAILURE() << listener << ": " << truth.status();
    return false;
  }
  const ::tlsweep::testing::VersionTruth& found = truth->versions[version];
  if (found.untested_suites.contains(std::string(info->iana_name))) {
    ADD_FAILURE() << "s_client cannot offer " << info->iana_name << "\n" << truth->Describe();
    return false;
  }
  return found.suites.contains(std::string(info->iana_name));
}

// sslscan's "Accepted"/"Preferred" lines: version -> IANA code points.
std::map<TlsVersion, std::set<uint16_t>> SslscanAccepted(const std::string& listener,
                                                         std::string& output) {
  std::map<TlsVersion, std::set<uint16_t>> accepted;
  absl::StatusOr<::tlsweep::testing::CommandResult> run = RunCommand(absl::StrCat(
      "timeout 300 sslscan --no-colour --starttls-smtp ", Lab().endpoint(listener), " 2>&1"));
  if (!run.ok()) return accepted;
  output = run->output;
  for (absl::string_view line : absl::StrSplit(run->output, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 5 || (fields[0] != "Accepted" && fields[0] != "Preferred")) continue;
    absl::StatusOr<TlsVersion> version = backends::ParseTlsVersion(fields[1]);
    if (!version.ok()) continue;
    for (const backends::CipherSuiteInfo& info : backends::AllCipherSuites()) {
      if (info.openssl_name == fields[4] || info.iana_name == fields[4]) {
        accepted[*version].insert(info.code_point);
        break;
      }
    }
  }
  return accepted;
}

// Versions tested, supported suites and TLS 1.3 group handshakes of a result.
struct Budget {
  uint32_t versions = 0, supported = 0, group_handshakes = 0;
};

Budget BudgetOf(const ProbeResult& result) {
  Budget budget;
  for (const VersionEnumeration& v : result.enumeration().versions()) {
    if (v.status() == VersionEnumeration::NOT_TESTED) continue;
    ++budget.versions;
    budget.supported += v.suites_size();
    if (v.groups_tested()) budget.group_handshakes += v.groups_size() + 1;
  }
  return budget;
}

void ExpectWellFormed(const std::string& listener, const Enumerated& enumerated) {
  const ProbeResult& result = enumerated.result;
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_EQ(result.probe_kind(), tlsweep::v1::PROBE_KIND_ENUMERATE);
  EXPECT_EQ(result.banner().code(), 220u);
  EXPECT_EQ(result.starttls().code(), 220u);
  EXPECT_EQ(At(result, TlsVersion::kSsl3).status(), VersionEnumeration::NOT_TESTED);
  EXPECT_EQ(static_cast<int64_t>(result.attempts()), enumerated.gate_connections);
  EXPECT_EQ(result.enumeration().backends_size(), 2);
  const Budget budget = BudgetOf(result);
  // The goal: supported suites + versions tested + a small constant (3), plus the TLS 1.3
  // group elimination (one handshake per accepted group and one refusal).
  EXPECT_LE(result.enumeration().handshakes(),
            budget.supported + budget.versions + 3 + budget.group_handshakes);
  std::cout << "[ measured ] " << listener << ": " << result.enumeration().handshakes()
            << " handshakes (" << budget.group_handshakes << " for TLS 1.3 groups), floor "
            << result.enumeration().floor_handshakes() << ", supported suites " << budget.supported
            << ", versions tested " << budget.versions << ", connections " << result.attempts()
            << ", " << result.enumeration().duration_us() / 1000 << " ms\n";
}

// The enumerated sets equal the single-suite truth at every version.
void ExpectMatchesSingleSuiteHandshakes(const std::string& listener, const ProbeResult& result) {
  for (TlsVersion version : kTested) {
    const std::set<uint16_t> truth = SingleSuiteTruth(listener, version);
    EXPECT_EQ(CodeSet(At(result, version)), truth)
        << listener << " " << backends::TlsVersionName(version)
        << "\nenumerated: " << Names(CodeSet(At(result, version)))
        << "\nsingle-suite: " << Names(truth) << "\ndetail: " << At(result, version).detail();
    EXPECT_EQ(At(result, version).status(),
              truth.empty() ? VersionEnumeration::NOT_SUPPORTED : VersionEnumeration::SUPPORTED);
  }
}

// sslscan agrees for every suite both can test: what sslscan accepts, we found; and what we found
// through OpenSSL (which sslscan also links) at a version sslscan scanned, sslscan accepts.
void ExpectMatchesSslscan(const std::string& listener, const ProbeResult& result) {
  std::string output;
  const std::map<TlsVersion, std::set<uint16_t>> sslscan = SslscanAccepted(listener, output);
  ASSERT_FALSE(sslscan.empty()) << output;
  for (TlsVersion version : kTested) {
    const VersionEnumeration& ours = At(result, version);
    const auto it = sslscan.find(version);
    const std::set<uint16_t> theirs = it == sslscan.end() ? std::set<uint16_t>{} : it->second;
    std::set<uint16_t> ours_openssl;
    for (int i = 0; i < ours.suites_size(); ++i) {
      if (ours.found_by(i) == "openssl") ours_openssl.insert(ours.suites(i).code_point());
    }
    for (uint16_t code : theirs) {
      EXPECT_TRUE(CodeSet(ours).contains(code))
          << listener << " " << backends::TlsVersionName(version) << ": sslscan accepts "
          << backends::CipherSuiteName(code) << ", the enumeration did not find it\n"
          << output;
    }
    EXPECT_EQ(ours_openssl, theirs)
        << listener << " " << backends::TlsVersionName(version) << "\nours: " << Names(ours_openssl)
        << "\nsslscan: " << Names(theirs) << "\n"
        << output;
  }
}

TEST(EnumerationIntegrationTest, ModernListener) {
  const Enumerated enumerated = Enumerate("modern");
  ExpectWellFormed("modern", enumerated);
  const ProbeResult& result = enumerated.result;
  EXPECT_EQ(CodeSet(At(result, TlsVersion::kTls1_2)), (std::set<uint16_t>{0xC02F, 0xC030, 0xCCA8}));
  EXPECT_EQ(At(result, TlsVersion::kTls1_0).status(), VersionEnumeration::NOT_SUPPORTED);
  const VersionEnumeration& tls13 = At(result, TlsVersion::kTls1_3);
  EXPECT_EQ(tls13.status(), VersionEnumeration::SUPPORTED);
  // Postfix leaves the order to the client unless tls_preempt_cipherlist = yes.
  EXPECT_TRUE(At(result, TlsVersion::kTls1_2).preference_tested());
  EXPECT_FALSE(At(result, TlsVersion::kTls1_2).server_preference());
  // Postfix 3.7's default tls_eecdh_auto_curves: X25519 X448 prime256v1 secp521r1 secp384r1.
  EXPECT_TRUE(tls13.groups_tested()) << tls13.detail();
  EXPECT_EQ(std::set<std::string>(tls13.groups().begin(), tls13.groups().end()),
            (std::set<std::string>{"x25519", "x448", "secp256r1", "secp521r1", "secp384r1"}));
  ExpectMatchesSingleSuiteHandshakes("modern", result);
  for (TlsVersion version : {TlsVersion::kTls1_2, TlsVersion::kTls1_3}) {
    for (uint16_t code : Codes(At(result, version))) {
      EXPECT_TRUE(SClientAccepts("modern", version, code)) << backends::CipherSuiteName(code);
    }
  }
  EXPECT_FALSE(SClientAccepts("modern", TlsVersion::kTls1_2, 0x009C));  // AES128-GCM-SHA256.
  ExpectMatchesSslscan("modern", result);
}

TEST(EnumerationIntegrationTest, SingleSuiteTls12Listener) {
  const Enumerated enumerated = Enumerate("tls12");
  ExpectWellFormed("tls12", enumerated);
  const ProbeResult& result = enumerated.result;
  const VersionEnumeration& tls12 = At(result, TlsVersion::kTls1_2);
  EXPECT_EQ(Codes(tls12), (std::vector<uint16_t>{0x0035}));
  EXPECT_EQ(tls12.found_by(0), "openssl");
  EXPECT_FALSE(tls12.preference_tested());  // One suite: nothing to order.
  EXPECT_EQ(At(result, TlsVersion::kTls1_3).status(), VersionEnumeration::NOT_SUPPORTED);
  // 1.0, 1.1, 1.3: one refusal each; 1.2: the suite, OpenSSL's refusal, GnuTLS's refusal.
  EXPECT_EQ(result.enumeration().handshakes(), 6u);
  EXPECT_EQ(result.enumeration().floor_handshakes(), 2u);
  ExpectMatchesSingleSuiteHandshakes("tls12", result);
  EXPECT_TRUE(SClientAccepts("tls12", TlsVersion::kTls1_2, 0x0035));
  EXPECT_FALSE(SClientAccepts("tls12", TlsVersion::kTls1_2, 0x002F));
  ExpectMatchesSslscan("tls12", result);
}

TEST(EnumerationIntegrationTest, LegacyListenerWithAnonymousSuites) {
  const Enumerated enumerated = Enumerate("legacy", /*groups=*/false);
  ExpectWellFormed("legacy", enumerated);
  const ProbeResult& result = enumerated.result;
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2}) {
    const VersionEnumeration& v = At(result, version);
    EXPECT_EQ(v.status(), VersionEnumeration::SUPPORTED);
    EXPECT_TRUE(CodeSet(v).contains(0x0034)) << "ADH-AES128-SHA";
    EXPECT_TRUE(CodeSet(v).contains(0xC018)) << "AECDH-AES128-SHA";
    EXPECT_FALSE(CodeSet(v).contains(0x000A)) << "Postfix's OpenSSL has no 3DES";
    EXPECT_TRUE(v.server_preference());
    EXPECT_TRUE(v.preference_tested());
  }
  EXPECT_EQ(At(result, TlsVersion::kTls1_3).status(), VersionEnumeration::NOT_SUPPORTED);
  ExpectMatchesSingleSuiteHandshakes("legacy", result);
  ExpectMatchesSslscan("legacy", result);
  // With server preference the first suite is what any client offering everything gets.
  backends::TlsCandidate everything;
  everything.backend = &GetBackend("openssl");
  everything.config.ciphers.openssl_ciphers = "ALL:COMPLEMENTOFALL";
  everything.config.max_version = TlsVersion::kTls1_2;
  everything.config.legacy = true;
  const ProbeResult probe =
      ::tlsweep::testing::RunProbe(EndpointAt(Lab().endpoint("legacy")), everything, Options());
  ASSERT_EQ(probe.failure(), tlsweep::v1::PROBE_OK) << probe.failure_detail();
  EXPECT_EQ(probe.tls().suite().code_point(),
            At(result, TlsVersion::kTls1_2).suites(0).code_point());
}

TEST(EnumerationIntegrationTest, ServerPreferenceOnAndOff) {
  const Enumerated server = Enumerate("pref_server");
  ExpectWellFormed("pref_server", server);
  const VersionEnumeration& server12 = At(server.result, TlsVersion::kTls1_2);
  EXPECT_TRUE(server12.preference_tested());
  EXPECT_TRUE(server12.server_preference());
  EXPECT_EQ(Codes(server12), kMixedOrderCodes);  // The listener's own order.
  const VersionEnumeration& server13 = At(server.result, TlsVersion::kTls1_3);
  EXPECT_TRUE(server13.server_preference());
  EXPECT_EQ(Codes(server13), (std::vector<uint16_t>{0x1302, 0x1303, 0x1301}));

  const Enumerated client = Enumerate("pref_client");
  ExpectWellFormed("pref_client", client);
  const VersionEnumeration& client12 = At(client.result, TlsVersion::kTls1_2);
  EXPECT_TRUE(client12.preference_tested());
  EXPECT_FALSE(client12.server_preference());
  EXPECT_EQ(CodeSet(client12),
            std::set<uint16_t>(kMixedOrderCodes.begin(), kMixedOrderCodes.end()));
  EXPECT_FALSE(At(client.result, TlsVersion::kTls1_3).server_preference());
}

TEST(EnumerationIntegrationTest, Tls13OnlyChachaListener) {
  const Enumerated enumerated = Enumerate("tls13");
  ExpectWellFormed("tls13", enumerated);
  const ProbeResult& result = enumerated.result;
  EXPECT_EQ(Codes(At(result, TlsVersion::kTls1_3)), (std::vector<uint16_t>{0x1303}));
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2}) {
    EXPECT_EQ(At(result, version).status(), VersionEnumeration::NOT_SUPPORTED);
  }
  ExpectMatchesSingleSuiteHandshakes("tls13", result);
  EXPECT_TRUE(SClientAccepts("tls13", TlsVersion::kTls1_3, 0x1303));
  EXPECT_FALSE(SClientAccepts("tls13", TlsVersion::kTls1_3, 0x1301));
  ExpectMatchesSslscan("tls13", result);
}

TEST(EnumerationIntegrationTest, RateLimitedListenerIsRetriedThroughTheGate) {
  const Enumerated enumerated = Enumerate("limited", true, std::chrono::milliseconds(1500));
  ExpectWellFormed("limited", enumerated);
  const ProbeResult& result = enumerated.result;
  EXPECT_EQ(Codes(At(result, TlsVersion::kTls1_2)), (std::vector<uint16_t>{0x0035}));
  // Six handshakes at two connections per 2 s: some connections met 421 and were retried.
  EXPECT_GT(result.attempts(), result.enumeration().handshakes());
}

TEST(EnumerationIntegrationTest, UnreachableEndpointReportsTheFirstConnectionFailure) {
  // Port 26 of a listener address: nothing listens there.
  const std::string address = Lab().listener("modern").address;
  PolitenessGate gate(PolitenessOptions{});
  EnumerationContext context;
  context.plan = &Plan();
  context.probe = Options();
  context.gate = &gate;
  ProbeResult result;
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await RunEnumeration(EndpointAt(address + ":26"), context);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(result.failure(), tlsweep::v1::TCP_REFUSED);
  EXPECT_EQ(result.enumeration().handshakes(), 0u);
  EXPECT_EQ(result.attempts(), 1u);
}

// The raw backend alone (it writes every hello itself) finds on every listener exactly what the
// two libraries together find, suite for suite and version for version; what it finds is
// ServerHello evidence only (UNCONFIRMABLE), and SSLv3 is tested (Postfix refuses it).
TEST(EnumerationIntegrationTest, RawHellosAloneEqualTheUnionOfTheLibraries) {
  std::vector<backends::Backend*> raw = {&GetBackend("rawhello")};
  absl::StatusOr<OfferPlan> raw_plan = BuildOfferPlan(raw);
  ASSERT_TRUE(raw_plan.ok()) << raw_plan.status();
  for (const std::string listener :
       {"modern", "tls12", "legacy", "pref_server", "pref_client", "tls13"}) {
    const Enumerated libraries = Enumerate(listener, /*groups=*/false);
    const Enumerated raw_only =
        Enumerate(listener, /*groups=*/false, std::chrono::milliseconds(1000), &*raw_plan);
    ASSERT_EQ(raw_only.result.failure(), tlsweep::v1::PROBE_OK) << raw_only.result.failure_detail();
    for (TlsVersion version : kTested) {
      const VersionEnumeration& ours = At(raw_only.result, version);
      const VersionEnumeration& theirs = At(libraries.result, version);
      EXPECT_EQ(CodeSet(ours), CodeSet(theirs))
          << listener << " " << backends::TlsVersionName(version)
          << "\nraw: " << Names(CodeSet(ours)) << "\nlibraries: " << Names(CodeSet(theirs));
      EXPECT_EQ(ours.status(), theirs.status())
          << listener << " " << backends::TlsVersionName(version) << ": " << ours.detail();
      EXPECT_EQ(ours.untested_suites_size(), 0)
          << listener << " " << backends::TlsVersionName(version);
      if (ours.status() == VersionEnumeration::SUPPORTED) {
        EXPECT_EQ(ours.confirmation(), VersionEnumeration::UNCONFIRMABLE);
        EXPECT_EQ(ours.unconfirmable_suites_size(), ours.suites_size());
      }
      if (theirs.preference_tested() && ours.preference_tested()) {
        EXPECT_EQ(ours.server_preference(), theirs.server_preference())
            << listener << " " << backends::TlsVersionName(version);
      }
    }
    EXPECT_EQ(At(raw_only.result, TlsVersion::kSsl3).status(), VersionEnumeration::NOT_SUPPORTED)
        << listener << ": " << At(raw_only.result, TlsVersion::kSsl3).detail();
    EXPECT_FALSE(raw_only.result.enumeration().broken_server());
    std::cout << "[ measured ] " << listener << ": raw alone "
              << raw_only.result.enumeration().handshakes() << " handshakes, libraries "
              << libraries.result.enumeration().handshakes() << " (+"
              << libraries.result.enumeration().confirmation_handshakes() << " complete)\n";
  }
}

}  // namespace
}  // namespace tlsweep::agent
