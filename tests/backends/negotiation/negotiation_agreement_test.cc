// The negotiation model against real handshakes, in memory. For each test server (a real
// OpenSSL or GnuTLS server engine), the test first derives the server's true Enumeration by
// brute force — one single-suite OpenSSL client per (version, suite) the table knows, ordered
// offers for the preference, single-group clients for the groups — then, for each candidate
// client configuration, compares PredictNegotiation(enumeration, Expand(candidate)) with the
// outcome of the real handshake between that candidate and that server.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/memory_pump.h"
#include "backends/negotiation/negotiation_model.h"
#include "backends/outcome_proto.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;
using ::tlsweep::v1::Enumeration;
using ::tlsweep::v1::VersionEnumeration;

constexpr TlsVersion kProbeVersions[] = {TlsVersion::kTls1_0, TlsVersion::kTls1_1,
                                         TlsVersion::kTls1_2, TlsVersion::kTls1_3};

struct TestServer {
  std::string name;
  std::string backend;
  ServerConfig config;
};

struct Candidate {
  std::string name;
  std::string backend;
  ClientConfig config;
};

// The client outcome of one in-memory handshake (kInternalError when an engine can't be built).
HandshakeOutcome Handshake(const std::string& client_backend, const ClientConfig& client_config,
                           const TestServer& server) {
  HandshakeOutcome failed;
  failed.failure = FailureClass::kInternalError;
  auto client = GetBackend(client_backend).NewClient(client_config);
  if (!client.ok()) {
    failed.library_error = client.status().ToString();
    return failed;
  }
  auto engine = GetBackend(server.backend).NewServer(server.config);
  if (!engine.ok()) {
    failed.library_error = engine.status().ToString();
    return failed;
  }
  PumpHandshake(**client, **engine);
  HandshakeOutcome outcome = (*client)->Outcome();
  if (!outcome.success && (*engine)->Outcome().failure != FailureClass::kNone) {
    // What the server said about it helps to read a disagreement.
    absl::StrAppend(&outcome.library_error, "; server: ", (*engine)->Outcome().library_error);
  }
  return outcome;
}

// A probing client: OpenSSL at security level 0, one version, the given suites in order.
ClientConfig ProbeClient(TlsVersion version, const std::vector<uint16_t>& suites,
                         const std::vector<uint16_t>& groups) {
  ClientConfig config;
  config.legacy = true;
  config.min_version = version;
  config.max_version = version;
  std::vector<std::string> names;
  for (uint16_t code : suites) {
    const CipherSuiteInfo* info = FindCipherSuite(code);
    names.push_back(
        std::string(version == TlsVersion::kTls1_3 ? info->iana_name : info->openssl_name));
  }
  if (version == TlsVersion::kTls1_3) {
    config.ciphers.openssl_ciphersuites = absl::StrJoin(names, ":");
  } else {
    config.ciphers.openssl_ciphers = absl::StrJoin(names, ":");
  }
  config.groups = groups;
  return config;
}

std::vector<uint16_t> AllGroupIds() {
  std::vector<uint16_t> ids;
  for (const GroupInfo& group : AllGroups()) ids.push_back(group.id);
  return ids;
}

bool IsEcGroup(uint16_t id) { return id < 256; }

// Whether the probing OpenSSL client really puts (version, suite) in its ClientHello; computed
// once per pair for the whole test program.
bool ProbeCanOffer(TlsVersion version, uint16_t code) {
  static auto* cache = new std::map<std::pair<TlsVersion, uint16_t>, bool>();
  auto [it, inserted] = cache->try_emplace({version, code}, false);
  if (!inserted) return it->second;
  const CipherSuiteInfo* info = FindCipherSuite(code);
  if (info == nullptr || info->openssl_name.empty()) return false;
  absl::StatusOr<Offer> offer =
      GetBackend("openssl").Expand(ProbeClient(version, {code}, AllGroupIds()));
  if (!offer.ok()) return false;
  for (const OfferedSuite& offered : offer->suites) {
    if (offered.version == version && offered.code_point == code) it->second = true;
  }
  return it->second;
}

