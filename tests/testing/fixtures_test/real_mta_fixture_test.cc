// The real non-Postfix MTAs as test peers (Exim, OpenSMTPD, Haraka) and tls_truth, the
// independent-tool ground truth: each fixture must behave as its header promises, or the
// integration tests built on it would check nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/exim_fixture.h"
#include "tests/testing/fixtures_test/raw_client.h"
#include "tests/testing/haraka_fixture.h"
#include "tests/testing/mta_process.h"
#include "tests/testing/opensmtpd_fixture.h"
#include "tests/testing/run_command.h"
#include "tests/testing/tls_truth.h"

namespace tlsweep::testing {
namespace {

using backends::TlsVersion;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// The restricted Exim listener's policy, and what it must come to.
constexpr char kRestrictedPriority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:+GROUP-SECP384R1";

// A spread of candidates: every TLS 1.3 suite OpenSSL has, and TLS 1.2 suites of each key
// exchange and cipher family (RSA certificate).
const std::vector<std::string>& CandidateSuites() {
  static const auto* suites = new std::vector<std::string>{
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_AES_128_CCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  };
  return *suites;
}

const std::vector<std::string>& CandidateGroups() {
  static const auto* groups =
      new std::vector<std::string>{"x25519", "secp256r1", "secp384r1", "secp521r1", "ffdhe2048"};
  return *groups;
}

struct SClientRun {
  int exit_code = -1;
  std::string output;
};

// Plain (not -brief) s_client, so that what it prints for a half-done handshake shows.
SClientRun SClient(const std::string& endpoint, const std::string& flags) {
  absl::StatusOr<CommandResult> run = RunCommand(
      absl::StrCat("printf 'QUIT\\r\\n' | timeout -k 2 15 openssl s_client -starttls smtp "
                   "-connect ",
                   ShellQuote(endpoint), " ", flags, " 2>&1"));
  if (!run.ok()) return {};
  return {run->exit_code, run->output};
}

// Polls `path` until it contains `needle` (daemons write their log after the connection ends).
std::string WaitForLog(const std::string& path, absl::string_view needle,
                       absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string log;
  while (absl::Now() < deadline) {
    log = ReadTextFile(path).value_or("");
    if (absl::StrContains(log, needle)) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return log;
}

std::string ReadReply(RawClient& client, absl::Duration timeout = absl::Seconds(10)) {
  absl::StatusOr<std::string> reply = client.ReadReply(timeout);
  return reply.ok() ? *reply : absl::StrCat("(", reply.status().ToString(), ")");
}

// What GnuTLS itself says a priority string enables (`gnutls-cli -l --priority`): the expected
// truth for an Exim listener, which hands that string to GnuTLS, found without Exim or tlsweep.
struct PriorityListing {
  std::set<TlsVersion> versions;
  std::vector<const backends::CipherSuiteInfo*> suites;
  std::set<std::string> groups;  // IANA names.
};

absl::StatusOr<PriorityListing> ListPriority(const std::string& priority) {
  absl::StatusOr<CommandResult> run =
      RunCommand(absl::StrCat("gnutls-cli -l --priority ", ShellQuote(priority), " 2>&1"));
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) return absl::InternalError(run->output);
  PriorityListing listing;
  for (absl::string_view line : absl::StrSplit(run->output, '\n')) {
    if (absl::StartsWith(line, "TLS_")) {
      // "TLS_ECDHE_RSA_AES_256_GCM_SHA384 \t0xc0, 0x30\tTLS1.2"
      std::vector<std::string> bytes =
          absl::StrSplit(line, absl::ByAnyChar("\t, "), absl::SkipEmpty());
      int high = 0;
      int low = 0;
      if (bytes.size() < 3 || !absl::SimpleHexAtoi(bytes[1], &high) ||
          !absl::SimpleHexAtoi(bytes[2], &low)) {
        return absl::InternalError(absl::StrCat("cannot read: ", line));
      }
      const backends::CipherSuiteInfo* suite =
          backends::FindCipherSuite(static_cast<uint16_t>(high << 8 | low));
      if (suite == nullptr) return absl::InternalError(absl::StrCat("not in the table: ", line));
      listing.suites.push_back(suite);
    } else if (absl::ConsumePrefix(&line, "Protocols: ")) {
      for (absl::string_view name : absl::StrSplit(line, ", ")) {
        if (absl::ConsumePrefix(&name, "VERS-TLS")) {
          absl::StatusOr<TlsVersion> version = backends::ParseTlsVersion(name);
          if (version.ok()) listing.versions.insert(*version);
        }
      }
    } else if (absl::ConsumePrefix(&line, "Groups: ")) {
      for (absl::string_view name : absl::StrSplit(line, ", ")) {
        absl::StatusOr<uint16_t> id = backends::ParseGroup(name);
        if (!id.ok()) return id.status();
        listing.groups.insert(backends::GroupName(*id));
      }
    }
  }
  return listing;
}

// The truth a GnuTLS server with `listing` and an RSA certificate must show at `version`, among
// the candidates (groups below TLS 1.3: elliptic curves only, as tls_truth tests them).
VersionTruth ExpectedTruth(const PriorityListing& listing, TlsVersion version) {
  VersionTruth expected;
  if (!listing.versions.contains(version)) return expected;
  const std::set<std::string> candidates(CandidateSuites().begin(), CandidateSuites().end());
  for (const backends::CipherSuiteInfo* suite : listing.suites) {
    if (!candidates.contains(std::string(suite->iana_name)) || suite->authentication == "ECDSA" ||
        backends::IsTls13Suite(suite->code_point) != (version == TlsVersion::kTls1_3) ||
        version < suite->min_version) {
      continue;
    }
    expected.suites.insert(std::string(suite->iana_name));
  }
  for (const std::string& group : CandidateGroups()) {
    if (!listing.groups.contains(group)) continue;
    if (version != TlsVersion::kTls1_3 && absl::StartsWith(group, "ffdhe")) continue;
    expected.groups.insert(group);
  }
  return expected;
}

void ExpectTruthMatchesListing(const TlsTruth& truth, const PriorityListing& listing) {
  for (const auto& [version, found] : truth.versions) {
    SCOPED_TRACE(backends::TlsVersionName(version));
    const VersionTruth expected = ExpectedTruth(listing, version);
    EXPECT_EQ(found.suites, expected.suites) << truth.Describe();
    EXPECT_EQ(found.groups, expected.groups) << truth.Describe();
  }
}

// ---------------------------------------------------------------------------------------------
// Exim

class EximFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    std::vector<EximListener> listeners(6);
    listeners[0].name = "defaults";
    listeners[1].name = "nocert";
    listeners[1].starttls_fails = true;
    listeners[2].name = "limited";
    listeners[2].smtp_accept_max = 2;
    listeners[3].name = "ratelimited";
    listeners[3].ratelimit_connections = 3;
    listeners[3].ratelimit_period = absl::Minutes(10);
    listeners[4].name = "slow";
    listeners[4].greeting_delay = absl::Seconds(2);
    listeners[4].banner_lines = {"mx.example.test ESMTP Exim", "second line costs $0",
                                 "third \\ line"};
    listeners[5].name = "restricted";
    listeners[5].tls_require_ciphers = kRestrictedPriority;
    absl::StatusOr<std::unique_ptr<EximFixture>> exim = EximFixture::Start(std::move(listeners));
    if (!exim.ok()) {
      start_error_ = new std::string(exim.status().ToString());
      return;
    }
    std::fprintf(stderr, "Exim (6 daemons) started in %s at %s\n",
                 absl::FormatDuration((*exim)->start_duration()).c_str(),
                 (*exim)->directory().c_str());
    exim_ = exim->release();
  }

