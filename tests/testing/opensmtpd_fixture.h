// A private, real OpenSMTPD 6.8.0p2 (Debian 12's opensmtpd, unpacked by tests/testing/fetch_mtas)
// for tests: one `smtpd -d -v -f CONF` with a `listen on ADDRESS port P tls pki NAME` line per
// listener (STARTTLS offered).
//
// On Debian 12 this build is broken in a way real servers are: STARTTLS is offered, the
// ServerHello (and certificate) go out, then every handshake fails with an internal_error alert
// because the privilege-separated key process cannot sign under OpenSSL 3 (its log says
// "SSL library error: ... routines::missing private key", for RSA and ECDSA keys alike). A
// scanner must report that as a failed handshake after a ServerHello, not as "no TLS".
//
// smtpd hard-codes /var/spool/smtpd and its control socket /run/smtpd.sock; it runs in a
// private mount namespace with its own spool and /run, so instances never meet. Its resolver
// reads a private resolv.conf ("lookup file": the hosts file only, no DNS). Needs root.
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

struct OpenSmtpdListener {
  std::string name;     // Unique key for listener()/endpoint().
  std::string address;  // 127.x.y.z; empty: the fixture assigns one from its 127.27.B.0/24.
  uint16_t port = 25;
  // Certificate chain and key; empty: the fixture mints one for mx.example.test.
  std::string cert_file;
  std::string key_file;
  bool offer_starttls = true;  // false: a plain listener (no "tls").
  // Raw words appended to the listen line (e.g. "ciphers \"HIGH\"", "protocols \"tlsv1.2\"").
  std::string extra_listen_options;
};

class OpenSmtpdFixture {
 public:
  // Writes smtpd.conf, starts smtpd and waits until every listener sends its 220 greeting.
  // Errors carry the tail of its log. FailedPrecondition naming tests/testing/fetch_mtas if
  // OpenSMTPD is not unpacked.
  static absl::StatusOr<std::unique_ptr<OpenSmtpdFixture>> Start(
      std::vector<OpenSmtpdListener> listeners);

  static absl::Status CheckInstalled();
  static std::string Binary();  // MtaDirectory() + "/root/usr/sbin/smtpd".

  // Stops smtpd (SIGTERM to its process group, then SIGKILL), reaps it and removes the
  // temporary directory (kept if TLSWEEP_KEEP_MTA_DIR is set).
  ~OpenSmtpdFixture();
  OpenSmtpdFixture(const OpenSmtpdFixture&) = delete;
  OpenSmtpdFixture& operator=(const OpenSmtpdFixture&) = delete;

  const OpenSmtpdListener& listener(absl::string_view name) const;  // Dies on an unknown name.
  std::string endpoint(absl::string_view name) const;
  // smtpd's foreground log (-d -v): "smtp connected", "smtp disconnected reason=...", and the
  // SSL library errors of a failed handshake.
  std::string log_path() const { return directory_ + "/smtpd.log"; }
  std::string LogTail(int lines = 30) const;
  std::string config_path() const { return directory_ + "/smtpd.conf"; }
  const std::string& directory() const { return directory_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& probe_source_address() const { return probe_source_; }
  absl::Duration start_duration() const { return start_duration_; }

 private:
  OpenSmtpdFixture() = default;
  absl::Status Prepare();
  absl::Status WriteConfiguration();

  std::string directory_;
  std::string ca_file_;
  std::string probe_source_;
  std::string dead_resolver_;
  std::optional<LoopbackBlock> block_;
  std::vector<OpenSmtpdListener> listeners_;
  std::map<std::string, size_t, std::less<>> by_name_;
  pid_t pid_ = -1;
  absl::Duration start_duration_;
};

}  // namespace tlsweep::testing