bool DefinedFor(const CipherSuiteInfo& suite, TlsVersion version) {
  if (IsTls13Suite(suite.code_point)) return version == TlsVersion::kTls1_3;
  return version != TlsVersion::kTls1_3 && suite.min_version <= version &&
         suite.code_point != 0x0000 && suite.code_point != 0x00FF;  // NULL_NULL, SCSV.
}

// The suite the server picks from `offer` (in client order) at `version`, if any.
std::optional<uint16_t> Pick(const TestServer& server, TlsVersion version,
                             const std::vector<uint16_t>& offer,
                             const std::vector<uint16_t>& groups) {
  const HandshakeOutcome outcome =
      Handshake("openssl", ProbeClient(version, offer, groups), server);
  if (!outcome.success) return std::nullopt;
  return outcome.suite_code;
}

// `*group_order_known` is false when the group order could not be observed (TLS 1.3 with every
// group accepted: the client's key share always wins).
VersionEnumeration EnumerateVersion(const TestServer& server, TlsVersion version,
                                    uint32_t* handshakes, bool* group_order_known) {
  *group_order_known = true;
  VersionEnumeration entry;
  entry.set_version(VersionToProto(version));
  std::vector<uint16_t> accepted;
  for (const CipherSuiteInfo& suite : AllCipherSuites()) {
    if (!DefinedFor(suite, version)) continue;
    if (!ProbeCanOffer(version, suite.code_point)) {
      entry.add_untested_suites(suite.code_point);
      continue;
    }
    ++*handshakes;
    if (Pick(server, version, {suite.code_point}, AllGroupIds()) == suite.code_point) {
      accepted.push_back(suite.code_point);
    }
  }
  if (accepted.empty()) {
    entry.set_status(VersionEnumeration::NOT_SUPPORTED);
    return entry;
  }
  entry.set_status(VersionEnumeration::SUPPORTED);
  entry.set_confirmation(VersionEnumeration::CONFIRMED);  // Pick() makes complete handshakes.
  // Preference: the same pick from [a, b] and [b, a] means the server decides.
  bool server_preference = false;
  if (accepted.size() >= 2) {
    entry.set_preference_tested(true);
    const auto first = Pick(server, version, {accepted[0], accepted[1]}, AllGroupIds());
    const auto second = Pick(server, version, {accepted[1], accepted[0]}, AllGroupIds());
    *handshakes += 2;
    server_preference = first.has_value() && first == second;
  }
  entry.set_server_preference(server_preference);
  // Server order by elimination (the order found, for a client-preference server).
  std::vector<uint16_t> order;
  if (server_preference) {
    std::vector<uint16_t> remaining = accepted;
    while (!remaining.empty()) {
      ++*handshakes;
      const auto picked = Pick(server, version, remaining, AllGroupIds());
      if (!picked || std::find(remaining.begin(), remaining.end(), *picked) == remaining.end()) {
        break;
      }
      order.push_back(*picked);
      std::erase(remaining, *picked);
    }
    order.insert(order.end(), remaining.begin(), remaining.end());
  } else {
    order = accepted;
  }
  for (uint16_t code : order) {
    tlsweep::v1::CipherSuite* suite = entry.add_suites();
    suite->set_code_point(code);
    suite->set_iana_name(CipherSuiteName(code));
  }

  // Groups: one single-group client per group, with every accepted suite that uses a group.
  std::vector<uint16_t> group_suites;
  for (uint16_t code : order) {
    const CipherSuiteInfo* info = FindCipherSuite(code);
    if (version == TlsVersion::kTls1_3 || info->key_exchange.substr(0, 4) == "ECDH") {
      group_suites.push_back(code);
    }
  }
  if (group_suites.empty()) {
    entry.set_groups_tested(true);  // Nothing here uses a named group.
    return entry;
  }
  std::vector<uint16_t> groups;
  std::vector<uint16_t> refused;
  for (uint16_t group : AllGroupIds()) {
    if (version != TlsVersion::kTls1_3 && !IsEcGroup(group)) continue;
    ++*handshakes;
    const HandshakeOutcome outcome =
        Handshake("openssl", ProbeClient(version, group_suites, {group}), server);
    if (outcome.success && outcome.group == group) {
      groups.push_back(group);
    } else {
      refused.push_back(group);
    }
  }
  // Group order under server preference, by elimination. In TLS 1.3 the client's first group
  // carries the key share and an acceptable share is taken, so a refused group leads the offer
  // to make the server choose.
  std::vector<uint16_t> group_order;
  if (server_preference && groups.size() >= 2 &&
      (version != TlsVersion::kTls1_3 || !refused.empty())) {
    std::vector<uint16_t> remaining = groups;
    while (!remaining.empty()) {
      std::vector<uint16_t> offer = remaining;
      if (version == TlsVersion::kTls1_3) offer.insert(offer.begin(), refused.front());
      ++*handshakes;
      const HandshakeOutcome outcome =
          Handshake("openssl", ProbeClient(version, group_suites, offer), server);
      if (!outcome.success ||
          std::find(remaining.begin(), remaining.end(), outcome.group) == remaining.end()) {
        break;
      }
      group_order.push_back(outcome.group);
      std::erase(remaining, outcome.group);
    }
    group_order.insert(group_order.end(), remaining.begin(), remaining.end());
  } else {
    group_order = groups;
    *group_order_known = !(server_preference && groups.size() >= 2);
  }
  for (uint16_t group : group_order) entry.add_groups(GroupName(group));
  entry.set_groups_tested(true);
  return entry;
}

