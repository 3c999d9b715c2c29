// tlsweep against real MTAs that nobody on this project wrote (issue 17): Exim 4.96 (GnuTLS),
// OpenSMTPD 6.8 and Haraka 3, unpacked by tests/testing/fetch_mtas and run on loopback.
//
// What is checked, and against what:
//  - the enumeration against ProbeTlsTruth (single-suite and single-group `openssl s_client` and
//    `gnutls-cli` handshakes that must complete), suite for suite and curve for curve;
//  - a broken server (OpenSMTPD on Debian 12: ServerHello, then internal_error) is reported as
//    broken and never predicted to negotiate;
//  - temporary refusals (Exim's rate-limit ACL 451, its connection limit 421) are backed off
//    and retried, and an enumeration they cut short says so and makes the what-if uncertain;
//  - a delayed multi-line greeting, and a 454 to STARTTLS;
//  - the what-if model's predictions against independent live handshakes (not tlsweep's own
//    probes) for candidates that include group-limited ones.
// Lines starting with "[ measured ]" are the figures for the note.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/enumerate/enumeration_probe.h"
#include "agent/enumerate/offer_plan.h"
#include "asio.hpp"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/negotiation/negotiation_model.h"
#include "backends/plugin_loader.h"
#include "backends/tls_version_proto.h"
#include "gtest/gtest.h"
#include "tests/testing/exim_fixture.h"
#include "tests/testing/fixtures_test/raw_client.h"
#include "tests/testing/haraka_fixture.h"
#include "tests/testing/mta_process.h"
#include "tests/testing/opensmtpd_fixture.h"
#include "tests/testing/probe_runner.h"
#include "tests/testing/run_command.h"
#include "tests/testing/tls_truth.h"

namespace tlsweep::agent {
namespace {

using backends::Prediction;
using backends::TlsVersion;
using ::tlsweep::testing::EndpointAt;
using ::tlsweep::testing::EximFixture;
using ::tlsweep::testing::EximListener;
using ::tlsweep::testing::HarakaFixture;
using ::tlsweep::testing::HarakaListener;
using ::tlsweep::testing::OpenSmtpdFixture;
using ::tlsweep::testing::OpenSmtpdListener;
using ::tlsweep::testing::ShellQuote;
using ::tlsweep::testing::TlsTruth;
using ::tlsweep::testing::TlsTruthRequest;
using ::tlsweep::testing::ToolHandshake;
using ::tlsweep::testing::VersionTruth;
using tlsweep::v1::ProbeResult;
using tlsweep::v1::VersionEnumeration;

constexpr TlsVersion kVersions[] = {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2,
                                    TlsVersion::kTls1_3};

// GnuTLS priority strings handed to Exim (tls_require_ciphers).
// Only P-384 and P-521, TLS <= 1.2: a candidate offering X25519:P-256 has no curve in common.
constexpr char kP384Priority[] = "NORMAL:-VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP521R1";
// TLS 1.2 only, AES-256-GCM and two CBC ciphers, the server's order first (Exim's default leaves
// the choice to the client).
constexpr char kTls12Priority[] =
    "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-256-CBC:"
    "+AES-128-CBC";
// One suite and one curve: the delayed listener costs about one greeting delay per connection,
// so it is kept to the fewest handshakes an enumeration can make.
constexpr char kSlowPriority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-KX-ALL:+ECDHE-RSA:-GROUP-ALL:"
    "+GROUP-SECP256R1";
// RC4 and 3DES on top of GnuTLS's NORMAL: a real GnuTLS server with STARTTLS that still takes
// them (gnutls-serv has no STARTTLS; Exim is the GnuTLS MTA).
constexpr char kRc4Priority[] = "NORMAL:+ARCFOUR-128:+3DES-CBC";
// Haraka (Node's OpenSSL): two ECDHE suites and one RSA key-exchange suite, so that a client
// without P-256 still has a suite to fall back on below TLS 1.3.
constexpr char kHarakaCiphers[] =
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256";

// The listeners whose enumeration is compared with the truth (test 1). The rate-limited,
// connection-limited, delayed and 454 listeners have tests of their own.
const std::vector<std::string>& TruthListeners() {
  static const auto* names = new std::vector<std::string>{
      "exim_defaults", "exim_p384", "exim_priority", "haraka_defaults", "haraka_p256"};
  return *names;
}

struct Listener {
  std::string mta;  // "Exim", "OpenSMTPD", "Haraka".
  std::string address;
  std::string endpoint;  // "127.x.y.z:25".
  std::string exim_log;  // Exim's mainlog; empty for the others.
};

struct Enumerated {
  ProbeResult result;
  int64_t gate_connections = 0;
  absl::Duration wall;
  // Exim only: the most connections from us its daemon counted at once while enumerating.
  int server_concurrency = 0;
};

class RealMtaLab : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) return;  // Each test skips.
    const absl::Time before = absl::Now();
    std::vector<EximListener> exim(8);
    exim[0].name = "exim_defaults";
    exim[1].name = "exim_p384";
    exim[1].tls_require_ciphers = kP384Priority;
    exim[2].name = "exim_priority";
    exim[2].tls_require_ciphers = kTls12Priority;
    // Four connections per second per client address (leaky: refused ones do not count). The
    // same TLS policy as exim_priority, so that its truth serves (the truth tools cannot connect
    // from an address the limit exempts) and the enumeration stays short.
    exim[3].name = "exim_ratelimited";
    exim[3].tls_require_ciphers = kTls12Priority;
    exim[3].ratelimit_connections = 4;
    exim[3].ratelimit_period = absl::Seconds(1);
    exim[4].name = "exim_limit1";
    exim[4].smtp_accept_max = 1;
    exim[4].tls_require_ciphers = kTls12Priority;
    exim[5].name = "exim_slow";
    exim[5].greeting_delay = absl::Seconds(1);
    exim[5].banner_lines = {"mx.example.test ESMTP Exim", "a greeting of three lines",
                            "after a delay"};
    exim[5].tls_require_ciphers = kSlowPriority;
    exim[6].name = "exim_454";
    exim[6].starttls_fails = true;
    exim[7].name = "exim_rc4";
    exim[7].tls_require_ciphers = kRc4Priority;
    absl::StatusOr<std::unique_ptr<EximFixture>> started_exim = EximFixture::Start(exim);
    if (!started_exim.ok()) {
      error = absl::StrCat("cannot start Exim: ", started_exim.status().ToString());
      return;
    }
    exim_ = *std::move(started_exim);
    for (const EximListener& l : exim) {
      listeners[l.name] = {"Exim", exim_->listener(l.name).address, exim_->endpoint(l.name),
                           exim_->log_path(l.name)};
    }

    std::vector<OpenSmtpdListener> smtpd(1);
    smtpd[0].name = "broken";
    absl::StatusOr<std::unique_ptr<OpenSmtpdFixture>> started_smtpd =
        OpenSmtpdFixture::Start(smtpd);
    if (!started_smtpd.ok()) {
      error = absl::StrCat("cannot start OpenSMTPD: ", started_smtpd.status().ToString());
      return;
    }
    smtpd_ = *std::move(started_smtpd);
    listeners["broken"] = {"OpenSMTPD", smtpd_->listener("broken").address,
                           smtpd_->endpoint("broken"), ""};

