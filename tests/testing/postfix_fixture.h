// A private, real Postfix for tests: one master with several smtpd listeners, each on its own
// loopback address with its own TLS policy (master.cf -o overrides). Everything lives in a fresh
// temporary directory; the system's Postfix configuration is never touched. Needs root (port 25,
// Postfix's privilege separation).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tlsweep::testing {

struct PostfixListener {
  std::string name;     // Unique key for listener()/endpoint(): "modern", "defaults", ...
  std::string address;  // 127.x.y.z; empty: the fixture assigns a free one.
  uint16_t port = 25;
  std::string tls_security_level = "may";  // "may", or "none" (no STARTTLS in EHLO).
  // Certificate, either form. chain_file alone: key then certificates in one PEM
  // (smtpd_tls_chain_files). chain_file plus key_file: certificates (leaf first) and a separate
  // key, as CertFactory::Issue writes them. Neither: STARTTLS is offered but answers 454.
  std::string chain_file;
  std::string key_file;
  std::string protocols;  // smtpd_tls_protocols, e.g. ">=TLSv1.2" or "!TLSv1.3"; empty: default.
  std::string ciphers_grade;  // smtpd_tls_ciphers: "medium", "high"...; empty: default (medium).
  // OpenSSL cipher string (TLS <= 1.2) for this listener's grade (tls_<grade>_cipherlist; grade
  // "high" if ciphers_grade is empty). Add ":@SECLEVEL=0" to allow TLS 1.0/1.1 or weak suites.
  std::string cipherlist;
  // TLS 1.3 suites, e.g. "TLS_CHACHA20_POLY1305_SHA256". Postfix has no parameter for them, so
  // this writes a private OpenSSL config (tls_config_file/tls_config_name). That config replaces
  // /etc/ssl/openssl.cnf for the listener, so Debian's SECLEVEL=2 default no longer applies.
  std::string tls13_ciphersuites;
  // Raw "name=value" overrides, e.g. "smtpd_client_connection_rate_limit=2". Values may contain
  // spaces or commas; they are passed with Postfix's "-o { name = value }" syntax.
  std::vector<std::string> extra_options;
};

class PostfixFixture {
 public:
  // Writes the configuration, runs `postfix -c DIR start` and waits until every listener sends
  // a 220 banner. Errors carry the tail of the maillog. Listener names must be unique.
  // `main_cf_extra` holds "name=value" lines appended to main.cf, for settings that are not
  // per-service: anvil reads its own parameters, so e.g. "anvil_rate_time_unit=10s" goes here
  // (as a listener's -o it would have no effect).
  static absl::StatusOr<std::unique_ptr<PostfixFixture>> Start(
      std::vector<PostfixListener> listeners, std::vector<std::string> main_cf_extra = {});

  // Concatenates a private key and a certificate chain into one PEM (key first), the layout
  // smtpd_tls_chain_files wants. Written with mode 0600.
  static absl::Status WriteChainFile(const std::string& key_file, const std::string& cert_file,
                                     const std::string& output_file);

  // Stops Postfix (`postfix stop`, then SIGKILL to master's process group if needed), reaps its
  // processes and removes the temporary directory (kept if TLSWEEP_KEEP_POSTFIX_DIR is set).
  ~PostfixFixture();

  PostfixFixture(const PostfixFixture&) = delete;
  PostfixFixture& operator=(const PostfixFixture&) = delete;

  // The listener as configured (with its assigned address). Dies on an unknown name.
  const PostfixListener& listener(absl::string_view name) const;
  // "127.x.y.z:port" of a listener.
  std::string endpoint(absl::string_view name) const;
  std::string maillog_path() const { return directory_ + "/maillog"; }
  std::string config_directory() const { return directory_ + "/config"; }
  const std::string& directory() const { return directory_; }
  // The readiness probe connects from this source address, so that connection-rate limits keyed
  // on the client address (anvil) still see a fresh 127.0.0.1 when the test starts.
  const std::string& probe_source_address() const { return probe_source_; }

  // The last `lines` lines of the maillog (for failure messages).
  std::string MaillogTail(int lines = 30) const;

 private:
  PostfixFixture() = default;

  absl::Status AssignAddresses();
  absl::Status WriteConfiguration(const std::vector<std::string>& main_cf_extra);
  absl::Status WaitUntilReady(absl::Duration timeout);
  void Stop();

  std::string directory_;
  std::string probe_source_;
  std::vector<PostfixListener> listeners_;
  std::map<std::string, size_t, std::less<>> by_name_;
  int block_lock_fd_ = -1;  // flock on the 127.25.B.0/24 block this instance owns.
  pid_t master_pid_ = -1;
  bool started_ = false;
};

}  // namespace tlsweep::testing
