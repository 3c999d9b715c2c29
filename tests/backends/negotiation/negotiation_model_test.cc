// The negotiation model on synthetic enumerations: one case per rule in negotiation_model.h.
#include "backends/negotiation/negotiation_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::Enumeration;
using ::tlsweep::v1::VersionEnumeration;
using Verdict = Prediction::Verdict;

// IANA code points used below.
constexpr uint16_t kAes128Gcm13 = 0x1301;  // TLS_AES_128_GCM_SHA256
constexpr uint16_t kAes256Gcm13 = 0x1302;  // TLS_AES_256_GCM_SHA384
constexpr uint16_t kChacha13 = 0x1303;     // TLS_CHACHA20_POLY1305_SHA256
constexpr uint16_t kEcdheRsaAes128Gcm = 0xC02F;
constexpr uint16_t kEcdheRsaAes256Gcm = 0xC030;
constexpr uint16_t kDheRsaAes128Gcm = 0x009E;
constexpr uint16_t kRsaAes128Sha = 0x002F;
constexpr uint16_t kEcdheRsaAes128Sha = 0xC013;
constexpr uint16_t kRsaAes256Sha = 0x0035;
constexpr uint16_t kRsa3desSha = 0x000A;
constexpr uint16_t kX25519 = 29;
constexpr uint16_t kP256 = 23;
constexpr uint16_t kP384 = 24;
constexpr uint16_t kFfdhe2048 = 256;

// One server version, built fluently: Supported(...).ClientPreference().Untested({...}).
struct ServerVersionSpec {
  TlsVersion version = TlsVersion::kUnknown;
  VersionEnumeration::Status status = VersionEnumeration::SUPPORTED;
  std::vector<uint16_t> suites;
  bool server_preference = true;
  bool preference_tested = true;
  std::vector<uint16_t> groups;
  bool groups_tested = true;
  std::vector<uint16_t> untested;
  VersionEnumeration::Confirmation confirmation = VersionEnumeration::CONFIRMED;
  std::vector<uint16_t> hello_only;
  bool group_preference_tested = false;
  bool group_server_preference = false;

  ServerVersionSpec ClientPreference() const {
    ServerVersionSpec copy = *this;
    copy.server_preference = false;
    return copy;
  }
  ServerVersionSpec PreferenceNotTested() const {
    ServerVersionSpec copy = *this;
    copy.server_preference = false;
    copy.preference_tested = false;
    return copy;
  }
  ServerVersionSpec GroupsNotTested() const {
    ServerVersionSpec copy = *this;
    copy.groups.clear();
    copy.groups_tested = false;
    return copy;
  }
  ServerVersionSpec Untested(std::vector<uint16_t> codes) const {
    ServerVersionSpec copy = *this;
    copy.untested = std::move(codes);
    return copy;
  }
  ServerVersionSpec Confirmation(VersionEnumeration::Confirmation confirmation) const {
    ServerVersionSpec copy = *this;
    copy.confirmation = confirmation;
    return copy;
  }
  // `codes` were chosen in a ServerHello, then every complete handshake with them failed.
  ServerVersionSpec HelloOnly(std::vector<uint16_t> codes) const {
    ServerVersionSpec copy = *this;
    copy.hello_only = std::move(codes);
    copy.confirmation = copy.hello_only.size() == copy.suites.size()
                            ? VersionEnumeration::HELLO_ONLY
                            : VersionEnumeration::PARTLY_CONFIRMED;
    return copy;
  }
  ServerVersionSpec Incomplete() const {
    ServerVersionSpec copy = *this;
    copy.status = VersionEnumeration::INCOMPLETE;
    copy.confirmation = VersionEnumeration::CONFIRMATION_UNSPECIFIED;
    return copy;
  }
  // Whose order picks the group, tested apart from the suites'.
  ServerVersionSpec GroupOrder(bool server) const {
    ServerVersionSpec copy = *this;
    copy.group_preference_tested = true;
    copy.group_server_preference = server;
    return copy;
  }
};