    std::vector<HarakaListener> haraka(2);
    haraka[0].name = "haraka_defaults";
    haraka[1].name = "haraka_p256";
    haraka[1].ecdh_curve = "P-256";
    haraka[1].ciphers = kHarakaCiphers;
    absl::StatusOr<std::unique_ptr<HarakaFixture>> started_haraka = HarakaFixture::Start(haraka);
    if (!started_haraka.ok()) {
      error = absl::StrCat("cannot start Haraka: ", started_haraka.status().ToString());
      return;
    }
    haraka_ = *std::move(started_haraka);
    for (const HarakaListener& l : haraka) {
      listeners[l.name] = {"Haraka", haraka_->listener(l.name).address, haraka_->endpoint(l.name),
                           ""};
    }

    absl::StatusOr<backends::BackendRegistry> loaded =
        backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
    if (!loaded.ok()) {
      error = absl::StrCat("cannot load the backends: ", loaded.status().ToString());
      return;
    }
    registry = std::make_unique<backends::BackendRegistry>(*std::move(loaded));
    std::vector<backends::Backend*> backends;
    for (const char* name : {"openssl", "gnutls"}) {
      absl::StatusOr<backends::Backend*> backend = registry->Get(name);
      if (!backend.ok()) {
        error = backend.status().ToString();
        return;
      }
      backends.push_back(*backend);
    }
    absl::StatusOr<OfferPlan> built = BuildOfferPlan(backends);
    if (!built.ok()) {
      error = absl::StrCat("no offer plan: ", built.status().ToString());
      return;
    }
    plan = std::make_unique<OfferPlan>(*std::move(built));
    std::cout << "real MTAs (Exim x8, OpenSMTPD, Haraka x2) started in "
              << absl::FormatDuration(absl::Now() - before) << "\n";
  }

  void TearDown() override {
    haraka_.reset();
    smtpd_.reset();
    exim_.reset();
  }

  std::string error;  // Why the lab could not start; empty once it runs.
  std::map<std::string, Listener> listeners;
  std::unique_ptr<backends::BackendRegistry> registry;
  std::unique_ptr<OfferPlan> plan;
  // Default enumerations and truths, computed once per program by whichever test needs them.
  std::map<std::string, Enumerated> enumerations;
  std::map<std::string, TlsTruth> truths;

 private:
  std::unique_ptr<EximFixture> exim_;
  std::unique_ptr<OpenSmtpdFixture> smtpd_;
  std::unique_ptr<HarakaFixture> haraka_;
};

RealMtaLab* const lab_environment =
    static_cast<RealMtaLab*>(::testing::AddGlobalTestEnvironment(new RealMtaLab));

RealMtaLab& Lab() { return *lab_environment; }

const Listener& At(const std::string& name) {
  auto it = Lab().listeners.find(name);
  if (it == Lab().listeners.end()) {
    std::cerr << "no listener " << name << "\n";
    std::abort();  // A typo in this file.
  }
  return it->second;
}

class RealMtaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the real MTAs need root (port 25, mount namespaces)";
    ASSERT_TRUE(Lab().error.empty()) << Lab().error;
  }
};

ProbeOptions Options() {
  ProbeOptions options;
  options.ehlo_name = "scanner.example.test";
  options.banner_timeout = std::chrono::seconds(10);
  options.handshake_timeout = std::chrono::seconds(10);
  return options;
}

struct RunOptions {
  std::chrono::milliseconds backoff{1000};
  int max_attempts = 4;
  // --per-ip: connections to the address open at once; the enumeration runs as many versions
  // at once after the first (EnumerationContext::parallel_versions).
  int per_ip = 1;
  // Runs on the enumeration's io_context beside it (e.g. a timer that frees a held connection).
  std::function<void(asio::io_context&)> beside;
  const OfferPlan* plan = nullptr;  // Default: the lab's OpenSSL + GnuTLS plan.
};

// The largest "TCP/IP connection count" Exim logged for connections from 127.0.0.1 after the
// first `skip` bytes of its mainlog. Exim sleeps half a second after a failed handshake before
// it closes, so a client that opens the next connection as soon as it has closed its side (one
// at a time, as tlsweep's per-IP concurrency of 1 means it) still has several at the server.
int EximConcurrency(const std::string& log_path, size_t skip) {
  const std::string log = ::tlsweep::testing::ReadTextFile(log_path).value_or("");
  int most = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(log).substr(std::min(skip, log.size())), '\n')) {
    if (!absl::StrContains(line, "SMTP connection from [127.0.0.1]")) continue;
    const size_t at = line.find("connection count = ");
    int count = 0;
    if (at != absl::string_view::npos &&
        absl::SimpleAtoi(absl::StripSuffix(line.substr(at + 19), ")"), &count)) {
      most = std::max(most, count);
    }
  }
  return most;
}

// RunEnumeration with both backends' offers, through a politeness gate without spacing (the
// servers are ours), on a private io_context.
Enumerated Enumerate(const std::string& name, const RunOptions& options = {}) {
  const std::string& exim_log = At(name).exim_log;
  const size_t log_before =
      exim_log.empty() ? 0 : ::tlsweep::testing::ReadTextFile(exim_log).value_or("").size();
  PolitenessOptions politeness;
  politeness.per_ip_spacing = std::chrono::milliseconds(0);
  politeness.per_ip_concurrency = options.per_ip;
  PolitenessGate gate(politeness);
  EnumerationContext context;
  context.plan = options.plan != nullptr ? options.plan : Lab().plan.get();
  context.probe = Options();
  context.gate = &gate;
  context.rate_limit_backoff = options.backoff;
  context.max_attempts = options.max_attempts;
  context.parallel_versions = options.per_ip;
  Enumerated enumerated;
  asio::io_context io;
  const absl::Time start = absl::Now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        enumerated.result = co_await RunEnumeration(EndpointAt(At(name).endpoint), context);
      },
      asio::detached);
  if (options.beside) options.beside(io);
  io.run();
  enumerated.wall = absl::Now() - start;
  enumerated.gate_connections = gate.connections_started();
  if (!exim_log.empty()) {
    // Exim writes the count when it accepts, before the enumeration's next connection.
    enumerated.server_concurrency = EximConcurrency(exim_log, log_before);
  }
  return enumerated;
}

// The default enumeration of `name`, made once.
const Enumerated& EnumerationOf(const std::string& name) {
  auto it = Lab().enumerations.find(name);
  if (it == Lab().enumerations.end()) it = Lab().enumerations.emplace(name, Enumerate(name)).first;
  return it->second;
}

const VersionEnumeration& VersionOf(const ProbeResult& result, TlsVersion version) {
  for (const VersionEnumeration& v : result.enumeration().versions()) {
    if (v.version() == backends::VersionToProto(version)) return v;
  }
  static const VersionEnumeration kNone;
  return kNone;
}

const VersionPlan& PlanAt(TlsVersion version) {
  for (const VersionPlan& plan : Lab().plan->versions) {
    if (plan.version == version) return plan;
  }
  static const VersionPlan kNone;
  return kNone;
}

