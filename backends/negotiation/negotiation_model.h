// The negotiation model behind the what-if evaluator: given what one endpoint was found to accept
// (an Enumeration, see proto/tlsweep/v1/probe.proto) and what a candidate client configuration
// would offer (a backend's Expand()), predict the handshake without connecting: the version,
// suite and group that would be negotiated, or the failure. A pure function: no I/O, no state.
//
// The rules, in the order they are applied:
//
// Versions.
//  V1. The client's versions are `Offer::versions`, less any version for which the offer holds
//      no suite (neither library puts such a version in its ClientHello). No version left:
//      kFails / kInternalError (the client could not even send a ClientHello).
//  V2. A server version is "supported" only with status SUPPORTED. NOT_SUPPORTED is a refusal;
//      NOT_TESTED, ERROR, STATUS_UNSPECIFIED and a version missing from the enumeration are
//      "unknown".
//  V3. TLS 1.3 first: if the client offers TLS 1.3 and the server supports it, TLS 1.3 is the
//      version. With no common TLS 1.3 suite, or no common group, the handshake fails
//      (kNoSharedCipher): servers do not fall back to TLS 1.2 within one handshake.
//  V4. Otherwise (TLS 1.3 not offered or refused) the server answers the client's highest
//      version the way TLS <= 1.2 servers read legacy_version: it picks the highest version it
//      supports that is <= the client's maximum (skipping holes in its own support). If that
//      version is not one the client offers (below the client's minimum, or a hole in the
//      client's set), or the server supports nothing <= the client's maximum: kFails /
//      kProtocolVersion. This is what OpenSSL and GnuTLS servers do; a server that picks the
//      highest *common* version instead would differ only for clients with holes in their set.
//      V4b: unless the client offers TLS 1.3 only, the server picks its suite at that version
//      before the client can object to the version; when none of the client's suites (at any
//      version) is one the server accepts there, it aborts first: kFails / kNoSharedCipher
//      (seen with OpenSSL servers).
//  V5. A server version with an unknown status (V2) that the client offers and that is above the
//      version V3/V4 would choose could be chosen instead: the verdict is kUncertain (the rest of
//      the prediction is still filled in, as "what happens if the server refuses it").
//
// Suites, at the chosen version.
//  S1. Common suites: the client's suites at that version that the server accepted there.
//  S2. Server preference (server_preference && preference_tested): the first suite in the
//      server's order that the client offers and that is selectable (G2). Client preference
//      (!server_preference && preference_tested): the first suite in the client's order that the
//      server accepts and that is selectable. Preference not tested: the client's order is used
//      and, if more than one suite is selectable, an uncertainty names the alternatives (the
//      verdict stays kNegotiates: every candidate succeeds).
//  S3. Client suites in the server's `untested_suites` (no backend could offer them during the
//      enumeration) may be accepted. If one could change the pick — under server preference any
//      of them (its rank is unknown), under client preference those before the pick in the
//      client's order — an uncertainty names them. If no tested suite is selectable and such
//      suites exist, the verdict is kUncertain instead of kFails.
//  S4. No selectable common suite and no untested candidate: kFails / kNoSharedCipher, with a
//      reason that lists what each side has at that version.
//  S5. The picked suite is one the client offers but aborts on (OfferedSuite::completes false:
//      OpenSSL at security level >= 1, below TLS 1.2, on a SHA-1 signed key exchange): kFails /
//      kAlertSent. Servers do not try another suite. If the server's preference was not tested
//      and another selectable suite would complete, the verdict is kUncertain instead.
//  S6. The picked suite is one the server chose in a ServerHello but could not complete
//      (`hello_only_suites`, e.g. a certificate without its key): kFails with the failure the
//      complete handshakes saw; kUncertain as in S5 when another pick could complete.
//  S7. A version whose accepted suites no complete handshake confirmed (confirmation unset, as
//      from an older agent, or NOT_CONFIRMED): a would-be kNegotiates is kUncertain. A ServerHello
//      alone is never taken for a handshake. The same when the pick is in
//      `unconfirmable_suites` (found only with the raw backend, which no library can complete),
//      or the version is UNCONFIRMABLE.
//  S8. INCOMPLETE (the enumeration was cut short): the suites found are accepted, and every
//      other client suite at that version may be too, as if untested (S3); with none found the
//      version is unknown (V5).
//  Another suite the server may pick (S2, S3) is an alternative, not an uncertainty, when every
//  such suite completes.
//
// Groups.
//  G1. Common groups: the client's groups (its order) that the server accepted at the version.
//      When the server's groups were not tested (groups_tested false) every client group is
//      assumed to work and an uncertainty says so. When the client lists no group, the
//      server's first group is assumed (uncertain).
//  G2. TLS 1.3 and TLS <= 1.2 suites whose key exchange is ECDH(E) need a common group (for
//      TLS <= 1.2 an elliptic-curve one, ids below 256; FFDHE ids 256..511 serve TLS 1.3 only).
//      A TLS <= 1.2 ECDHE suite without one is skipped (the server goes on to its next suite);
//      in TLS 1.3 no common group is a failure (kNoSharedCipher). DHE suites are assumed to
//      work (the server brings its own parameters) and report group 0, as do RSA key exchange
//      and every other suite that uses no named group.
//  G3. Which group. TLS <= 1.2: the server's first common group under server preference, the
//      client's first common group otherwise (OpenSSL and GnuTLS servers agree). TLS 1.3 depends
//      on key shares, which an Offer does not describe: the client sends one for its first
//      group (GnuTLS clients one more, for the first group of another kind). When the client's
//      first group is also the group the server would choose (its first common group under
//      server preference, the client's first otherwise), that is the group. When the server
//      prefers another common group, OpenSSL servers take the key share and GnuTLS servers ask
//      for their group with HelloRetryRequest: `group` is the client's first, and both are in
//      `possible_groups` as alternatives. When the client's first group is refused, the
//      server takes another key share or retries: `group` is the server's choice and every
//      common group is possible. Success is certain in every case (a common group exists).
//      Whose order decides is the enumeration's tested group preference (group_preference_tested)
//      when there is one, else the suite preference stands in for it.
//
// What the model cannot see: how a server refuses. The failure class is the standard one
// (protocol_version for a version, handshake_failure for suites and groups); a server that
// negotiates a version or suite and then cannot complete it (an OpenSSL server at security
// level >= 1 asked for TLS 1.0/1.1 finds no signature algorithm; a GnuTLS server picks a DHE
// suite with no FFDHE group in common and no DH parameters) sends internal_error instead.
// Such versions and suites enumerate as refused, so the failure itself is still predicted.
// Also unseen: DHE parameters. A GnuTLS server without DH parameters does DHE only over a common
// FFDHE group (RFC 7919); an enumeration that offered FFDHE groups lists its DHE suites as
// accepted, and a client that lists no FFDHE group would then fail where G2 predicts success.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/handshake_outcome.h"
#include "backends/tls_version.h"
#include "tlsweep/v1/probe.pb.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