ServerVersionSpec Supported(TlsVersion version, std::vector<uint16_t> suites,
                            std::vector<uint16_t> groups = {}) {
  ServerVersionSpec spec;
  spec.version = version;
  spec.suites = std::move(suites);
  spec.groups = std::move(groups);
  return spec;
}

ServerVersionSpec WithStatus(TlsVersion version, VersionEnumeration::Status status) {
  ServerVersionSpec spec;
  spec.version = version;
  spec.status = status;
  spec.server_preference = false;
  spec.preference_tested = false;
  spec.groups_tested = false;
  return spec;
}

Enumeration MakeEnumeration(const std::vector<ServerVersionSpec>& specs) {
  Enumeration enumeration;
  for (const ServerVersionSpec& spec : specs) {
    VersionEnumeration* entry = enumeration.add_versions();
    entry->set_version(VersionToProto(spec.version));
    entry->set_status(spec.status);
    for (uint16_t code : spec.suites) {
      tlsweep::v1::CipherSuite* suite = entry->add_suites();
      suite->set_code_point(code);
      suite->set_iana_name(CipherSuiteName(code));
    }
    entry->set_server_preference(spec.server_preference);
    entry->set_preference_tested(spec.preference_tested);
    for (uint16_t group : spec.groups) entry->add_groups(GroupName(group));
    entry->set_groups_tested(spec.groups_tested);
    for (uint16_t code : spec.untested) entry->add_untested_suites(code);
    if (!spec.suites.empty()) entry->set_confirmation(spec.confirmation);
    for (uint16_t code : spec.hello_only) entry->add_hello_only_suites(code);
    if (!spec.hello_only.empty()) {
      entry->set_hello_only_failure(tlsweep::v1::TLS_FAILURE_ALERT_RECEIVED);
    }
    entry->set_group_preference_tested(spec.group_preference_tested);
    entry->set_group_server_preference(spec.group_server_preference);
  }
  return enumeration;
}

struct ClientVersionSpec {
  TlsVersion version;
  std::vector<uint16_t> suites;  // Client order.
};

Offer MakeOffer(const std::vector<ClientVersionSpec>& specs, std::vector<uint16_t> groups) {
  Offer offer;
  for (const ClientVersionSpec& spec : specs) {
    offer.versions.push_back(spec.version);
    for (uint16_t code : spec.suites) {
      OfferedSuite suite;
      suite.version = spec.version;
      suite.code_point = code;
      offer.suites.push_back(suite);
    }
  }
  offer.groups = std::move(groups);
  return offer;
}

// The same offer, with `codes` marked as offered but aborted on (OfferedSuite::completes).
Offer Aborting(Offer offer, const std::vector<uint16_t>& codes) {
  for (OfferedSuite& suite : offer.suites) {
    for (uint16_t code : codes) {
      if (suite.code_point == code) suite.completes = false;
    }
  }
  return offer;
}

const std::vector<uint16_t> kTls12Modern = {kEcdheRsaAes256Gcm, kEcdheRsaAes128Gcm,
                                            kDheRsaAes128Gcm};
const std::vector<uint16_t> kTls13All = {kAes256Gcm13, kChacha13, kAes128Gcm13};

struct ModelCase {
  std::string name;
  Enumeration server;
  Offer client;
  Verdict verdict = Verdict::kNegotiates;
  TlsVersion version = TlsVersion::kUnknown;
  uint16_t suite = 0;
  uint16_t group = 0;
  FailureClass failure = FailureClass::kNone;
  size_t min_uncertainties = 0;
  size_t min_alternatives = 0;  // Which suite or group, with success sure either way.
  std::string reason_contains;