// Suites a server with an RSA certificate (every fixture mints one) can complete: RSA, (EC)DHE
// and anonymous key exchange, and the TLS 1.3 suites. PSK, SRP, Kerberos, fixed (EC)DH and
// ECDSA/DSS suites cannot; an enumeration that lists one is wrong without asking any tool.
bool RsaServerCanComplete(const backends::CipherSuiteInfo& suite) {
  static const std::set<std::string> kKeyExchanges = {"RSA",     "RSA(512)", "RSA(1024)", "DH",
                                                      "DH(512)", "DH(1024)", "ECDH",      "any"};
  static const std::set<std::string> kAuthentications = {"RSA", "None", "any"};
  return kKeyExchanges.contains(std::string(suite.key_exchange)) &&
         kAuthentications.contains(std::string(suite.authentication));
}

// What the truth is asked about: every suite some backend can offer at some version that an
// RSA certificate can complete, and every group the backends offer at TLS 1.2 and 1.3.
TlsTruthRequest TruthRequest(const std::string& name) {
  TlsTruthRequest request;
  request.address = At(name).address;
  request.server_name = "mx.example.test";
  request.tool = ::tlsweep::testing::TruthTool::kOpenSslThenGnuTls;
  // Generous: the truth runs many tools at once, and an FFDHE-8192 handshake alone takes a
  // second of CPU; a timeout makes the whole truth an error.
  request.command_timeout = absl::Seconds(30);
  std::set<std::string> suites;
  std::set<std::string> groups;
  for (TlsVersion version : kVersions) {
    for (const BackendOffer& offer : PlanAt(version).offers) {
      for (const backends::OfferedSuite& offered : offer.suites) {
        const backends::CipherSuiteInfo* info = backends::FindCipherSuite(offered.code_point);
        if (info != nullptr && RsaServerCanComplete(*info)) {
          suites.insert(std::string(info->iana_name));
        }
      }
      if (version >= TlsVersion::kTls1_2) {
        for (uint16_t group : offer.groups) groups.insert(backends::GroupName(group));
      }
    }
  }
  request.suites.assign(suites.begin(), suites.end());
  request.groups.assign(groups.begin(), groups.end());
  return request;
}

// How many tool processes run at once per listener. Exim sleeps half a second after a failed
// handshake before it closes, and s_client waits up to half a second for that close, so each
// refused suite costs Exim ~0.6 s of waiting, not of work: the truth is cut into parts that run
// side by side.
constexpr int kTruthParts = 4;

void Merge(TlsTruth& into, TlsTruth&& part) {
  for (auto& [version, found] : part.versions) {
    VersionTruth& merged = into.versions[version];
    merged.suites.insert(found.suites.begin(), found.suites.end());
    merged.groups.insert(found.groups.begin(), found.groups.end());
    merged.untested_suites.insert(found.untested_suites.begin(), found.untested_suites.end());
    merged.untested_groups.insert(found.untested_groups.begin(), found.untested_groups.end());
  }
  into.commands.insert(into.commands.end(), std::make_move_iterator(part.commands.begin()),
                       std::make_move_iterator(part.commands.end()));
}

