// A private, real Exim 4.96 (Debian's exim4-daemon-light, built with GnuTLS 3.7) for tests:
// one `exim4 -bdf` daemon per listener, because several of the settings tests vary are global
// in Exim (smtp_accept_max, tls_require_ciphers). Unpacked by tests/testing/fetch_mtas, never
// installed. Exim never delivers (no routers, every RCPT denied) and never looks up DNS
// (host_lookup, rfc1413_hosts and helo_lookup_domains empty; a private resolv.conf pointing at a
// dead loopback address besides). Needs root (port 25, a private mount namespace).
//
// Logging: each listener's mainlog (log_path()) has Exim's own lines ("TLS error on connection
// ... (gnutls_handshake): ...", "temporarily rejected connection in "connect" ACL") plus, for
// every connection that negotiated TLS, one line written by the QUIT / not-QUIT ACLs:
//   TLSWEEP-TLS I=[127.26.B.H]:25 version=TLS1.2 suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
//       cipher=TLS1.2:ECDHE_SECP384R1__RSA_SHA256__AES_256_GCM:256
// (suite is the IANA name, cipher GnuTLS's description with the group).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/testing/loopback_block.h"

namespace tlsweep::testing {

struct EximListener {
  std::string name;     // Unique key for listener()/endpoint()/log_path().
  std::string address;  // 127.x.y.z; empty: the fixture assigns one from its 127.26.B.0/24.
  uint16_t port = 25;
  // Certificate chain (leaf first) and key, as CertFactory::Issue writes them. Empty: the fixture
  // mints one for mx.example.test (its CA is ca_file()).
  std::string cert_file;
  std::string key_file;
  bool offer_starttls = true;  // false: tls_advertise_hosts empty, no STARTTLS in EHLO.
  // STARTTLS is offered but answers "454 TLS currently unavailable": the certificate path is
  // one that fails only when expanded at STARTTLS time (a real, common misconfiguration).
  bool starttls_fails = false;
  // tls_require_ciphers: a GnuTLS priority string, e.g.
  // "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM". Empty: Exim's default ("NORMAL").
  std::string tls_require_ciphers;
  // smtp_accept_max: concurrent connections; beyond it Exim answers "421 Too many concurrent
  // SMTP connections". 20 is Exim's default.
  int smtp_accept_max = 20;
  // > 0: the connect ACL defers with "451 4.7.1 ..." once a client address has made this many
  // accepted connections within ratelimit_period (Exim's ratelimit, per_conn, leaky: deferred
  // connections do not count, so the budget comes back as time passes).
  int ratelimit_connections = 0;
  absl::Duration ratelimit_period = absl::Minutes(1);
  // > 0: the connect ACL waits this long (whole seconds, rounded up) before the greeting.
  absl::Duration greeting_delay = absl::ZeroDuration();
  // The greeting; more than one line gives "220-" continuation lines. Empty: Exim's default
  // ("mx.example.test ESMTP Exim 4.96 <date>"). '$' and '\' are sent literally.
  std::vector<std::string> banner_lines;
  // Raw main-section lines ("name = value") appended to this listener's configuration.
  std::vector<std::string> extra_main_options;
};

class EximFixture {
 public:
  // Writes one configuration per listener, starts the daemons and waits until each sends its
  // 220 greeting (the readiness probe's source address is exempt from the delay and the rate
  // limit). Errors carry the tail of the failing listener's logs. FailedPrecondition naming
  // tests/testing/fetch_mtas if Exim is not unpacked.
  static absl::StatusOr<std::unique_ptr<EximFixture>> Start(std::vector<EximListener> listeners);

  // OK if the unpacked exim4 binary is there (see MtaDirectory()).
  static absl::Status CheckInstalled();
  static std::string Binary();  // MtaDirectory() + "/root/usr/sbin/exim4".

  // Stops every daemon (SIGTERM to its process group, then SIGKILL), reaps them and removes the
  // temporary directory (kept if TLSWEEP_KEEP_MTA_DIR is set).
  ~EximFixture();
  EximFixture(const EximFixture&) = delete;
  EximFixture& operator=(const EximFixture&) = delete;

  // The listener as configured (address assigned). Dies on an unknown name.
  const EximListener& listener(absl::string_view name) const;
  std::string endpoint(absl::string_view name) const;  // "127.26.B.H:25".
  std::string log_path(absl::string_view name) const;  // The listener's Exim mainlog.
  std::string LogTail(absl::string_view name, int lines = 30) const;  // mainlog, paniclog, stdout.
  std::string config_path(absl::string_view name) const;
  const std::string& directory() const { return directory_; }
  const std::string& ca_file() const { return ca_file_; }  // CA of the minted certificate.
  // The readiness probe connects from here; Exim's ACLs exempt it from delay and rate limit.
  const std::string& probe_source_address() const { return probe_source_; }
  absl::Duration start_duration() const { return start_duration_; }

 private:
  struct Instance {
    EximListener listener;
    std::string directory;
    pid_t pid = -1;
  };
  EximFixture() = default;
  absl::Status Prepare();
  absl::Status WriteConfiguration(Instance& instance);
  const Instance& instance(absl::string_view name) const;

  std::string directory_;
  std::string ca_file_;
  std::string probe_source_;
  std::string resolv_conf_;
  std::optional<LoopbackBlock> block_;
  std::vector<Instance> instances_;
  std::map<std::string, size_t, std::less<>> by_name_;
  absl::Duration start_duration_;
};

}  // namespace tlsweep::testing