  ModelCase Negotiates(TlsVersion v, uint16_t s, uint16_t g) const {
    ModelCase copy = *this;
    copy.verdict = Verdict::kNegotiates;
    copy.version = v;
    copy.suite = s;
    copy.group = g;
    return copy;
  }
  ModelCase Fails(FailureClass f) const {
    ModelCase copy = *this;
    copy.verdict = Verdict::kFails;
    copy.failure = f;
    return copy;
  }
  // Uncertain; the fallback outcome is set with Negotiates()/Fails() first.
  ModelCase Uncertain() const {
    ModelCase copy = *this;
    copy.verdict = Verdict::kUncertain;
    if (copy.min_uncertainties == 0) copy.min_uncertainties = 1;
    return copy;
  }
  ModelCase OpenChoice(size_t count) const {
    ModelCase copy = *this;
    copy.min_alternatives = count;
    return copy;
  }
  ModelCase NotSure(size_t count) const {
    ModelCase copy = *this;
    copy.min_uncertainties = count;
    return copy;
  }
  ModelCase ReasonHas(std::string text) const {
    ModelCase copy = *this;
    copy.reason_contains = std::move(text);
    return copy;
  }
};

ModelCase Case(std::string name, Enumeration server, Offer client) {
  ModelCase c;
  c.name = std::move(name);
  c.server = std::move(server);
  c.client = std::move(client);
  return c;
}

constexpr TlsVersion k10 = TlsVersion::kTls1_0;
constexpr TlsVersion k11 = TlsVersion::kTls1_1;
constexpr TlsVersion k12 = TlsVersion::kTls1_2;
constexpr TlsVersion k13 = TlsVersion::kTls1_3;