// The truth of one listener: its suites at every version, in kTruthParts parts, and its groups at
// TLS 1.2 and 1.3 (what is compared; TLS 1.0/1.1 groups would only cost handshakes).
absl::StatusOr<TlsTruth> ProbeTruth(const std::string& name) {
  const TlsTruthRequest all = TruthRequest(name);
  std::vector<TlsTruthRequest> parts(kTruthParts + 1, all);
  for (TlsTruthRequest& part : parts) {
    part.suites.clear();
    part.groups.clear();
    part.versions.assign(std::begin(kVersions), std::end(kVersions));
  }
  for (size_t i = 0; i < all.suites.size(); ++i) {
    parts[i % kTruthParts].suites.push_back(all.suites[i]);
  }
  parts.back().groups = all.groups;
  parts.back().versions = {TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  std::vector<std::future<absl::StatusOr<TlsTruth>>> running;
  for (const TlsTruthRequest& part : parts) {
    running.push_back(std::async(std::launch::async, [part] { return ProbeTlsTruth(part); }));
  }
  TlsTruth truth;
  absl::Status status;
  for (auto& future : running) {
    absl::StatusOr<TlsTruth> part = future.get();
    if (part.ok()) {
      Merge(truth, *std::move(part));
    } else {
      status.Update(part.status());
    }
  }
  if (!status.ok()) return status;
  return truth;
}

// The truths of `names` not known yet, all listeners at once.
absl::Status ComputeTruths(const std::vector<std::string>& names) {
  std::map<std::string, std::future<absl::StatusOr<TlsTruth>>> running;
  for (const std::string& name : names) {
    if (Lab().truths.contains(name) || running.contains(name)) continue;
    running[name] = std::async(std::launch::async, [name] { return ProbeTruth(name); });
  }
  absl::Status status;
  for (auto& [name, future] : running) {
    absl::StatusOr<TlsTruth> truth = future.get();
    if (truth.ok()) {
      Lab().truths[name] = *std::move(truth);
    } else {
      status.Update(
          absl::Status(truth.status().code(), absl::StrCat(name, ": ", truth.status().message())));
    }
  }
  return status;
}

std::string Join(const std::set<std::string>& names) {
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

// Enumeration vs truth at one version, over what both sides could test.
struct VersionComparison {
  std::set<std::string> missing;     // Completed in the truth, not enumerated.
  std::set<std::string> extra;       // Enumerated, never completed in the truth.
  std::set<std::string> unverified;  // Enumerated, but no truth tool could offer it.
  size_t truth_suites = 0;           // Truth suites the enumeration could have found.
  size_t enumerated_suites = 0;
  bool groups_compared = false;
  std::set<std::string> missing_groups;
  std::set<std::string> extra_groups;
  size_t truth_groups = 0;
};

// The groups the enumeration offered at `version`: those of the first backend offer that can
// offer the accepted suites it draws groups for (ECDHE ones below TLS 1.3), as the enumerator
// picks it.
std::set<std::string> EnumerableGroups(TlsVersion version, const VersionEnumeration& found) {
  for (const BackendOffer& offer : PlanAt(version).offers) {
    bool usable = false;
    for (const tlsweep::v1::CipherSuite& suite : found.suites()) {
      const backends::CipherSuiteInfo* info = backends::FindCipherSuite(suite.code_point());
      const bool ecdhe = info != nullptr && info->key_exchange == "ECDH";
      if ((version == TlsVersion::kTls1_3 || ecdhe) &&
          offer.Offers(static_cast<uint16_t>(suite.code_point()))) {
        usable = true;
      }
    }
    if (!usable) continue;
    std::set<std::string> groups;
    for (uint16_t group : offer.groups) {
      if (version == TlsVersion::kTls1_3 || group < 256) groups.insert(backends::GroupName(group));
    }
    return groups;
  }
  return {};
}

VersionComparison Compare(const TlsTruth& truth, const TlsTruthRequest& asked,
                          const VersionEnumeration& found, TlsVersion version) {
  VersionComparison comparison;
  const auto it = truth.versions.find(version);
  const VersionTruth empty;
  const VersionTruth& known = it == truth.versions.end() ? empty : it->second;
  const std::set<std::string> requested(asked.suites.begin(), asked.suites.end());
  std::set<std::string> untested(known.untested_suites.begin(), known.untested_suites.end());
  for (uint32_t code : found.untested_suites()) {
    untested.insert(backends::CipherSuiteName(static_cast<uint16_t>(code)));
  }
  std::set<std::string> enumerated;
  for (const tlsweep::v1::CipherSuite& suite : found.suites()) {
    enumerated.insert(backends::CipherSuiteName(static_cast<uint16_t>(suite.code_point())));
  }
  comparison.enumerated_suites = enumerated.size();
  for (const std::string& suite : known.suites) {
    if (untested.contains(suite)) continue;
    ++comparison.truth_suites;
    if (!enumerated.contains(suite)) comparison.missing.insert(suite);
  }
  for (const std::string& suite : enumerated) {
    if (!requested.contains(suite)) {
      comparison.extra.insert(suite);  // An RSA certificate cannot complete it.
    } else if (known.untested_suites.contains(suite)) {
      comparison.unverified.insert(suite);
    } else if (!known.suites.contains(suite)) {
      comparison.extra.insert(suite);
    }
  }
  if (version == TlsVersion::kTls1_2 || version == TlsVersion::kTls1_3) {
    comparison.groups_compared = true;
    const std::set<std::string> offered = EnumerableGroups(version, found);
    const std::set<std::string> enumerated_groups(found.groups().begin(), found.groups().end());
    for (const std::string& group : known.groups) {
      if (!offered.contains(group)) continue;
      ++comparison.truth_groups;
      if (!enumerated_groups.contains(group)) comparison.missing_groups.insert(group);
    }
    for (const std::string& group : enumerated_groups) {
      if (!known.untested_groups.contains(group) && !known.groups.contains(group)) {
        comparison.extra_groups.insert(group);
      }
    }
  }
  return comparison;
}

// Test 1 and 3: the enumeration equals the truth at every version; returns "missing/extra"
// totals for the measured line.
std::string ExpectMatchesTruth(const std::string& label, const ProbeResult& result,
                               const TlsTruth& truth, const TlsTruthRequest& asked) {
  size_t truth_total = 0, enumerated_total = 0, missing = 0, extra = 0, unverified = 0;
  std::string curves;
  for (TlsVersion version : kVersions) {
    const std::string version_name(backends::TlsVersionName(version));
    const VersionEnumeration& found = VersionOf(result, version);
    const VersionComparison c = Compare(truth, asked, found, version);
    truth_total += c.truth_suites;
    enumerated_total += c.enumerated_suites;
    missing += c.missing.size();
    extra += c.extra.size();
    unverified += c.unverified.size();
    const std::string context =
        absl::StrCat(label, " ", version_name, ": enumeration status ",
                     VersionEnumeration::Status_Name(found.status()), ", detail: ", found.detail(),
                     "\ntruth:\n", truth.Describe());
    EXPECT_TRUE(c.missing.empty())
        << "the truth completes suites the enumeration did not find: " << Join(c.missing) << "\n"
        << context;
    EXPECT_TRUE(c.extra.empty()) << "the enumeration lists suites no tool could complete: "
                                 << Join(c.extra) << "\n"
                                 << context;
    const bool truth_supports = c.truth_suites > 0;
    EXPECT_EQ(found.status(),
              truth_supports ? VersionEnumeration::SUPPORTED : VersionEnumeration::NOT_SUPPORTED)
        << context;
    if (found.status() == VersionEnumeration::SUPPORTED) {
      EXPECT_EQ(found.confirmation(), VersionEnumeration::CONFIRMED)
          << label << " " << version_name << ": " << found.confirmation_detail();
    }
    if (c.groups_compared && truth_supports) {
      EXPECT_TRUE(c.missing_groups.empty() && c.extra_groups.empty())
          << label << " " << version_name << " groups: enumerated {"
          << absl::StrJoin(found.groups(), ", ") << "} (tested " << found.groups_tested()
          << "), missing " << Join(c.missing_groups) << ", extra " << Join(c.extra_groups) << "\n"
          << context;
      absl::StrAppend(&curves, curves.empty() ? "" : ", ", version_name, " groups ",
                      found.groups_size(), "/", c.truth_groups,
                      c.missing_groups.empty() && c.extra_groups.empty()
                          ? ""
                          : absl::StrCat(" (missing ", Join(c.missing_groups), ", extra ",
                                         Join(c.extra_groups), ")"));
    }
  }
  return absl::StrCat("truth ", truth_total, " suites, enumeration ", enumerated_total,
                      " (missing ", missing, ", extra ", extra,
                      unverified > 0 ? absl::StrCat(", unverifiable ", unverified) : "", ")",
                      curves.empty() ? "" : absl::StrCat("; ", curves));
}

std::string Figures(const Enumerated& enumerated) {
  const tlsweep::v1::Enumeration& e = enumerated.result.enumeration();
  return absl::StrCat(
      e.handshakes(), " handshakes (floor ", e.floor_handshakes(), "), ",
      e.confirmation_handshakes(), " confirmation handshakes, ", enumerated.result.attempts(),
      " connections, ", e.retries(), " retries, ", absl::ToInt64Milliseconds(enumerated.wall),
      " ms",
      enumerated.server_concurrency > 0
          ? absl::StrCat(", Exim counted up to ", enumerated.server_concurrency, " of them at once")
          : "");
}

// ---------------------------------------------------------------------------------------------
// Candidates, their predictions and independent handshakes.

struct Candidate {
  std::string spec;
  backends::TlsCandidate built;
};

absl::StatusOr<Candidate> MakeCandidate(const std::string& spec) {
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = backends::ParseCandidateSpec(spec);
  if (!settings.ok()) return settings.status();
  absl::StatusOr<backends::TlsCandidate> built =
      backends::BuildCandidate(*settings, *Lab().registry, "");
  if (!built.ok()) return built.status();
  return Candidate{spec, *std::move(built)};
}

std::string ProtocolFlag(tlsweep::v1::TlsVersion version) {
  return std::string(backends::TlsVersionName(backends::VersionFromProto(version)));
}

// One handshake by s_client or gnutls-cli configured exactly like the candidate: the same
// cipher string, TLS 1.3 suites, groups and versions (s_client), or the same priority string
// (gnutls-cli). `legacy` is what the OpenSSL backend does with it: security level 0 unless the
// string names one, TLS 1.0 as the floor unless a minimum is set, the legacy provider loaded.
absl::StatusOr<ToolHandshake> IndependentHandshake(const std::string& name,
                                                   const Candidate& candidate) {
  const tlsweep::v1::TlsClientSettings& s = candidate.built.settings;
  TlsTruthRequest where;
  where.address = At(name).address;
  where.server_name = "mx.example.test";
  where.command_timeout = absl::Seconds(20);
  if (s.backend() == "gnutls") {
    // The backend adds to the priority string for these settings; the candidates here use none.
    if (s.legacy() || s.groups_size() > 0 ||
        s.min_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED ||
        s.max_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(candidate.spec, ": only a bare priority string is mirrored"));
    }
    return ::tlsweep::testing::GnuTlsHandshake(
        where, s.gnutls_priority().empty() ? "NORMAL" : s.gnutls_priority());
  }
  std::string flags;
  std::string ciphers = s.openssl_ciphers();
  if (s.legacy() && !absl::StrContains(ciphers, "@SECLEVEL")) {
    ciphers = absl::StrCat(ciphers.empty() ? "DEFAULT" : ciphers, ":@SECLEVEL=0");
  }
  if (!ciphers.empty()) absl::StrAppend(&flags, " -cipher ", ShellQuote(ciphers));
  if (!s.openssl_ciphersuites().empty()) {
    absl::StrAppend(&flags, " -ciphersuites ", ShellQuote(s.openssl_ciphersuites()));
  }
  if (s.groups_size() > 0) {
    absl::StrAppend(&flags, " -groups ", ShellQuote(absl::StrJoin(s.groups(), ":")));
  }
  if (s.min_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
    absl::StrAppend(&flags, " -min_protocol ", ProtocolFlag(s.min_version()));
  } else if (s.legacy()) {
    absl::StrAppend(&flags, " -min_protocol TLSv1");
  }
  if (s.max_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
    absl::StrAppend(&flags, " -max_protocol ", ProtocolFlag(s.max_version()));
  }
  if (s.legacy()) absl::StrAppend(&flags, " -provider default -provider legacy");
  return ::tlsweep::testing::OpenSslHandshake(where, flags);
}

std::string DescribeTool(const ToolHandshake& tool) {
  if (!tool.completed) return absl::StrCat("failed (exit ", tool.exit_code, ")");
  return absl::StrCat("completed ", backends::TlsVersionName(tool.version), " ", tool.suite,
                      tool.group.empty() ? "" : absl::StrCat(" ", tool.group));
}

// Both fail, or both complete with the same version and suite.
bool Agrees(const Prediction& prediction, const ToolHandshake& tool) {
  if (!tool.completed) return prediction.verdict == Prediction::Verdict::kFails;
  return prediction.verdict == Prediction::Verdict::kNegotiates &&
         prediction.version == tool.version &&
         backends::CipherSuiteName(prediction.suite) == tool.suite;
}

// ---------------------------------------------------------------------------------------------
// 1. Enumeration = truth, per listener.

TEST_F(RealMtaTest, EnumerationEqualsIndependentSingleSuiteHandshakes) {
  // Enumerations first, one at a time, so that their wall times are not shared with anything;
  // then the truths, in parallel.
  for (const std::string& name : TruthListeners()) EnumerationOf(name);
  const absl::Time before = absl::Now();
  const absl::Status truths = ComputeTruths(TruthListeners());
  ASSERT_TRUE(truths.ok()) << truths;
  std::cout << "truth for " << TruthListeners().size() << " listeners in "
            << absl::FormatDuration(absl::Now() - before) << "\n";
  for (const std::string& name : TruthListeners()) {
    SCOPED_TRACE(name);
    const Enumerated& enumerated = EnumerationOf(name);
    const ProbeResult& result = enumerated.result;
    ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
    EXPECT_FALSE(result.enumeration().broken_server());
    EXPECT_EQ(static_cast<int64_t>(result.attempts()), enumerated.gate_connections);
    const std::string comparison =
        ExpectMatchesTruth(name, result, Lab().truths.at(name), TruthRequest(name));
    std::cout << "[ measured ] " << name << " (" << At(name).mta << "): " << comparison << "; "
              << Figures(enumerated) << "\n";
  }
}

// ---------------------------------------------------------------------------------------------
// 2. A server that answers ServerHello and then fails every handshake.

TEST_F(RealMtaTest, BrokenOpenSmtpdIsHelloOnlyAndNeverPredictedToNegotiate) {
  const Enumerated& enumerated = EnumerationOf("broken");
  const ProbeResult& result = enumerated.result;
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  int versions_with_suites = 0;
  for (const VersionEnumeration& v : result.enumeration().versions()) {
    if (v.suites_size() == 0) continue;
    ++versions_with_suites;
    const std::string version_name(
        backends::TlsVersionName(backends::VersionFromProto(v.version())));
    EXPECT_EQ(v.confirmation(), VersionEnumeration::HELLO_ONLY)
        << version_name << ": " << v.confirmation_detail();
    // Every suite the ServerHellos named is marked as one that never completes.
    std::set<uint32_t> listed,
        hello_only(v.hello_only_suites().begin(), v.hello_only_suites().end());
    for (const tlsweep::v1::CipherSuite& suite : v.suites()) listed.insert(suite.code_point());
    EXPECT_EQ(hello_only, listed) << version_name;
  }
  EXPECT_GT(versions_with_suites, 0) << "OpenSMTPD's ServerHellos should list suites";
  EXPECT_TRUE(result.enumeration().broken_server());

  // tlsweep's own default probe fails there too.
  const ProbeResult probe =
      ::tlsweep::testing::RunProbe(EndpointAt(At("broken").endpoint),
                                   ::tlsweep::testing::DefaultCandidate("openssl"), Options());
  EXPECT_NE(probe.failure(), tlsweep::v1::PROBE_OK) << "the default probe completed";

  const std::vector<std::string> specs = {
      "name=o-default",
      "name=o-tls12 max=TLSv1.2",
      "name=o-tls13 min=TLSv1.3",
      "name=o-cbc12 ciphers=AES256-SHA:AES128-SHA max=TLSv1.2",
      "name=o-x25519 groups=x25519",
      "name=g-normal priority=NORMAL",
      "name=g-no13 priority=NORMAL:-VERS-TLS1.3",
  };
  for (const std::string& spec : specs) {
    absl::StatusOr<Candidate> candidate = MakeCandidate(spec);
    ASSERT_TRUE(candidate.ok()) << spec << ": " << candidate.status();
    const Prediction prediction =
        backends::PredictNegotiation(result.enumeration(), candidate->built.offer);
    const ProbeResult live = ::tlsweep::testing::RunProbe(EndpointAt(At("broken").endpoint),
                                                          candidate->built, Options());
    EXPECT_NE(prediction.verdict, Prediction::Verdict::kNegotiates)
        << spec << ": " << backends::DescribePrediction(prediction);
    EXPECT_NE(live.failure(), tlsweep::v1::PROBE_OK) << spec << ": the live probe completed";
    // A sure prediction must be the failure the live probe saw, class and all.
    if (backends::IsSure(prediction)) {
      EXPECT_EQ(prediction.verdict, Prediction::Verdict::kFails) << spec;
      EXPECT_EQ(tlsweep::v1::TlsFailureClass_Name(backends::PredictedFailureToProto(prediction)),
                tlsweep::v1::TlsFailureClass_Name(live.tls().failure()))
          << spec << ": " << backends::DescribePrediction(prediction) << "; live "
          << live.failure_detail();
    }
    std::cout << "  broken, " << spec << ": predicted " << backends::DescribePrediction(prediction)
              << (backends::IsSure(prediction) ? " (sure)" : " (uncertain)") << "; live "
              << tlsweep::v1::ProbeFailure_Name(live.failure()) << "\n";
  }
  std::cout << "[ measured ] broken (OpenSMTPD): " << Figures(enumerated) << "\n";
}

// ---------------------------------------------------------------------------------------------
// 3. Exim's rate-limit ACL (451 at connect).

TEST_F(RealMtaTest, RateLimitedEnumerationIsRetriedOrMarkedIncomplete) {
  // Cut short first, while the client's budget is whole: one attempt per connection, so the
  // first 451 ends the enumeration.
  RunOptions once;
  once.max_attempts = 1;
  once.backoff = std::chrono::milliseconds(500);
  const Enumerated cut = Enumerate("exim_ratelimited", once);
  const ProbeResult& short_result = cut.result;
  EXPECT_EQ(short_result.failure(), tlsweep::v1::RATE_LIMITED) << short_result.failure_detail();
  EXPECT_TRUE(absl::StrContains(short_result.enumeration().incomplete_reason(), "451"))
      << short_result.enumeration().incomplete_reason();
  std::vector<TlsVersion> incomplete;
  for (TlsVersion version : kVersions) {
    const VersionEnumeration& v = VersionOf(short_result, version);
    if (v.status() != VersionEnumeration::INCOMPLETE) continue;
    incomplete.push_back(version);
    EXPECT_TRUE(absl::StrContains(v.detail(), "451") ||
                absl::StrContains(short_result.enumeration().incomplete_reason(), "451"))
        << v.detail();
  }
  ASSERT_FALSE(incomplete.empty()) << "no version INCOMPLETE after a 451";
  std::cout << "[ measured ] exim_ratelimited, max_attempts 1: "
            << tlsweep::v1::ProbeFailure_Name(short_result.failure()) << ", " << incomplete.size()
            << " version(s) INCOMPLETE from " << backends::TlsVersionName(incomplete.front())
            << " (" << short_result.enumeration().incomplete_reason() << "); " << Figures(cut)
            << "\n";

  // A suite the server accepts (the truth of exim_priority, the same TLS policy) that the
  // cut-short enumeration did not reach: the what-if must not be sure, least of all of a failure.
  const absl::Status truths = ComputeTruths({"exim_priority"});
  ASSERT_TRUE(truths.ok()) << truths;
  const TlsTruth& truth = Lab().truths.at("exim_priority");
  const VersionEnumeration& tls12 = VersionOf(short_result, TlsVersion::kTls1_2);
  std::set<std::string> reached;
  for (const tlsweep::v1::CipherSuite& suite : tls12.suites()) {
    reached.insert(backends::CipherSuiteName(static_cast<uint16_t>(suite.code_point())));
  }
  std::string unreached;
  for (const std::string& suite : truth.versions.at(TlsVersion::kTls1_2).suites) {
    const backends::CipherSuiteInfo* info = backends::FindCipherSuiteByIanaName(suite);
    if (!reached.contains(suite) && info != nullptr && !info->openssl_name.empty()) {
      unreached = std::string(info->openssl_name);
      break;
    }
  }
  ASSERT_FALSE(unreached.empty()) << "the cut-short enumeration reached every suite";
  absl::StatusOr<Candidate> candidate =
      MakeCandidate(absl::StrCat("name=unreached ciphers=", unreached, " max=TLSv1.2"));
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  const Prediction prediction =
      backends::PredictNegotiation(short_result.enumeration(), candidate->built.offer);
  EXPECT_FALSE(backends::IsSure(prediction)) << backends::DescribePrediction(prediction);
  EXPECT_FALSE(backends::IsSure(prediction) && prediction.verdict == Prediction::Verdict::kFails)
      << "a sure failure for a suite the server accepts: "
      << backends::DescribePrediction(prediction);
  std::cout << "  unreached " << unreached << ": " << backends::DescribePrediction(prediction)
            << "\n";

  // Let the leaky budget refill, then with back-off and retries the enumeration completes.
  absl::SleepFor(absl::Seconds(3));
  RunOptions retried;
  retried.backoff = std::chrono::milliseconds(500);
  const Enumerated full = Enumerate("exim_ratelimited", retried);
  const ProbeResult& result = full.result;
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_GT(result.enumeration().retries(), 0u) << "the rate limit was never met";
  EXPECT_TRUE(result.enumeration().incomplete_reason().empty())
      << result.enumeration().incomplete_reason();
  for (TlsVersion version : kVersions) {
    EXPECT_NE(VersionOf(result, version).status(), VersionEnumeration::INCOMPLETE)
        << backends::TlsVersionName(version) << ": " << VersionOf(result, version).detail();
  }
  const std::string comparison =
      ExpectMatchesTruth("exim_ratelimited", result, truth, TruthRequest("exim_priority"));
  std::cout << "[ measured ] exim_ratelimited, back-off 500 ms: " << comparison << "; "
            << Figures(full) << "\n";
}

// ---------------------------------------------------------------------------------------------
// 4. Exim's connection limit (smtp_accept_max = 1: 421 while another connection is open).

TEST_F(RealMtaTest, ConnectionLimitIsBackedOffAndRetried) {
  // Take the only slot and keep it, idle, for two seconds after the enumeration starts.
  absl::StatusOr<::tlsweep::testing::RawClient> connected =
      ::tlsweep::testing::RawClient::Connect(At("exim_limit1").endpoint);
  ASSERT_TRUE(connected.ok()) << connected.status();
  std::optional<::tlsweep::testing::RawClient> held(*std::move(connected));
  absl::StatusOr<std::string> greeting = held->ReadReply(absl::Seconds(10));
  ASSERT_TRUE(greeting.ok()) << greeting.status();
  ASSERT_TRUE(absl::StartsWith(*greeting, "220 ")) << *greeting;

  RunOptions options;
  options.backoff = std::chrono::milliseconds(500);
  options.beside = [&](asio::io_context& io) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(2));
          co_await timer.async_wait(asio::use_awaitable);
          held.reset();
        },
        asio::detached);
  };
  const Enumerated enumerated = Enumerate("exim_limit1", options);
  const ProbeResult& result = enumerated.result;
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_FALSE(held.has_value()) << "the held connection was never released";
  // The first connection met the limit (its banner is the result's), and was retried.
  EXPECT_EQ(result.banner().code(), 421u) << result.banner().text();
  EXPECT_GT(result.enumeration().retries(), 0u);
  EXPECT_TRUE(result.enumeration().incomplete_reason().empty())
      << result.enumeration().incomplete_reason();
  for (TlsVersion version : kVersions) {
    EXPECT_NE(VersionOf(result, version).status(), VersionEnumeration::INCOMPLETE)
        << backends::TlsVersionName(version) << ": " << VersionOf(result, version).detail();
  }
  // Same TLS policy as exim_priority: the same suites at every version.
  for (TlsVersion version : kVersions) {
    auto codes = [&](const ProbeResult& r) {
      std::set<uint32_t> set;
      for (const tlsweep::v1::CipherSuite& suite : VersionOf(r, version).suites()) {
        set.insert(suite.code_point());
      }
      return set;
    };
    EXPECT_EQ(codes(result), codes(EnumerationOf("exim_priority").result))
        << backends::TlsVersionName(version);
  }
  std::cout << "[ measured ] exim_limit1 (one connection held for 2 s): " << Figures(enumerated)
            << "\n";
}