  static void TearDownTestSuite() {
    const absl::Time before = absl::Now();
    delete exim_;
    exim_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
    std::fprintf(stderr, "Exim stopped in %s\n",
                 absl::FormatDuration(absl::Now() - before).c_str());
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "EximFixture needs root";
    ASSERT_NE(exim_, nullptr) << (start_error_ != nullptr ? *start_error_ : "not started");
  }

  static EximFixture* exim_;
  static std::string* start_error_;
};

EximFixture* EximFixtureTest::exim_ = nullptr;
std::string* EximFixtureTest::start_error_ = nullptr;

TEST_F(EximFixtureTest, GreetsAndOffersStarttls) {
  const std::string endpoint = exim_->endpoint("defaults");
  EXPECT_THAT(endpoint, StartsWith("127.26."));
  absl::StatusOr<RawClient> client = RawClient::Connect(endpoint);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_THAT(ReadReply(*client), StartsWith("220 mx.example.test ESMTP Exim 4.96 "));
  ASSERT_TRUE(client->Send("EHLO scanner.example.test\r\n").ok());
  const std::string ehlo = ReadReply(*client);
  EXPECT_THAT(ehlo, StartsWith("250-mx.example.test Hello scanner.example.test [127.0.0.1]\r\n"));
  EXPECT_THAT(ehlo, HasSubstr("250-STARTTLS\r\n"));
}