struct Prediction {
  enum class Verdict {
    kNegotiates,  // The handshake completes with `version`, `suite`, `group`.
    kFails,       // The handshake fails with `failure`.
    kUncertain,   // The enumeration cannot decide; `uncertainties` says why.
  };
  Verdict verdict = Verdict::kUncertain;
  // For kNegotiates; for kUncertain, the outcome if every unknown turns out against the client's
  // hopes (kUnknown / 0 when even that fails).
  TlsVersion version = TlsVersion::kUnknown;
  uint16_t suite = 0;  // IANA code point.
  uint16_t group = 0;  // IANA group id; 0 when the key exchange uses no named group (or DHE).
  // Not empty when the group is not sure (rule G3): every group the server may use.
  std::vector<uint16_t> possible_groups;
  // For kFails: kProtocolVersion, kNoSharedCipher (kInternalError: the offer is empty). For
  // kUncertain: the failure that follows if every unknown goes against the client, else kNone.
  FailureClass failure = FailureClass::kNone;
  std::string reason;  // One human-readable sentence.
  // For kFails and a kUncertain fallback failure, what broke: "version", "suite", "group",
  // "sha1_signature" (S5), "hello_only" (S6), "empty_offer". Empty otherwise. With the version
  // it broke at (kUnknown for "version") and, for S5/S6, the suite the server picks.
  std::string cause;
  TlsVersion cause_version = TlsVersion::kUnknown;
  uint16_t cause_suite = 0;
  // Why the verdict itself is not sure (e.g. the server's groups were not tested). Not empty for
  // kUncertain; a kNegotiates or kFails with an uncertainty is not a sure answer either (IsSure).
  std::vector<std::string> uncertainties;
  // Open questions that do not touch the verdict: which of several suites or groups, when every
  // one of them completes.
  std::vector<std::string> alternatives;
};

// The verdict stands without caveat: not kUncertain, and no uncertainty. Summaries count only
// these as sure passes or failures; everything else is "uncertain".
bool IsSure(const Prediction& prediction);

// Applies the rules above. `client` is the Expand() result of the candidate configuration.
Prediction PredictNegotiation(const tlsweep::v1::Enumeration& server, const Offer& client);

absl::string_view VerdictName(Prediction::Verdict verdict);  // "negotiates", "fails"...

// One line: "negotiates TLSv1.3 TLS_AES_256_GCM_SHA384 x25519", "fails no_shared_cipher: ...",
// "uncertain: ..."; uncertainties follow after " [uncertain: a; b]", alternatives after
// " [not sure which: ...]".
std::string DescribePrediction(const Prediction& prediction);

// The proto failure class a live probe would have reported (TLS_FAILURE_NONE unless kFails).
tlsweep::v1::TlsFailureClass PredictedFailureToProto(const Prediction& prediction);

}  // namespace tlsweep::backends