// ---------------------------------------------------------------------------------------------
// 5. A delayed (1 s), three-line greeting.

TEST_F(RealMtaTest, DelayedMultiLineGreeting) {
  const Enumerated& enumerated = EnumerationOf("exim_slow");
  const ProbeResult& result = enumerated.result;
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_EQ(result.banner().code(), 220u);
  EXPECT_TRUE(absl::StrContains(result.banner().text(), "after a delay")) << result.banner().text();
  // kSlowPriority allows exactly one suite and one curve, at TLS 1.2 only.
  for (TlsVersion version : kVersions) {
    const VersionEnumeration& v = VersionOf(result, version);
    if (version != TlsVersion::kTls1_2) {
      EXPECT_EQ(v.status(), VersionEnumeration::NOT_SUPPORTED) << backends::TlsVersionName(version);
      continue;
    }
    EXPECT_EQ(v.status(), VersionEnumeration::SUPPORTED) << v.detail();
    EXPECT_EQ(v.confirmation(), VersionEnumeration::CONFIRMED) << v.confirmation_detail();
    ASSERT_EQ(v.suites_size(), 1) << v.detail();
    EXPECT_EQ(v.suites(0).iana_name(), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    EXPECT_EQ(std::vector<std::string>(v.groups().begin(), v.groups().end()),
              std::vector<std::string>{"secp256r1"});
  }
  const int64_t connections = result.attempts();
  std::cout << "[ measured ] exim_slow (1 s greeting delay, 3-line banner): " << Figures(enumerated)
            << ", "
            << (connections > 0 ? absl::ToInt64Milliseconds(enumerated.wall) / connections : 0)
            << " ms per connection\n";
}

// Behind a slow greeting an enumeration costs handshakes x greeting, one connection at a time.
// With --per-ip 3 the operator allows three connections to the address at once, and the
// enumeration uses them: after the first version has shown the server takes our connections,
// the other versions run side by side. The answer must be the same, suite for suite; the
// gate, not the enumeration, keeps the count of open connections (politeness_gate_test).
TEST_F(RealMtaTest, SlowGreetingEnumeratesVersionsSideBySideWithinThePerIpLimit) {
  const Enumerated& one_at_a_time = EnumerationOf("exim_slow");
  RunOptions options;
  options.per_ip = 3;
  const Enumerated side_by_side = Enumerate("exim_slow", options);
  ASSERT_EQ(side_by_side.result.failure(), tlsweep::v1::PROBE_OK)
      << side_by_side.result.failure_detail();
  ASSERT_EQ(side_by_side.result.enumeration().versions_size(),
            one_at_a_time.result.enumeration().versions_size());
  for (TlsVersion version : kVersions) {
    const VersionEnumeration& a = VersionOf(one_at_a_time.result, version);
    const VersionEnumeration& b = VersionOf(side_by_side.result, version);
    EXPECT_EQ(a.status(), b.status()) << backends::TlsVersionName(version);
    EXPECT_EQ(a.suites_size(), b.suites_size()) << backends::TlsVersionName(version);
    for (int i = 0; i < a.suites_size() && i < b.suites_size(); ++i) {
      EXPECT_EQ(a.suites(i).code_point(), b.suites(i).code_point());
    }
    EXPECT_EQ(std::vector<std::string>(a.groups().begin(), a.groups().end()),
              std::vector<std::string>(b.groups().begin(), b.groups().end()));
  }
  std::cout << "[ measured ] exim_slow, --per-ip 1: " << Figures(one_at_a_time)
            << "\n[ measured ] exim_slow, --per-ip 3: " << Figures(side_by_side) << "\n";
}

// ---------------------------------------------------------------------------------------------
// 6. STARTTLS answered 454 (Exim cannot load its certificate).

TEST_F(RealMtaTest, StarttlsRefusedWith454IsNotATemporaryRefusal) {
  const Enumerated& enumerated = EnumerationOf("exim_454");
  const ProbeResult& result = enumerated.result;
  EXPECT_EQ(result.failure(), tlsweep::v1::STARTTLS_REFUSED)
      << tlsweep::v1::ProbeFailure_Name(result.failure()) << ": " << result.failure_detail();
  EXPECT_TRUE(absl::StrContains(result.failure_detail(), "454")) << result.failure_detail();
  EXPECT_FALSE(absl::StrContains(result.failure_detail(), "stopped accepting"))
      << result.failure_detail();
  EXPECT_FALSE(absl::StrContains(result.enumeration().incomplete_reason(), "stopped accepting"))
      << result.enumeration().incomplete_reason();
  for (const VersionEnumeration& v : result.enumeration().versions()) {
    EXPECT_FALSE(absl::StrContains(v.detail(), "stopped accepting")) << v.detail();
    EXPECT_NE(v.status(), VersionEnumeration::SUPPORTED);
  }
  // An answer about the server, not a "try later": one connection, no retry.
  EXPECT_EQ(result.attempts(), 1u);
  EXPECT_EQ(result.enumeration().retries(), 0u);
  std::cout << "[ measured ] exim_454: " << tlsweep::v1::ProbeFailure_Name(result.failure())
            << " \"" << result.failure_detail() << "\"; " << Figures(enumerated) << "\n";
}

// ---------------------------------------------------------------------------------------------
// 7. What-if predictions against independent handshakes.

const std::vector<std::string>& WhatIfCandidates() {
  static const auto* specs = new std::vector<std::string>{
      // OpenSSL client configurations, as s_client takes them.
      "name=o-default",
      "name=o-x25519-p256 groups=x25519:secp256r1",
      "name=o-p384 groups=secp384r1",
      "name=o-p256-12 groups=secp256r1 max=TLSv1.2",
      "name=o-ecdhe-gcm ciphers=ECDHE+AESGCM max=TLSv1.2",
      "name=o-ecdhe-x25519 ciphers=ECDHE groups=x25519 max=TLSv1.2",
      "name=o-cbc ciphers=AES256-SHA:AES128-SHA max=TLSv1.2",
      "name=o-tls13 min=TLSv1.3",
      "name=o-chacha13 min=TLSv1.3 ciphersuites=TLS_CHACHA20_POLY1305_SHA256",
      "name=o-legacy11 max=TLSv1.1 legacy=yes",
      // GnuTLS priority strings, as gnutls-cli takes them.
      "name=g-normal priority=NORMAL",
      "name=g-no13 priority=NORMAL:-VERS-TLS1.3",
      "name=g-secure256 priority=SECURE256",
      "name=g-p256 priority=NORMAL:-GROUP-ALL:+GROUP-SECP256R1",
      "name=g-p256-12 priority=NORMAL:-VERS-ALL:+VERS-TLS1.2:-GROUP-ALL:+GROUP-SECP256R1",
      "name=g-only13 priority=NORMAL:-VERS-ALL:+VERS-TLS1.3",
      "name=g-cbc priority=NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-KX-ALL:+RSA",
  };
  return *specs;
}

// Listeners whose independent handshakes answer for their TLS policy alone. Not the broken one
// (test 2); not exim_ratelimited and exim_limit1, whose handshakes a 451 or a 421 would decide
// (a connection right after another can meet the limit before Exim has reaped the previous one)
// and whose policy is exim_priority's; not exim_slow, a second per handshake for one suite; not
// exim_454, which never reaches TLS (every prediction is uncertain, and gnutls-cli waits for a
// 220 to STARTTLS until its timeout).
const std::vector<std::string>& WhatIfListeners() {
  static const auto* names = new std::vector<std::string>{
      "exim_defaults", "exim_p384", "exim_priority", "haraka_defaults", "haraka_p256"};
  return *names;
}

struct Tally {
  int sure = 0;
  int sure_agree = 0;
  int uncertain = 0;
  int uncertain_completed = 0;  // Uncertain predictions whose live handshake completed.
  int group_checked = 0;
  int group_agree = 0;
};

TEST_F(RealMtaTest, WhatIfAgreesWithIndependentHandshakes) {
  std::vector<Candidate> candidates;
  for (const std::string& spec : WhatIfCandidates()) {
    absl::StatusOr<Candidate> candidate = MakeCandidate(spec);
    ASSERT_TRUE(candidate.ok()) << spec << ": " << candidate.status();
    candidates.push_back(*std::move(candidate));
  }
  std::map<std::string, Tally> per_mta;
  Tally total;
  for (const std::string& name : WhatIfListeners()) {
    const ProbeResult& enumerated = EnumerationOf(name).result;
    for (const Candidate& candidate : candidates) {
      const Prediction prediction =
          backends::PredictNegotiation(enumerated.enumeration(), candidate.built.offer);
      absl::StatusOr<ToolHandshake> tool = IndependentHandshake(name, candidate);
      ASSERT_TRUE(tool.ok()) << name << " " << candidate.spec << ": " << tool.status();
      const bool sure = backends::IsSure(prediction);
      const bool agrees = Agrees(prediction, *tool);
      Tally& mta = per_mta[At(name).mta];
      for (Tally* tally : {&mta, &total}) {
        (sure ? tally->sure : tally->uncertain) += 1;
        if (sure && agrees) ++tally->sure_agree;
        if (!sure && tool->completed) ++tally->uncertain_completed;
        // The group, where the prediction names one for sure and the tool says which it got.
        if (agrees && tool->completed && prediction.group != 0 &&
            prediction.possible_groups.empty() && !tool->group.empty()) {
          ++tally->group_checked;
          if (backends::GroupName(prediction.group) == tool->group) ++tally->group_agree;
        }
      }
      const std::string line = absl::StrCat(
          name, " ", candidate.spec, ": predicted ", backends::DescribePrediction(prediction),
          sure ? " (sure)" : " (uncertain)", "; independent handshake ", DescribeTool(*tool));
      if (sure) {
        EXPECT_TRUE(agrees) << "a sure prediction disagrees with the live handshake\n"
                            << line << "\n  " << tool->command << "\n"
                            << tool->output;
      }
      std::cout << "  " << line << "\n";
    }
  }
  auto print = [](const std::string& label, const Tally& tally) {
    std::cout << "[ measured ] what-if vs independent handshakes" << label << ": "
              << tally.sure_agree << "/" << tally.sure << " sure predictions agree, "
              << tally.uncertain << " uncertain (" << tally.uncertain_completed
              << " of them completed live); groups " << tally.group_agree << "/"
              << tally.group_checked << " where a sure prediction named one\n";
  };
  print("", total);
  for (const auto& [mta, tally] : per_mta) print(absl::StrCat(" (", mta, ")"), tally);
  EXPECT_GT(total.sure, 0);
}

// RC4 and 3DES, which Debian's OpenSSL no longer has, from a real GnuTLS server (Exim with
// +ARCFOUR-128:+3DES-CBC): the enumeration finds them through GnuTLS and confirms them with
// complete handshakes; the raw backend alone finds the same suites (as ServerHello evidence); and
// a GnuTLS candidate limited to each one completes live with it.
TEST_F(RealMtaTest, Rc4And3desOfARealGnutlsServerAreFoundConfirmedAndNegotiated) {
  const Enumerated libraries = Enumerate("exim_rc4");
  ASSERT_EQ(libraries.result.failure(), tlsweep::v1::PROBE_OK) << libraries.result.failure_detail();
  absl::StatusOr<backends::Backend*> raw_backend = Lab().registry->Get("rawhello");
  ASSERT_TRUE(raw_backend.ok()) << raw_backend.status();
  std::vector<backends::Backend*> raw = {*raw_backend};
  absl::StatusOr<OfferPlan> raw_plan = BuildOfferPlan(raw);
  ASSERT_TRUE(raw_plan.ok()) << raw_plan.status();
  RunOptions raw_options;
  raw_options.plan = &*raw_plan;
  const Enumerated raw_only = Enumerate("exim_rc4", raw_options);
  ASSERT_EQ(raw_only.result.failure(), tlsweep::v1::PROBE_OK) << raw_only.result.failure_detail();
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_2}) {
    const VersionEnumeration& found = VersionOf(libraries.result, version);
    std::map<uint16_t, std::string> by;
    for (int i = 0; i < found.suites_size(); ++i) {
      by[found.suites(i).code_point()] = i < found.found_by_size() ? found.found_by(i) : "";
    }
    for (uint16_t code : {uint16_t{0x0005}, uint16_t{0x000A}}) {  // RC4-SHA, DES-CBC3-SHA.
      ASSERT_TRUE(by.contains(code))
          << backends::TlsVersionName(version) << " " << backends::CipherSuiteName(code);
      EXPECT_EQ(by[code], "gnutls");
    }
    EXPECT_EQ(found.confirmation(), VersionEnumeration::CONFIRMED) << found.confirmation_detail();
    std::set<uint32_t> library_set, raw_set;
    for (const auto& suite : found.suites()) library_set.insert(suite.code_point());
    for (const auto& suite : VersionOf(raw_only.result, version).suites()) {
      raw_set.insert(suite.code_point());
    }
    EXPECT_EQ(raw_set, library_set) << backends::TlsVersionName(version);
  }
  for (const char* spec :
       {"name=rc4 priority=NONE:+VERS-TLS1.2:+ARCFOUR-128:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL:"
        "+CTYPE-X509",
        "name=3des priority=NONE:+VERS-TLS1.2:+3DES-CBC:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL:"
        "+CTYPE-X509"}) {
    absl::StatusOr<Candidate> candidate = MakeCandidate(spec);
    ASSERT_TRUE(candidate.ok()) << spec << ": " << candidate.status();
    const ProbeResult live = ::tlsweep::testing::RunProbe(EndpointAt(At("exim_rc4").endpoint),
                                                          candidate->built, Options());
    ASSERT_EQ(live.failure(), tlsweep::v1::PROBE_OK) << spec << ": " << live.failure_detail();
    EXPECT_EQ(live.tls().suite().iana_name(), absl::StrContains(spec, "ARCFOUR")
                                                  ? "TLS_RSA_WITH_RC4_128_SHA"
                                                  : "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
  }
}

}  // namespace
}  // namespace tlsweep::agent