std::vector<ModelCase> Cases() {
  std::vector<ModelCase> cases;
  // Server preference: the server's first suite the client offers, whatever the client's order.
  cases.push_back(
      Case("server_preference_tls12",
           MakeEnumeration({Supported(k12, kTls12Modern, {kX25519, kP256})}),
           MakeOffer({{k12, {kEcdheRsaAes128Gcm, kEcdheRsaAes256Gcm}}}, {kP256, kX25519}))
          .Negotiates(k12, kEcdheRsaAes256Gcm, kX25519));
  // Client preference: the client's first suite the server accepts; the client's first group.
  cases.push_back(
      Case("client_preference_tls12",
           MakeEnumeration({Supported(k12, kTls12Modern, {kX25519, kP256}).ClientPreference()}),
           MakeOffer({{k12, {kEcdheRsaAes128Gcm, kEcdheRsaAes256Gcm}}}, {kP256, kX25519}))
          .Negotiates(k12, kEcdheRsaAes128Gcm, kP256));
  // TLS 1.3 wins when both sides have it, with the client's key-share group.
  cases.push_back(
      Case("tls13_preferred",
           MakeEnumeration({Supported(k12, kTls12Modern, {kX25519, kP256}),
                            Supported(k13, kTls13All, {kP256, kX25519})}),
           MakeOffer({{k12, kTls12Modern}, {k13, {kAes128Gcm13, kAes256Gcm13}}}, {kX25519, kP256}))
          .Negotiates(k13, kAes256Gcm13, kX25519)
          .OpenChoice(1));  // The server prefers secp256r1: GnuTLS would retry.
  // TLS 1.3, the client's key-share group is also the server's favourite: sure.
  cases.push_back(Case("tls13_key_share_is_server_favourite",
                       MakeEnumeration({Supported(k13, kTls13All, {kX25519, kP256})}),
                       MakeOffer({{k13, {kAes128Gcm13}}}, {kX25519, kP256}))
                      .Negotiates(k13, kAes128Gcm13, kX25519));
  // TLS 1.3, the client's first group unacceptable: the server's preferred common group.
  cases.push_back(Case("tls13_hello_retry_group",
                       MakeEnumeration({Supported(k13, kTls13All, {kP384, kP256})}),
                       MakeOffer({{k13, {kAes128Gcm13}}}, {kX25519, kP256, kP384}))
                      .Negotiates(k13, kAes128Gcm13, kP384)
                      .OpenChoice(1));
  // Client too new: a TLS 1.3-only client against a TLS 1.2 server.
  cases.push_back(Case("client_min_above_server_max",
                       MakeEnumeration({Supported(k12, kTls12Modern, {kX25519}),
                                        WithStatus(k13, VersionEnumeration::NOT_SUPPORTED)}),
                       MakeOffer({{k13, kTls13All}}, {kX25519}))
                      .Fails(FailureClass::kProtocolVersion)
                      .ReasonHas("no version in common"));
  // Client too old: a TLS 1.0-1.1 client against a TLS 1.2+ server.
  cases.push_back(
      Case("client_max_below_server_min",
           MakeEnumeration({WithStatus(k10, VersionEnumeration::NOT_SUPPORTED),
                            WithStatus(k11, VersionEnumeration::NOT_SUPPORTED),
                            Supported(k12, {kRsaAes128Sha}), Supported(k13, kTls13All, {kX25519})}),
           MakeOffer({{k10, {kRsaAes128Sha}}, {k11, {kRsaAes128Sha}}}, {kX25519}))
          .Fails(FailureClass::kProtocolVersion));
  // A hole in the server's support: it answers the highest it has below the client's max.
  cases.push_back(Case("server_hole_picks_lower",
                       MakeEnumeration({Supported(k10, {kRsaAes128Sha}),
                                        WithStatus(k11, VersionEnumeration::NOT_SUPPORTED),
                                        Supported(k12, {kRsaAes128Sha})}),
                       MakeOffer({{k10, {kRsaAes128Sha}}, {k11, {kRsaAes128Sha}}}, {}))
                      .Negotiates(k10, kRsaAes128Sha, 0));
  // No common suite.
  cases.push_back(Case("no_common_suite", MakeEnumeration({Supported(k12, {kRsaAes256Sha})}),
                       MakeOffer({{k12, {kEcdheRsaAes128Gcm}}}, {kX25519}))
                      .Fails(FailureClass::kNoSharedCipher)
                      .ReasonHas("server accepts only TLS_RSA_WITH_AES_256_CBC_SHA"));
  // TLS 1.3 supported but no common TLS 1.3 suite: fails, no fallback to TLS 1.2.
  cases.push_back(Case("tls13_no_common_suite_no_fallback",
                       MakeEnumeration({Supported(k12, kTls12Modern, {kX25519}),
                                        Supported(k13, {kAes256Gcm13}, {kX25519})}),
                       MakeOffer({{k12, kTls12Modern}, {k13, {kChacha13}}}, {kX25519}))
                      .Fails(FailureClass::kNoSharedCipher)
                      .ReasonHas("no TLSv1.3 suite in common"));
  // TLS 1.3 with no common group: a failure, again without falling back.
  cases.push_back(Case("tls13_group_mismatch_fails",
                       MakeEnumeration({Supported(k12, kTls12Modern, {kX25519}),
                                        Supported(k13, kTls13All, {kP384})}),
                       MakeOffer({{k12, kTls12Modern}, {k13, kTls13All}}, {kX25519, kP256}))
                      .Fails(FailureClass::kNoSharedCipher)
                      .ReasonHas("no group in common"));
  // TLS 1.3 over FFDHE works (TLS 1.2 ECDHE would not use it).
  cases.push_back(Case("tls13_ffdhe_group",
                       MakeEnumeration({Supported(k13, kTls13All, {kFfdhe2048})}),
                       MakeOffer({{k13, {kAes128Gcm13}}}, {kX25519, kFfdhe2048}))
                      .Negotiates(k13, kAes128Gcm13, kFfdhe2048));
  // TLS 1.2 with no common curve: the ECDHE suites are skipped, DHE is next.
  cases.push_back(Case("tls12_group_mismatch_skips_to_dhe",
                       MakeEnumeration({Supported(k12, kTls12Modern, {kP384, kFfdhe2048})}),
                       MakeOffer({{k12, kTls12Modern}}, {kX25519, kFfdhe2048}))
                      .Negotiates(k12, kDheRsaAes128Gcm, 0)
                      .ReasonHas("skipped"));
  // TLS 1.2 with no common curve and nothing else in common: a failure.
  cases.push_back(Case("tls12_group_mismatch_fails",
                       MakeEnumeration({Supported(k12, {kEcdheRsaAes128Gcm}, {kP384})}),
                       MakeOffer({{k12, {kEcdheRsaAes128Gcm}}}, {kX25519}))
                      .Fails(FailureClass::kNoSharedCipher)
                      .ReasonHas("elliptic-curve group"));
  // A TLS 1.3 the enumeration could not test, offered by the client: uncertain.
  cases.push_back(Case("not_tested_version_above",
                       MakeEnumeration({Supported(k12, kTls12Modern, {kX25519}),
                                        WithStatus(k13, VersionEnumeration::NOT_TESTED)}),
                       MakeOffer({{k12, kTls12Modern}, {k13, kTls13All}}, {kX25519}))
                      .Negotiates(k12, kEcdheRsaAes256Gcm, kX25519)
                      .Uncertain());
  // An ERROR version above a version mismatch: uncertain, with the failure as the fallback.
  cases.push_back(Case("error_version_above_failure",
                       MakeEnumeration({WithStatus(k12, VersionEnumeration::NOT_SUPPORTED),
                                        WithStatus(k13, VersionEnumeration::ERROR)}),
                       MakeOffer({{k12, kTls12Modern}, {k13, kTls13All}}, {kX25519}))
                      .Fails(FailureClass::kProtocolVersion)
                      .Uncertain());
  // A NOT_TESTED version below the chosen one changes nothing.
  cases.push_back(
      Case("not_tested_version_below_is_irrelevant",
           MakeEnumeration({WithStatus(TlsVersion::kSsl3, VersionEnumeration::NOT_TESTED),
                            Supported(k12, {kRsaAes128Sha})}),
           MakeOffer({{TlsVersion::kSsl3, {kRsaAes128Sha}}, {k12, {kRsaAes128Sha}}}, {}))
          .Negotiates(k12, kRsaAes128Sha, 0));
  // Only an untested suite could make it work: uncertain.
  cases.push_back(Case("only_untested_suite_in_common",
                       MakeEnumeration({Supported(k12, {kRsaAes256Sha}).Untested({kRsa3desSha})}),
                       MakeOffer({{k12, {kRsa3desSha}}}, {}))
                      .Fails(FailureClass::kNoSharedCipher)
                      .Uncertain());
  // An untested suite under server preference may be preferred: success, pick uncertain.
  cases.push_back(
      Case(
          "untested_suite_may_change_pick",
          MakeEnumeration({Supported(k12, {kRsaAes256Sha, kRsaAes128Sha}).Untested({kRsa3desSha})}),
          MakeOffer({{k12, {kRsa3desSha, kRsaAes128Sha}}}, {}))
          .Negotiates(k12, kRsaAes128Sha, 0)
          .OpenChoice(1));
  // Under client preference an untested suite after the pick cannot change it.
  cases.push_back(Case("untested_suite_after_client_pick",
                       MakeEnumeration({Supported(k12, {kRsaAes256Sha, kRsaAes128Sha})
                                            .ClientPreference()
                                            .Untested({kRsa3desSha})}),
                       MakeOffer({{k12, {kRsaAes128Sha, kRsa3desSha}}}, {}))
                      .Negotiates(k12, kRsaAes128Sha, 0));
  // Preference not tested with two candidates: success, suite uncertain.
  cases.push_back(
      Case("preference_unknown",
           MakeEnumeration({Supported(k12, {kRsaAes256Sha, kRsaAes128Sha}).PreferenceNotTested()}),
           MakeOffer({{k12, {kRsaAes128Sha, kRsaAes256Sha}}}, {}))
          .Negotiates(k12, kRsaAes128Sha, 0)
          .OpenChoice(1));
  // Groups not tested: assumed to work, noted.
  cases.push_back(Case("groups_not_tested",
                       MakeEnumeration({Supported(k13, kTls13All).GroupsNotTested()}),
                       MakeOffer({{k13, {kAes128Gcm13}}}, {kP256}))
                      .Negotiates(k13, kAes128Gcm13, kP256)
                      .NotSure(1));
  // A version listed without any suite is not really offered.
  cases.push_back(
      Case("version_without_suites_not_offered",
           MakeEnumeration({Supported(k12, {kRsaAes128Sha}), Supported(k13, kTls13All, {kX25519})}),
           MakeOffer({{k12, {kRsaAes128Sha}}, {k13, {}}}, {kX25519}))
          .Negotiates(k12, kRsaAes128Sha, 0));
  // S5: OpenSSL (security level >= 1) offers ECDHE-RSA-AES128-SHA at TLS 1.0 but aborts when
  // the server picks it; the server does not try another suite.
  const Offer tls10_client =
      Aborting(MakeOffer({{k10, {kEcdheRsaAes128Sha, kRsaAes128Sha}}}, {kX25519, kP256}),
               {kEcdheRsaAes128Sha});
  cases.push_back(
      Case("sha1_kx_picked_by_server_preference",
           MakeEnumeration({Supported(k10, {kEcdheRsaAes128Sha, kRsaAes128Sha}, {kP256})}),
           tls10_client)
          .Fails(FailureClass::kAlertSent)
          .ReasonHas("aborts on"));
  cases.push_back(
      Case("sha1_kx_not_picked_negotiates",
           MakeEnumeration({Supported(k10, {kRsaAes128Sha, kEcdheRsaAes128Sha}, {kP256})}),
           tls10_client)
          .Negotiates(k10, kRsaAes128Sha, 0));
  cases.push_back(
      Case("sha1_kx_first_in_client_order",
           MakeEnumeration(
               {Supported(k10, {kRsaAes128Sha, kEcdheRsaAes128Sha}, {kP256}).ClientPreference()}),
           tls10_client)
          .Fails(FailureClass::kAlertSent));
  cases.push_back(
      Case(
          "sha1_kx_preference_untested",
          MakeEnumeration(
              {Supported(k10, {kRsaAes128Sha, kEcdheRsaAes128Sha}, {kP256}).PreferenceNotTested()}),
          tls10_client)
          .Fails(FailureClass::kAlertSent)
          .Uncertain());
  // Without a common EC group the ECDHE suite is skipped (G2) and the RSA one completes.
  cases.push_back(
      Case("sha1_kx_skipped_without_group",
           MakeEnumeration({Supported(k10, {kEcdheRsaAes128Sha, kRsaAes128Sha}, {kP384})}),
           tls10_client)
          .Negotiates(k10, kRsaAes128Sha, 0));

  // S6: a server that chooses suites in its ServerHello and then fails (OpenSMTPD on Debian 12).
  const Offer tls12_modern = MakeOffer({{k12, kTls12Modern}}, {kX25519, kP256});
  cases.push_back(
      Case("hello_only_pick_fails",
           MakeEnumeration({Supported(k12, {kEcdheRsaAes256Gcm, kEcdheRsaAes128Gcm}, {kP256})
                                .HelloOnly({kEcdheRsaAes256Gcm, kEcdheRsaAes128Gcm})}),
           tls12_modern)
          .Fails(FailureClass::kAlertReceived)
          .ReasonHas("fails the handshake after its ServerHello"));
  // Only the server's first choice is broken and the server decides: it still fails.
  cases.push_back(
      Case("hello_only_first_choice_fails",
           MakeEnumeration({Supported(k12, {kEcdheRsaAes256Gcm, kEcdheRsaAes128Gcm}, {kP256})
                                .HelloOnly({kEcdheRsaAes256Gcm})}),
           tls12_modern)
          .Fails(FailureClass::kAlertReceived));
  // A broken suite the server does not pick does not matter.
  cases.push_back(
      Case("hello_only_not_picked",
           MakeEnumeration({Supported(k12, {kEcdheRsaAes128Gcm, kEcdheRsaAes256Gcm}, {kP256})
                                .HelloOnly({kEcdheRsaAes256Gcm})}),
           tls12_modern)
          .Negotiates(k12, kEcdheRsaAes128Gcm, kP256));
  // Untested preference, one broken and one working suite: not sure.
  cases.push_back(
      Case("hello_only_preference_untested",
           MakeEnumeration({Supported(k12, {kEcdheRsaAes256Gcm, kEcdheRsaAes128Gcm}, {kP256})
                                .PreferenceNotTested()
                                .HelloOnly({kEcdheRsaAes256Gcm})}),
           tls12_modern)
          .Fails(FailureClass::kAlertReceived)
          .Uncertain());
  // S7: a ServerHello alone is no handshake.
  for (auto confirmation :
       {VersionEnumeration::CONFIRMATION_UNSPECIFIED, VersionEnumeration::NOT_CONFIRMED}) {
    cases.push_back(
        Case(absl::StrCat("unconfirmed_is_uncertain_",
                          VersionEnumeration::Confirmation_Name(confirmation)),
             MakeEnumeration(
                 {Supported(k12, {kEcdheRsaAes128Gcm}, {kP256}).Confirmation(confirmation)}),
             tls12_modern)
            .Negotiates(k12, kEcdheRsaAes128Gcm, kP256)
            .Uncertain()
            .ReasonHas("TLSv1.2"));
  }
  // S8: cut short. What was found still works, but is not sure; no common suite found is not a
  // sure failure either.
  cases.push_back(
      Case("incomplete_found_suite",
           MakeEnumeration({Supported(k12, {kEcdheRsaAes128Gcm}, {kP256}).Incomplete()}),
           tls12_modern)
          .Negotiates(k12, kEcdheRsaAes128Gcm, kP256)
          .Uncertain());
  cases.push_back(Case("incomplete_nothing_in_common",
                       MakeEnumeration({Supported(k12, {kRsaAes256Sha}, {}).Incomplete()}),
                       tls12_modern)
                      .Fails(FailureClass::kNoSharedCipher)
                      .Uncertain()
                      .ReasonHas("no TLSv1.2 suite in common"));
  cases.push_back(Case("incomplete_without_suites_is_unknown",
                       MakeEnumeration({Supported(k12, {}, {}).Incomplete()}), tls12_modern)
                      .Fails(FailureClass::kProtocolVersion)
                      .Uncertain());
  // TLS 1.2 groups, now enumerated: a server limited to P-384 skips ECDHE for an X25519:P-256
  // client and negotiates RSA key exchange, or fails when there is none.
  cases.push_back(
      Case("tls12_groups_skip_ecdhe",
           MakeEnumeration({Supported(k12, {kEcdheRsaAes256Gcm, kRsaAes256Sha}, {kP384})}),
           MakeOffer({{k12, {kEcdheRsaAes256Gcm, kRsaAes256Sha}}}, {kX25519, kP256}))
          .Negotiates(k12, kRsaAes256Sha, 0));
  cases.push_back(Case("tls12_groups_no_common_curve",
                       MakeEnumeration({Supported(k12, {kEcdheRsaAes256Gcm}, {kP384})}),
                       MakeOffer({{k12, {kEcdheRsaAes256Gcm}}}, {kX25519, kP256}))
                      .Fails(FailureClass::kNoSharedCipher)
                      .ReasonHas("elliptic-curve group"));
  // Tested group order: the client's order picks although the suite order is the server's.
  cases.push_back(
      Case(
          "tls12_group_client_order_tested",
          MakeEnumeration({Supported(k12, {kEcdheRsaAes128Gcm}, {kP384, kP256}).GroupOrder(false)}),
          MakeOffer({{k12, {kEcdheRsaAes128Gcm}}}, {kP256, kP384}))
          .Negotiates(k12, kEcdheRsaAes128Gcm, kP256));
  cases.push_back(Case("tls12_group_server_order_tested",
                       MakeEnumeration({Supported(k12, {kEcdheRsaAes128Gcm}, {kP384, kP256})
                                            .ClientPreference()
                                            .GroupOrder(true)}),
                       MakeOffer({{k12, {kEcdheRsaAes128Gcm}}}, {kP256, kP384}))
                      .Negotiates(k12, kEcdheRsaAes128Gcm, kP384));
  return cases;
}