Enumeration EnumerateServer(const TestServer& server) {
  Enumeration enumeration;
  uint32_t handshakes = 0;
  const VersionEnumeration* tls12 = nullptr;
  for (TlsVersion version : kProbeVersions) {
    bool group_order_known = true;
    VersionEnumeration* entry = enumeration.add_versions();
    *entry = EnumerateVersion(server, version, &handshakes, &group_order_known);
    if (version == TlsVersion::kTls1_2) tls12 = entry;
    // TLS 1.3 order unobservable: borrow the order found at TLS 1.2 (groups it lacks last).
    if (!group_order_known && tls12 != nullptr && tls12->server_preference()) {
      std::vector<std::string> ordered;
      for (const std::string& name : tls12->groups()) {
        if (std::find(entry->groups().begin(), entry->groups().end(), name) !=
            entry->groups().end()) {
          ordered.push_back(name);
        }
      }
      for (const std::string& name : entry->groups()) {
        if (std::find(ordered.begin(), ordered.end(), name) == ordered.end()) {
          ordered.push_back(name);
        }
      }
      entry->clear_groups();
      for (const std::string& name : ordered) entry->add_groups(name);
    }
  }
  VersionEnumeration* ssl3 = enumeration.add_versions();
  ssl3->set_version(tlsweep::v1::SSLV3);
  ssl3->set_status(VersionEnumeration::NOT_TESTED);
  enumeration.set_handshakes(handshakes);
  enumeration.add_backends("openssl");
  return enumeration;
}

std::string Summary(const Enumeration& enumeration) {
  std::string text;
  for (const VersionEnumeration& entry : enumeration.versions()) {
    if (entry.status() != VersionEnumeration::SUPPORTED) continue;
    std::vector<std::string> suites;
    for (const auto& suite : entry.suites()) suites.push_back(suite.iana_name());
    absl::StrAppend(&text, "  ", tlsweep::v1::TlsVersion_Name(entry.version()),
                    entry.server_preference() ? " server-order: " : " client-order: ",
                    absl::StrJoin(suites, ", "), " | groups: ", absl::StrJoin(entry.groups(), ","),
                    " | untested: ", entry.untested_suites_size(), "\n");
  }
  return text;
}

