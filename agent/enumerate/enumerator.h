// The elimination: per TLS version, offer every suite a backend can offer, remove the one the
// server picks, and offer the rest again until the server refuses; then the suites only another
// backend can offer; then the key-exchange groups. Works over a HelloChannel (one handshake per
// call), so the same logic runs over STARTTLS connections (enumeration_probe.h) and, in tests,
// against in-memory servers.
//
// Handshake budget, per version with n accepted suites, when one backend can offer them all:
// n + 1. The server's preference is read off the same handshakes where it can be:
// - every offer lists the suites weakest first (the reverse of OpenSSL's own order), so a server
//   that imposes a strong-first order picks suites that contradict "first offered wins" at once;
// - otherwise, once two suites are known, each further offer appends the accepted suites in the
//   reverse of the order found. A server that follows the client picks from the unknown suites
//   (or, when none is left, the last-found suite: that handshake is also the refusal), and one
//   that follows its own order picks the first-found suite again.
// Either way the preference costs at most one extra handshake, and nothing when the elimination
// already shows it. Suites only a GnuTLS-language backend can offer cost one refusal more, plus
// up to three for each such suite the server accepts (the product of tokens is split around it).
// TLS 1.3 groups cost one handshake per accepted group plus one refusal, and one more to test
// whose order picks the group when the elimination has not shown it.
//
// A ServerHello is not a handshake: some servers (OpenSMTPD on Debian 12, whose certificate has no
// usable key) choose a suite and then fail. So every version with accepted suites is confirmed
// by one complete handshake (key exchange and Finished) offering them all; if that fails, each
// suite by a complete handshake of its own, and the ones that fail are "ServerHello only". The
// TLS <= 1.2 groups are found with complete handshakes too (the server names its curve only in
// ServerKeyExchange): the accepted ECDHE suites with every curve, less the one the server took,
// until it refuses; and one DHE handshake reads the size of the server's prime.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/enumerate/hello_exchange.h"
#include "agent/enumerate/offer_plan.h"
#include "asio.hpp"
#include "backends/backend.h"
#include "backends/handshake_outcome.h"
#include "backends/tls_version.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

struct CompletedHandshake {
  // False: the SMTP dialogue never reached TLS (`detail` says why); the enumeration then stops.
  bool connected = false;
  backends::HandshakeOutcome outcome;
  std::string detail;
};

class HelloChannel {
 public:
  virtual ~HelloChannel() = default;
  // One handshake on a new connection: sends `hello`, returns the server's answer. kNoConnection
  // when no TLS could start (the channel keeps why); the enumeration then stops.
  virtual asio::awaitable<ServerAnswer> Exchange(const PreparedHello& hello) = 0;
  // One complete handshake with a client engine of `backend` on a new connection.
  virtual asio::awaitable<CompletedHandshake> Complete(backends::Backend& backend,
                                                       const backends::ClientConfig& config) = 0;
};

struct EnumeratorOptions {
  std::string sni;  // Server name sent in every ClientHello; empty: none.
  // Key-exchange groups: TLS 1.3 from ServerHello key_share / HelloRetryRequest, TLS <= 1.2
  // from complete handshakes.
  bool enumerate_groups = true;
  // Complete handshakes that confirm the ServerHello answers (off only in tests of the
  // elimination's own handshake count).
  bool confirm = true;
  std::vector<backends::TlsVersion> versions;  // Empty: every version of the plan.
  // Versions enumerated at once, each on connections of its own, once the first version has
  // shown that the server takes our connections. The politeness gate still decides how many
  // connections to one address are open at once (--per-ip): this only lets the enumeration use
  // them, which matters behind a slow greeting (handshakes x greeting otherwise).
  int parallel_versions = 1;
  // With `versions` set, also the one SSLv2 hello (always made when `versions` is empty).
  bool include_sslv2 = false;
};

struct EnumerationRun {
  tlsweep::v1::Enumeration enumeration;  // All but duration_us.
  // The channel reported kNoConnection: that version and the later ones are INCOMPLETE.
  bool aborted = false;
  std::string abort_detail;  // Why, as the channel said.
};

asio::awaitable<EnumerationRun> Enumerate(const OfferPlan& plan, HelloChannel& channel,
                                          const EnumeratorOptions& options);

}  // namespace tlsweep::agent