TEST(NegotiationModelTest, Rules) {
  for (const ModelCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    const Prediction p = PredictNegotiation(c.server, c.client);
    const std::string described = DescribePrediction(p);
    EXPECT_EQ(p.verdict, c.verdict) << described;
    EXPECT_EQ(p.version, c.version) << described;
    EXPECT_EQ(p.suite, c.suite) << described;
    EXPECT_EQ(p.group, c.group) << described;
    EXPECT_EQ(p.failure, c.failure) << described;
    EXPECT_GE(p.uncertainties.size(), c.min_uncertainties) << described;
    EXPECT_GE(p.alternatives.size(), c.min_alternatives) << described;
    if (c.min_uncertainties == 0) {
      EXPECT_TRUE(p.uncertainties.empty()) << described;
      EXPECT_TRUE(IsSure(p)) << described;
    } else {
      EXPECT_FALSE(IsSure(p)) << described;
    }
    if (c.min_alternatives == 0) {
      EXPECT_TRUE(p.alternatives.empty()) << described;
    }
    EXPECT_TRUE(absl::StrContains(p.reason, c.reason_contains)) << described;
    if (!p.possible_groups.empty()) {
      EXPECT_NE(std::find(p.possible_groups.begin(), p.possible_groups.end(), p.group),
                p.possible_groups.end())
          << described;
    }
  }
}