std::vector<TestServer> Servers() {
  const auto& pki = SharedPki();
  std::vector<TestServer> servers;
  {
    CipherSpec spec;
    spec.openssl_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
    TestServer server{"modern_aead_server_pref", "openssl",
                      MakeServerConfig("openssl", pki.rsa, spec)};
    server.config.min_version = TlsVersion::kTls1_2;
    server.config.prefer_server_ciphers = true;
    servers.push_back(server);
  }
  {
    CipherSpec spec;
    spec.openssl_ciphers = "AES256-SHA";
    TestServer server{"tls12_single_cbc", "openssl", MakeServerConfig("openssl", pki.rsa, spec)};
    server.config.min_version = TlsVersion::kTls1_2;
    server.config.max_version = TlsVersion::kTls1_2;
    servers.push_back(server);
  }
  {
    TestServer server{"openssl_client_preference_tls12", "openssl",
                      MakeServerConfig("openssl", pki.rsa)};
    server.config.max_version = TlsVersion::kTls1_2;
    server.config.prefer_server_ciphers = false;
    servers.push_back(server);
  }
  {
    CipherSpec spec;
    spec.gnutls_priority = "NORMAL";
    TestServer server{"gnutls_client_preference", "gnutls",
                      MakeServerConfig("gnutls", pki.rsa, spec)};
    server.config.prefer_server_ciphers = false;
    servers.push_back(server);
  }
  {
    CipherSpec spec;
    spec.gnutls_priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
    TestServer server{"gnutls_tls13_only_p384", "gnutls",
                      MakeServerConfig("gnutls", pki.rsa, spec)};
    server.config.groups = {24};  // secp384r1.
    servers.push_back(server);
  }
  {
    CipherSpec spec;
    spec.openssl_ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    TestServer server{"openssl_tls13_only_p521_ffdhe", "openssl",
                      MakeServerConfig("openssl", pki.rsa, spec)};
    server.config.min_version = TlsVersion::kTls1_3;
    server.config.groups = {25, 256};  // secp521r1, ffdhe2048.
    servers.push_back(server);
  }
  // Group preference: secp384r1 before x25519, against clients that lead with x25519.
  for (const std::string backend : {"openssl", "gnutls"}) {
    TestServer server{backend + "_server_pref_groups_p384_x25519", backend,
                      MakeServerConfig(backend, pki.rsa)};
    if (backend == "gnutls") server.config.ciphers.gnutls_priority = "NORMAL";
    server.config.groups = {24, 29};
    servers.push_back(server);
  }
  {
    CipherSpec spec;
    spec.gnutls_priority = "NORMAL:-VERS-TLS1.3:+DHE-RSA";
    TestServer server{"gnutls_tls12_server_pref_p521", "gnutls",
                      MakeServerConfig("gnutls", pki.rsa, spec)};
    server.config.groups = {25};  // secp521r1: ECDHE only with clients that have it.
    servers.push_back(server);
  }
  // TLS 1.0 only, at security level 0, ECDHE first: OpenSSL clients at level >= 1 offer the
  // ECDHE suite but abort on its SHA-1 signed key exchange (rule S5).
  for (const bool server_order : {true, false}) {
    CipherSpec spec;
    spec.openssl_ciphers = "ECDHE-RSA-AES128-SHA:AES128-SHA";
    TestServer server{server_order ? "openssl_tls10_ecdhe_first_server_pref"
                                   : "openssl_tls10_ecdhe_first_client_pref",
                      "openssl", MakeServerConfig("openssl", pki.rsa, spec)};
    server.config.legacy = true;
    server.config.min_version = TlsVersion::kTls1_0;
    server.config.max_version = TlsVersion::kTls1_0;
    server.config.prefer_server_ciphers = server_order;
    servers.push_back(server);
  }
  return servers;
}