TEST_F(EximFixtureTest, DelayedMultiLineBanner) {
  absl::StatusOr<RawClient> client = RawClient::Connect(exim_->endpoint("slow"));
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::Time connected = absl::Now();
  // Nothing during the delay...
  EXPECT_EQ(client->ReadFor(absl::Milliseconds(1500)), "");
  // ...then the whole banner, '$' and '\' as written.
  EXPECT_EQ(ReadReply(*client),
            "220-mx.example.test ESMTP Exim\r\n220-second line costs $0\r\n220 third \\ line\r\n");
  EXPECT_GE(absl::Now() - connected, absl::Milliseconds(1900));
}

TEST_F(EximFixtureTest, MissingCertificateAnswers454) {
  absl::StatusOr<RawClient> client = RawClient::Connect(exim_->endpoint("nocert"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_THAT(ReadReply(*client), StartsWith("220 "));
  ASSERT_TRUE(client->Send("EHLO scanner.example.test\r\n").ok());
  EXPECT_THAT(ReadReply(*client), HasSubstr("250-STARTTLS\r\n"));
  ASSERT_TRUE(client->Send("STARTTLS\r\n").ok());
  EXPECT_EQ(ReadReply(*client), "454 TLS currently unavailable\r\n");
  const std::string log = WaitForLog(exim_->log_path("nocert"), "cert/key setup");
  EXPECT_THAT(log, HasSubstr("TLS error on connection from (scanner.example.test) [127.0.0.1]"))
      << exim_->LogTail("nocert");
}

TEST_F(EximFixtureTest, ConnectionLimitAnswers421) {
  const std::string endpoint = exim_->endpoint("limited");
  std::vector<RawClient> held;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RawClient> client = RawClient::Connect(endpoint);
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_THAT(ReadReply(*client), StartsWith("220 ")) << "connection " << i;
    held.push_back(std::move(*client));
  }
  absl::StatusOr<RawClient> third = RawClient::Connect(endpoint);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(ReadReply(*third),
            "421 Too many concurrent SMTP connections; please try again later.\r\n");
  held.clear();
  // Once they are gone there is room again.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  std::string reply;
  while (absl::Now() < deadline) {
    absl::StatusOr<RawClient> again = RawClient::Connect(endpoint);
    ASSERT_TRUE(again.ok()) << again.status();
    reply = ReadReply(*again);
    if (absl::StartsWith(reply, "220 ")) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(reply, StartsWith("220 "));
}

TEST_F(EximFixtureTest, RateLimitAnswers451AfterBudget) {
  const std::string endpoint = exim_->endpoint("ratelimited");
  std::vector<std::string> replies;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<RawClient> client = RawClient::Connect(endpoint);
    ASSERT_TRUE(client.ok()) << client.status();
    replies.push_back(ReadReply(*client));
  }
  for (int i = 0; i < 3; ++i) EXPECT_THAT(replies[i], StartsWith("220 ")) << "connection " << i;
  for (int i = 3; i < 5; ++i) {
    EXPECT_EQ(replies[i], "451 4.7.1 Too many connections from 127.0.0.1, slow down\r\n")
        << "connection " << i;
  }
  // Another client address has its own budget.
  absl::StatusOr<RawClient> other = RawClient::Connect(endpoint, "127.0.0.2");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(ReadReply(*other), StartsWith("220 "));
  EXPECT_THAT(WaitForLog(exim_->log_path("ratelimited"), "temporarily rejected connection"),
              HasSubstr("temporarily rejected connection in \"connect\" ACL: 451 4.7.1"));
}

TEST_F(EximFixtureTest, NegotiatedSuiteIsLogged) {
  const SClientRun run = SClient(exim_->endpoint("defaults"), "-brief -ign_eof -tls1_2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Ciphersuite: ECDHE-RSA-AES256-GCM-SHA384")) << run.output;
  const std::string log = WaitForLog(exim_->log_path("defaults"), "TLSWEEP-TLS");
  EXPECT_THAT(log, HasSubstr(absl::StrCat("TLSWEEP-TLS I=[", exim_->listener("defaults").address,
                                          "]:25 version=TLS1.2 "
                                          "suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 "
                                          "cipher=TLS1.2:ECDHE_")))
      << exim_->LogTail("defaults");
}

