// A private, real Haraka 3 (npm, installed by tests/testing/fetch_mtas) for tests: one
// `haraka -c DIR` Node.js process per listener, since Haraka's tls.ini (ciphers, minVersion) is
// global to a process. STARTTLS comes from Haraka's `tls` plugin; Node's bundled OpenSSL and
// Node's defaults decide whatever tls.ini leaves out (TLS 1.2 minimum, Node's cipher list).
//
// DH parameters: the fixture writes config/dhparams.pem (RFC 7919 ffdhe2048), as a real
// installation has after its first start; without it Haraka spends seconds generating one and
// offers DHE suites only from then on.
//
// No delivery: no queue or rcpt plugin is loaded, so every recipient is refused. No DNS: a
// plugin of the fixture answers Haraka's reverse lookup of each client itself, public_ip is
// set (no STUN), and the process sees a private resolv.conf naming a dead loopback address.
// Needs root (port 25, a private mount namespace).
//
// Logging: log_path(name) is the process's stdout (log.ini level info, timestamps). A
// successful STARTTLS logs "[tls] secured: cipher=ECDHE-RSA-AES256-GCM-SHA384 version=TLSv1.2
// verified=false ..." (cipher is OpenSSL's name, Node's getCipher()); a failed handshake logs
// the OpenSSL error from the socket.
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

struct HarakaListener {
  std::string name;     // Unique key for listener()/endpoint()/log_path().
  std::string address;  // 127.x.y.z; empty: the fixture assigns one from its 127.28.B.0/24.
  uint16_t port = 25;
  // Certificate chain and key; empty: the fixture mints one for mx.example.test.
  std::string cert_file;
  std::string key_file;
  bool offer_starttls = true;  // false: the tls plugin is not loaded (no STARTTLS).
  // tls.ini [main] settings; empty: Node's default.
  std::string ciphers;                     // OpenSSL cipher string (TLS <= 1.2 suites).
  std::string min_version;                 // "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1".
  std::string ecdh_curve;                  // e.g. "P-384" or "X25519:P-256" (Node's ecdhCurve).
  std::vector<std::string> extra_tls_ini;  // Raw "name=value" lines for tls.ini [main].
};

class HarakaFixture {
 public:
  // Writes one Haraka instance folder per listener, starts them all and waits until each sends
  // its 220 greeting. Errors carry the tail of the failing listener's log. FailedPrecondition
  // naming tests/testing/fetch_mtas if Haraka is not installed.
  static absl::StatusOr<std::unique_ptr<HarakaFixture>> Start(
      std::vector<HarakaListener> listeners);

  static absl::Status CheckInstalled();
  static std::string Binary();  // MtaDirectory() + "/haraka/node_modules/.bin/haraka".

  // Stops every process (SIGTERM to its process group, then SIGKILL), reaps them and removes the
  // temporary directory (kept if TLSWEEP_KEEP_MTA_DIR is set).
  ~HarakaFixture();
  HarakaFixture(const HarakaFixture&) = delete;
  HarakaFixture& operator=(const HarakaFixture&) = delete;

  const HarakaListener& listener(absl::string_view name) const;  // Dies on an unknown name.
  std::string endpoint(absl::string_view name) const;
  std::string log_path(absl::string_view name) const;
  std::string LogTail(absl::string_view name, int lines = 30) const;
  std::string instance_directory(absl::string_view name) const;  // haraka -c DIR.
  const std::string& directory() const { return directory_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& probe_source_address() const { return probe_source_; }
  absl::Duration start_duration() const { return start_duration_; }

 private:
  struct Instance {
    HarakaListener listener;
    std::string directory;
    pid_t pid = -1;
  };
  HarakaFixture() = default;
  absl::Status Prepare();
  absl::Status WriteInstance(Instance& instance);
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