Candidate OpensslCandidate(std::string name, std::string ciphers, std::string ciphersuites = "",
                           std::optional<TlsVersion> min = std::nullopt,
                           std::optional<TlsVersion> max = std::nullopt,
                           std::vector<uint16_t> groups = {}, bool legacy = false) {
  Candidate candidate{std::move(name), "openssl", {}};
  candidate.config.ciphers.openssl_ciphers = std::move(ciphers);
  candidate.config.ciphers.openssl_ciphersuites = std::move(ciphersuites);
  candidate.config.min_version = min;
  candidate.config.max_version = max;
  candidate.config.groups = std::move(groups);
  candidate.config.legacy = legacy;
  return candidate;
}

Candidate GnutlsCandidate(std::string name, std::string priority, std::vector<uint16_t> groups = {},
                          bool legacy = false) {
  Candidate candidate{std::move(name), "gnutls", {}};
  candidate.config.ciphers.gnutls_priority = std::move(priority);
  candidate.config.groups = std::move(groups);
  candidate.config.legacy = legacy;
  return candidate;
}

std::vector<Candidate> Candidates() {
  constexpr auto k10 = TlsVersion::kTls1_0;
  constexpr auto k11 = TlsVersion::kTls1_1;
  constexpr auto k12 = TlsVersion::kTls1_2;
  constexpr auto k13 = TlsVersion::kTls1_3;
  return {
      OpensslCandidate("openssl_default", ""),
      OpensslCandidate("openssl_aes128_sha_max12", "AES128-SHA", "", std::nullopt, k12),
      OpensslCandidate("openssl_aes256_sha_max12", "AES256-SHA:AES128-SHA", "", std::nullopt, k12),
      OpensslCandidate("openssl_min13", "", "", k13),
      OpensslCandidate("openssl_ecdhe_aesgcm_max12", "ECDHE+AESGCM", "", std::nullopt, k12),
      OpensslCandidate("openssl_high_max12", "HIGH:!aNULL", "", std::nullopt, k12),
      OpensslCandidate("openssl_chacha13_only", "", "TLS_CHACHA20_POLY1305_SHA256", k13),
      OpensslCandidate("openssl_aes128gcm13_p256", "", "TLS_AES_128_GCM_SHA256", std::nullopt,
                       std::nullopt, {23}),
      OpensslCandidate("openssl_x25519_only_max12", "ECDHE-RSA-AES128-GCM-SHA256", "", std::nullopt,
                       k12, {29}),
      OpensslCandidate("openssl_p521_first", "", "", std::nullopt, std::nullopt, {25, 29, 24}),
      OpensslCandidate("openssl_dhe_after_ecdhe_x448",
                       "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256", "", std::nullopt,
                       k12, {30}),
      OpensslCandidate("openssl_legacy_tls10_11", "ALL", "", k10, k11, {}, true),
      OpensslCandidate("openssl_default_from_tls10", "DEFAULT", "", k10),
      OpensslCandidate("openssl_rsa_first_tls10", "AES128-SHA:ECDHE-RSA-AES128-SHA", "", k10, k11),
      OpensslCandidate("openssl_legacy_all", "ALL:COMPLEMENTOFALL", "", std::nullopt, std::nullopt,
                       {}, true),
      OpensslCandidate("openssl_ffdhe_only_13", "", "", k13, std::nullopt, {256, 257}),
      GnutlsCandidate("gnutls_normal", "NORMAL"),
      GnutlsCandidate("gnutls_no_tls13", "NORMAL:-VERS-TLS1.3"),
      GnutlsCandidate("gnutls_tls13_only", "NORMAL:-VERS-ALL:+VERS-TLS1.3"),
      GnutlsCandidate("gnutls_secure256", "SECURE256"),
      GnutlsCandidate("gnutls_rsa_aes128_cbc",
                      "NONE:+VERS-TLS1.2:+AES-128-CBC:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"),
      GnutlsCandidate("gnutls_p521_only", "NORMAL:-GROUP-ALL:+GROUP-SECP521R1"),
      GnutlsCandidate("gnutls_chacha_only", "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305"),
      GnutlsCandidate("gnutls_pfs_no13", "PFS:-VERS-TLS1.3"),
      GnutlsCandidate("gnutls_x25519_via_groups", "NORMAL", {29}),
      GnutlsCandidate("gnutls_3des_first",
                      "NORMAL:-VERS-TLS1.3:-CIPHER-ALL:+3DES-CBC:+AES-256-CBC"),
  };
}