TEST_F(EximFixtureTest, TruthOfRestrictedListener) {
  absl::StatusOr<PriorityListing> listing = ListPriority(kRestrictedPriority);
  ASSERT_TRUE(listing.ok()) << listing.status();
  const EximListener& listener = exim_->listener("restricted");
  for (TruthTool tool : {TruthTool::kOpenSsl, TruthTool::kGnuTls}) {
    SCOPED_TRACE(tool == TruthTool::kOpenSsl ? "openssl" : "gnutls");
    TlsTruthRequest request;
    request.address = listener.address;
    request.server_name = "mx.example.test";
    request.versions = {TlsVersion::kTls1_1, TlsVersion::kTls1_2, TlsVersion::kTls1_3};
    request.suites = CandidateSuites();
    request.groups = CandidateGroups();
    request.tool = tool;
    absl::StatusOr<TlsTruth> truth = ProbeTlsTruth(request);
    ASSERT_TRUE(truth.ok()) << truth.status();
    const std::string described = truth->Describe();
    EXPECT_THAT(truth->SupportedVersions(), ElementsAre(TlsVersion::kTls1_2)) << described;
    // AES-256-GCM with each key exchange of NORMAL that an RSA certificate allows. DHE stays:
    // with no FFDHE group offered by the client, GnuTLS uses Exim's own DH parameters.
    EXPECT_EQ(truth->versions[TlsVersion::kTls1_2].suites,
              (std::set<std::string>{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                     "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                                     "TLS_RSA_WITH_AES_256_GCM_SHA384"}))
        << described;
    EXPECT_EQ(truth->versions[TlsVersion::kTls1_2].groups, std::set<std::string>{"secp384r1"})
        << described;
    EXPECT_THAT(truth->versions[TlsVersion::kTls1_3].groups, IsEmpty()) << described;
    // And exactly what GnuTLS lists for the string.
    ExpectTruthMatchesListing(*truth, *listing);
    if (tool == TruthTool::kOpenSsl) {
      // OpenSSL 3.0 cannot offer 3DES: untested, not refused.
      EXPECT_THAT(truth->versions[TlsVersion::kTls1_2].untested_suites,
                  ::testing::Contains("TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
    }
  }
}

TEST_F(EximFixtureTest, TruthOfDefaultsIsGnuTlsNormal) {
  absl::StatusOr<PriorityListing> listing = ListPriority("NORMAL");
  ASSERT_TRUE(listing.ok()) << listing.status();
  TlsTruthRequest request;
  request.address = exim_->listener("defaults").address;
  request.versions = {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2,
                      TlsVersion::kTls1_3};
  request.suites = CandidateSuites();
  request.groups = CandidateGroups();
  request.tool = TruthTool::kOpenSslThenGnuTls;
  absl::StatusOr<TlsTruth> truth = ProbeTlsTruth(request);
  ASSERT_TRUE(truth.ok()) << truth.status();
  std::fprintf(stderr, "Exim 4.96 (GnuTLS) defaults:\n%s", truth->Describe().c_str());
  // Debian 12's GnuTLS NORMAL still has TLS 1.0 and 1.1 (with the CBC-SHA1 suites).
  EXPECT_THAT(truth->SupportedVersions(), ElementsAre(TlsVersion::kTls1_0, TlsVersion::kTls1_1,
                                                      TlsVersion::kTls1_2, TlsVersion::kTls1_3))
      << truth->Describe();
  ExpectTruthMatchesListing(*truth, *listing);
  // 3DES was tried (by gnutls-cli, OpenSSL has none) and refused: NORMAL has no 3DES.
  EXPECT_THAT(truth->versions[TlsVersion::kTls1_2].untested_suites, IsEmpty());
}

TEST(EximFixtureStartTest, BadPriorityStringFailsTheStartWithLogTail) {
  if (geteuid() != 0) GTEST_SKIP() << "EximFixture needs root";
  std::vector<EximListener> listeners(1);
  listeners[0].name = "broken";
  listeners[0].tls_require_ciphers = "NORMAL:+NO-SUCH-THING";
  absl::StatusOr<std::unique_ptr<EximFixture>> exim = EximFixture::Start(std::move(listeners));
  ASSERT_FALSE(exim.ok());
  // Exim checks the string at start-up (GnuTLS parses it) and says so in its panic log.
  EXPECT_THAT(exim.status().message(), HasSubstr("exited during start-up"));
  EXPECT_THAT(exim.status().message(), HasSubstr("tls_require_ciphers invalid"));
}

// Processes whose parent is this test program (the daemons, and what we adopted as subreaper).
std::vector<pid_t> OurChildren() {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const std::string stat = ReadTextFile(absl::StrCat("/proc/", pid, "/stat")).value_or("");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
    pid_t ppid = 0;
    if (fields.size() > 1 && absl::SimpleAtoi(fields[1], &ppid) && ppid == getpid()) {
      children.push_back(pid);
    }
  }
  return children;
}

TEST(EximFixtureStartTest, StopReapsDaemonAndConnectionChildren) {
  if (geteuid() != 0) GTEST_SKIP() << "EximFixture needs root";
  ASSERT_THAT(OurChildren(), IsEmpty());
  std::vector<EximListener> listeners(1);
  listeners[0].name = "one";
  absl::StatusOr<std::unique_ptr<EximFixture>> exim = EximFixture::Start(std::move(listeners));
  ASSERT_TRUE(exim.ok()) << exim.status();
  // A connection in progress: Exim has a child process for it.
  absl::StatusOr<RawClient> client = RawClient::Connect((*exim)->endpoint("one"));
  ASSERT_TRUE(client.ok());
  EXPECT_THAT(ReadReply(*client), StartsWith("220 "));
  EXPECT_THAT(OurChildren(), Not(IsEmpty()));
  exim->reset();
  EXPECT_THAT(OurChildren(), IsEmpty());
  EXPECT_TRUE(client->ReadUntilEof(absl::Seconds(5)).ok());
}

TEST(EximFixtureStartTest, AddressInUseFailsWithLogTail) {
  if (geteuid() != 0) GTEST_SKIP() << "EximFixture needs root";
  // Bound without SO_REUSEADDR (and not listening): Exim's bind fails, a connect is refused.
  const std::string address = "127.26.0.7";
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in bound{};
  bound.sin_family = AF_INET;
  bound.sin_port = htons(25);
  inet_pton(AF_INET, address.c_str(), &bound.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof(bound)), 0);
  std::vector<EximListener> listeners(1);
  listeners[0].name = "taken";
  listeners[0].address = address;
  const absl::Time before = absl::Now();
  absl::StatusOr<std::unique_ptr<EximFixture>> exim = EximFixture::Start(std::move(listeners));
  close(fd);
  ASSERT_FALSE(exim.ok());
  EXPECT_LT(absl::Now() - before, absl::Seconds(10));
  EXPECT_THAT(exim.status().message(), HasSubstr("exited during start-up"));
  EXPECT_THAT(exim.status().message(), HasSubstr("Address already in use"));
}

// ---------------------------------------------------------------------------------------------
// OpenSMTPD

class OpenSmtpdFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    std::vector<OpenSmtpdListener> listeners(2);
    listeners[0].name = "starttls";
    listeners[1].name = "plain";
    listeners[1].offer_starttls = false;
    absl::StatusOr<std::unique_ptr<OpenSmtpdFixture>> smtpd =
        OpenSmtpdFixture::Start(std::move(listeners));
    if (!smtpd.ok()) {
      start_error_ = new std::string(smtpd.status().ToString());
      return;
    }
    std::fprintf(stderr, "OpenSMTPD started in %s at %s\n",
                 absl::FormatDuration((*smtpd)->start_duration()).c_str(),
                 (*smtpd)->directory().c_str());
    smtpd_ = smtpd->release();
  }

  static void TearDownTestSuite() {
    const absl::Time before = absl::Now();
    delete smtpd_;
    smtpd_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
    std::fprintf(stderr, "OpenSMTPD stopped in %s\n",
                 absl::FormatDuration(absl::Now() - before).c_str());
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "OpenSmtpdFixture needs root";
    ASSERT_NE(smtpd_, nullptr) << (start_error_ != nullptr ? *start_error_ : "not started");
  }

  static OpenSmtpdFixture* smtpd_;
  static std::string* start_error_;
};

OpenSmtpdFixture* OpenSmtpdFixtureTest::smtpd_ = nullptr;
std::string* OpenSmtpdFixtureTest::start_error_ = nullptr;

TEST_F(OpenSmtpdFixtureTest, GreetsAndOffersStarttls) {
  for (const char* name : {"starttls", "plain"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(smtpd_->endpoint(name), StartsWith("127.27."));
    absl::StatusOr<RawClient> client = RawClient::Connect(smtpd_->endpoint(name));
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_EQ(ReadReply(*client), "220 mx.example.test ESMTP OpenSMTPD\r\n");
    ASSERT_TRUE(client->Send("EHLO scanner.example.test\r\n").ok());
    const std::string ehlo = ReadReply(*client);
    EXPECT_THAT(ehlo, StartsWith("250-mx.example.test Hello scanner.example.test"));
    if (std::string(name) == "plain") {
      EXPECT_THAT(ehlo, Not(HasSubstr("STARTTLS")));
    } else {
      EXPECT_THAT(ehlo, HasSubstr("250-STARTTLS\r\n"));
    }
  }
}

TEST_F(OpenSmtpdFixtureTest, HandshakeFailsAfterServerHello) {
  const std::string endpoint = smtpd_->endpoint("starttls");
  // TLS 1.3: ServerHello, the certificate, then internal_error instead of CertificateVerify.
  // s_client still prints "Cipher is" for the half-done session; its exit status tells.
  const SClientRun tls13 = SClient(endpoint, "-tls1_3");
  EXPECT_NE(tls13.exit_code, 0) << tls13.output;
  EXPECT_THAT(tls13.output, HasSubstr("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"));
  EXPECT_THAT(tls13.output, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(tls13.output, HasSubstr("alert internal error"));
  // TLS 1.2: ServerHello and certificate, then the alert instead of ServerKeyExchange.
  const SClientRun tls12 = SClient(endpoint, "-tls1_2");
  EXPECT_NE(tls12.exit_code, 0) << tls12.output;
  EXPECT_THAT(tls12.output, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(tls12.output, HasSubstr("alert internal error"));
  EXPECT_THAT(WaitForLog(smtpd_->log_path(), "missing private key"),
              HasSubstr("routines::missing private key"))
      << smtpd_->LogTail();

  // So the truth has no suite at all, although every handshake got a ServerHello.
  TlsTruthRequest request;
  request.address = smtpd_->listener("starttls").address;
  request.versions = {TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  request.suites = CandidateSuites();
  request.groups = {"x25519", "secp384r1"};
  absl::StatusOr<TlsTruth> truth = ProbeTlsTruth(request);
  ASSERT_TRUE(truth.ok()) << truth.status();
  EXPECT_THAT(truth->SupportedVersions(), IsEmpty()) << truth->Describe();
  EXPECT_THAT(truth->versions[TlsVersion::kTls1_3].groups, IsEmpty()) << truth->Describe();
}

// ---------------------------------------------------------------------------------------------
// Haraka

class HarakaFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    std::vector<HarakaListener> listeners(3);
    listeners[0].name = "defaults";
    listeners[1].name = "restricted";
    listeners[1].ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
    listeners[1].ecdh_curve = "P-256";
    listeners[2].name = "tls13only";
    listeners[2].min_version = "TLSv1.3";
    absl::StatusOr<std::unique_ptr<HarakaFixture>> haraka =
        HarakaFixture::Start(std::move(listeners));
    if (!haraka.ok()) {
      start_error_ = new std::string(haraka.status().ToString());
      return;
    }
    std::fprintf(stderr, "Haraka (3 processes) started in %s at %s\n",
                 absl::FormatDuration((*haraka)->start_duration()).c_str(),
                 (*haraka)->directory().c_str());
    haraka_ = haraka->release();
  }

  static void TearDownTestSuite() {
    const absl::Time before = absl::Now();
    delete haraka_;
    haraka_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
    std::fprintf(stderr, "Haraka stopped in %s\n",
                 absl::FormatDuration(absl::Now() - before).c_str());
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "HarakaFixture needs root";
    ASSERT_NE(haraka_, nullptr) << (start_error_ != nullptr ? *start_error_ : "not started");
  }

  static HarakaFixture* haraka_;
  static std::string* start_error_;
};

HarakaFixture* HarakaFixtureTest::haraka_ = nullptr;
std::string* HarakaFixtureTest::start_error_ = nullptr;

TEST_F(HarakaFixtureTest, GreetsAndOffersStarttls) {
  absl::StatusOr<RawClient> client = RawClient::Connect(haraka_->endpoint("defaults"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_THAT(ReadReply(*client), StartsWith("220 mx.example.test ESMTP Haraka/3."));
  ASSERT_TRUE(client->Send("EHLO scanner.example.test\r\n").ok());
  const std::string ehlo = ReadReply(*client);
  EXPECT_THAT(ehlo, StartsWith("250-mx.example.test Hello client.invalid [127.0.0.1]"));
  EXPECT_THAT(ehlo, HasSubstr("250 STARTTLS\r\n"));
}

TEST_F(HarakaFixtureTest, NegotiatedSuiteIsLogged) {
  const SClientRun run = SClient(haraka_->endpoint("restricted"), "-brief -ign_eof -tls1_2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Ciphersuite: ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_THAT(WaitForLog(haraka_->log_path("restricted"), "secured:"),
              HasSubstr("[tls] secured: cipher=ECDHE-RSA-AES128-GCM-SHA256 version=TLSv1.2"))
      << haraka_->LogTail("restricted");
}

TEST_F(HarakaFixtureTest, TruthFollowsTlsIni) {
  TlsTruthRequest request;
  request.versions = {TlsVersion::kTls1_1, TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  request.suites = CandidateSuites();
  request.groups = CandidateGroups();

  request.address = haraka_->listener("defaults").address;
  absl::StatusOr<TlsTruth> defaults = ProbeTlsTruth(request);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  std::fprintf(stderr, "Haraka (Node) defaults:\n%s", defaults->Describe().c_str());
  EXPECT_THAT(defaults->SupportedVersions(), ElementsAre(TlsVersion::kTls1_2, TlsVersion::kTls1_3))
      << defaults->Describe();
  // Independently: Node's default cipher string as this machine's OpenSSL expands it, for an
  // RSA certificate (DHE included: the fixture gives Haraka its dhparams.pem).
  absl::StatusOr<CommandResult> node_ciphers =
      RunCommand("node -p \"require('tls').DEFAULT_CIPHERS\"");
  ASSERT_TRUE(node_ciphers.ok() && node_ciphers->exit_code == 0);
  const std::string node_list(absl::StripAsciiWhitespace(node_ciphers->output));
  absl::StatusOr<CommandResult> expanded = RunCommand(
      absl::StrCat("openssl ciphers -s -stdname -tls1_2 ", ShellQuote(node_list), " 2>&1"));
  ASSERT_TRUE(expanded.ok() && expanded->exit_code == 0);
  const std::set<std::string> candidates(CandidateSuites().begin(), CandidateSuites().end());
  std::set<std::string> expected12;
  std::set<std::string> expected13;
  for (absl::string_view line : absl::StrSplit(expanded->output, '\n', absl::SkipEmpty())) {
    const std::string name(line.substr(0, line.find(' ')));
    const backends::CipherSuiteInfo* suite = backends::FindCipherSuiteByIanaName(name);
    if (suite == nullptr || !candidates.contains(name)) continue;
    if (!backends::IsTls13Suite(suite->code_point) && suite->authentication == "RSA") {
      expected12.insert(name);
    }
  }
  // Node's TLS 1.3 suites are the TLS_ names in the same string.
  for (const std::string& name : CandidateSuites()) {
    const backends::CipherSuiteInfo* suite = backends::FindCipherSuiteByIanaName(name);
    if (backends::IsTls13Suite(suite->code_point) && absl::StrContains(node_list, name)) {
      expected13.insert(name);
    }
  }
  EXPECT_EQ(defaults->versions[TlsVersion::kTls1_2].suites, expected12) << defaults->Describe();
  EXPECT_EQ(defaults->versions[TlsVersion::kTls1_3].suites, expected13) << defaults->Describe();

  request.address = haraka_->listener("restricted").address;
  absl::StatusOr<TlsTruth> restricted = ProbeTlsTruth(request);
  ASSERT_TRUE(restricted.ok()) << restricted.status();
  EXPECT_EQ(restricted->versions[TlsVersion::kTls1_2].suites,
            std::set<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})
      << restricted->Describe();
  EXPECT_EQ(restricted->versions[TlsVersion::kTls1_2].groups, std::set<std::string>{"secp256r1"})
      << restricted->Describe();
  EXPECT_EQ(restricted->versions[TlsVersion::kTls1_3].groups, std::set<std::string>{"secp256r1"})
      << restricted->Describe();

  request.address = haraka_->listener("tls13only").address;
  absl::StatusOr<TlsTruth> tls13 = ProbeTlsTruth(request);
  ASSERT_TRUE(tls13.ok()) << tls13.status();
  EXPECT_THAT(tls13->SupportedVersions(), ElementsAre(TlsVersion::kTls1_3)) << tls13->Describe();
}

TEST(RealMtaStopTest, OpenSmtpdAndHarakaStopAndReapEverything) {
  if (geteuid() != 0) GTEST_SKIP() << "the fixtures need root";
  ASSERT_THAT(OurChildren(), IsEmpty());
  {
    std::vector<OpenSmtpdListener> listeners(1);
    listeners[0].name = "one";
    absl::StatusOr<std::unique_ptr<OpenSmtpdFixture>> smtpd =
        OpenSmtpdFixture::Start(std::move(listeners));
    ASSERT_TRUE(smtpd.ok()) << smtpd.status();
    absl::StatusOr<RawClient> client = RawClient::Connect((*smtpd)->endpoint("one"));
    ASSERT_TRUE(client.ok());
    EXPECT_THAT(ReadReply(*client), StartsWith("220 "));
    smtpd->reset();
    EXPECT_THAT(OurChildren(), IsEmpty());
    EXPECT_TRUE(client->ReadUntilEof(absl::Seconds(5)).ok());
  }
  std::vector<HarakaListener> listeners(1);
  listeners[0].name = "one";
  absl::StatusOr<std::unique_ptr<HarakaFixture>> haraka =
      HarakaFixture::Start(std::move(listeners));
  ASSERT_TRUE(haraka.ok()) << haraka.status();
  absl::StatusOr<RawClient> client = RawClient::Connect((*haraka)->endpoint("one"));
  ASSERT_TRUE(client.ok());
  EXPECT_THAT(ReadReply(*client), StartsWith("220 "));
  haraka->reset();
  EXPECT_THAT(OurChildren(), IsEmpty());
  EXPECT_TRUE(client->ReadUntilEof(absl::Seconds(5)).ok());
}

// ---------------------------------------------------------------------------------------------
// Prerequisites and tls_truth's own rules

TEST(RealMtaPrerequisitesTest, FetchMtasHasRun) {
  for (const absl::Status& status :
       {EximFixture::CheckInstalled(), OpenSmtpdFixture::CheckInstalled(),
        HarakaFixture::CheckInstalled()}) {
    EXPECT_TRUE(status.ok()) << status;
  }
}

TEST(RealMtaPrerequisitesTest, MissingMtaNamesFetchScript) {
  const absl::Status status = RequireMtaProgram("no/such/program", "Nothing");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("tests/testing/fetch_mtas"));
}

TEST(TlsTruthTest, RefusesNonLoopbackAndUnknownNames) {
  TlsTruthRequest request;
  request.address = "192.0.2.1";
  request.versions = {TlsVersion::kTls1_2};
  EXPECT_EQ(ProbeTlsTruth(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.address = "127.0.0.1";
  request.suites = {"TLS_NO_SUCH_SUITE"};
  EXPECT_EQ(ProbeTlsTruth(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TlsTruthTest, NothingListeningIsAnErrorNotAnEmptyTruth) {
  TlsTruthRequest request;
  request.address = "127.29.0.1";  // No fixture uses 127.29.
  request.port = 9;
  request.versions = {TlsVersion::kTls1_2};
  request.suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
  for (TruthTool tool : {TruthTool::kOpenSsl, TruthTool::kGnuTls}) {
    request.tool = tool;
    absl::StatusOr<TlsTruth> truth = ProbeTlsTruth(request);
    EXPECT_EQ(truth.status().code(), absl::StatusCode::kUnavailable) << truth.status();
  }
}

TEST(TlsTruthTest, OpenSslOfferableSuitesComeFromTheTable) {
  absl::StatusOr<std::vector<std::string>> tls12 = OpenSslOfferableSuites(TlsVersion::kTls1_2);
  ASSERT_TRUE(tls12.ok()) << tls12.status();
  EXPECT_THAT(*tls12, ::testing::Contains("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
  EXPECT_THAT(*tls12, Not(::testing::Contains("TLS_RSA_WITH_3DES_EDE_CBC_SHA")));
  EXPECT_THAT(*tls12, Not(::testing::Contains("TLS_AES_128_GCM_SHA256")));
  absl::StatusOr<std::vector<std::string>> tls13 = OpenSslOfferableSuites(TlsVersion::kTls1_3);
  ASSERT_TRUE(tls13.ok()) << tls13.status();
  EXPECT_THAT(*tls13, ::testing::Contains("TLS_CHACHA20_POLY1305_SHA256"));
  EXPECT_THAT(*tls13, Not(::testing::Contains("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")));
}

}  // namespace
}  // namespace tlsweep::testing