TEST(NegotiationModelTest, EmptyOfferAndProtoFailure) {
  const Prediction empty = PredictNegotiation(Enumeration(), Offer());
  EXPECT_EQ(empty.verdict, Verdict::kFails);
  EXPECT_EQ(empty.failure, FailureClass::kInternalError);

  const Prediction versionless =
      PredictNegotiation(Enumeration(), MakeOffer({{TlsVersion::kTls1_2, {kRsaAes128Sha}}}, {}));
  EXPECT_EQ(versionless.verdict, Verdict::kUncertain);  // Nothing known about the server.
  EXPECT_EQ(versionless.failure, FailureClass::kProtocolVersion);
  EXPECT_EQ(PredictedFailureToProto(versionless), tlsweep::v1::TLS_FAILURE_NONE);

  Prediction fails;
  fails.verdict = Verdict::kFails;
  fails.failure = FailureClass::kNoSharedCipher;
  fails.reason = "no TLSv1.2 suite in common";
  EXPECT_EQ(PredictedFailureToProto(fails), tlsweep::v1::TLS_FAILURE_NO_SHARED_CIPHER);
  EXPECT_EQ(DescribePrediction(fails), "fails no_shared_cipher: no TLSv1.2 suite in common");

  Prediction ok;
  ok.verdict = Verdict::kNegotiates;
  ok.version = TlsVersion::kTls1_3;
  ok.suite = kAes256Gcm13;
  ok.group = kX25519;
  EXPECT_EQ(DescribePrediction(ok), "negotiates TLSv1.3 TLS_AES_256_GCM_SHA384 x25519");
}

}  // namespace
}  // namespace tlsweep::backends