TEST(NegotiationAgreementTest, PredictionsMatchRealHandshakes) {
  int compared = 0;
  int agreed = 0;
  int uncertain = 0;
  int class_differs = 0;
  std::vector<std::string> disagreements;
  for (const TestServer& server : Servers()) {
    const Enumeration enumeration = EnumerateServer(server);
    std::cout << "server " << server.name << " (" << server.backend << ", "
              << enumeration.handshakes() << " enumeration handshakes)\n"
              << Summary(enumeration);
    for (const Candidate& candidate : Candidates()) {
      absl::StatusOr<Offer> offer = GetBackend(candidate.backend).Expand(candidate.config);
      ASSERT_TRUE(offer.ok()) << candidate.name << ": " << offer.status();
      const Prediction prediction = PredictNegotiation(enumeration, *offer);
      const HandshakeOutcome real = Handshake(candidate.backend, candidate.config, server);
      ++compared;
      const std::string real_text =
          real.success ? absl::StrCat("negotiated ", TlsVersionName(real.version), " ",
                                      CipherSuiteName(real.suite_code), " ",
                                      real.group != 0 ? GroupName(real.group) : "-")
                       : absl::StrCat("failed ", FailureClassName(real.failure), " (",
                                      real.library_error, ")");
      bool agrees = false;
      std::string note;
      switch (prediction.verdict) {
        case Prediction::Verdict::kNegotiates: {
          const std::vector<uint16_t>& possible = prediction.possible_groups;
          const bool group_ok =
              possible.empty()
                  ? prediction.group == 0 || real.group == prediction.group
                  : std::find(possible.begin(), possible.end(), real.group) != possible.end();
          agrees = real.success && real.version == prediction.version &&
                   real.suite_code == prediction.suite && group_ok;
          if (agrees && !possible.empty() && real.group != prediction.group) {
            note = " (group: the other documented possibility)";
          }
          break;
        }
        case Prediction::Verdict::kFails:
          // The documented limit: a server that fails for a local reason after choosing sends
          // internal_error rather than the standard alert.
          agrees = !real.success &&
                   (real.failure == prediction.failure ||
                    (real.failure == FailureClass::kAlertReceived && real.alert_code == 80));
          if (agrees && real.failure != prediction.failure) {
            ++class_differs;
            note = " (failure class: server sent internal_error)";
          }
          break;
        case Prediction::Verdict::kUncertain:
          ++uncertain;
          agrees = !prediction.uncertainties.empty();
          break;
      }
      const std::string line =
          absl::StrCat(server.name, " x ", candidate.name, ": predicted ",
                       DescribePrediction(prediction), "; real ", real_text, note);
      std::cout << (agrees ? "  ok   " : "  FAIL ") << line << "\n";
      if (agrees) {
        ++agreed;
      } else {
        disagreements.push_back(line);
      }
    }
  }
  std::cout << "whatif agreement: " << agreed << "/" << compared << " (" << uncertain
            << " uncertain, " << class_differs
            << " failures with internal_error instead of the predicted class)\n";
  EXPECT_EQ(agreed, compared) << absl::StrJoin(disagreements, "\n");
  EXPECT_GE(compared, 80);
}

}  // namespace
}  // namespace tlsweep::backends
