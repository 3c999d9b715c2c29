// Ground truth for a STARTTLS endpoint from independent tools (openssl s_client, gnutls-cli),
// to check tlsweep's enumeration against: one single-suite (or single-group) handshake per
// candidate, each a separate process with its own timeout.
//
// When a candidate counts as supported (printing "Cipher is X" proves nothing: s_client prints
// it after a ServerHello even when the handshake then fails, and exits 1):
//   - openssl s_client -brief -ign_eof, "QUIT" on stdin: exit status 0, "CONNECTION
//     ESTABLISHED", "Protocol version:" and "Ciphersuite:" naming exactly the version and suite
//     asked for, and a "221" reply read back. The 221 is the server answering our QUIT over the
//     new session, so the server, too, finished the handshake (a server that fails after its
//     ServerHello, like OpenSMTPD on Debian 12, never gets there);
//   - gnutls-cli: exit status 0, "- Handshake was completed", and a "- Description:" line with
//     the version, key exchange, cipher (and MAC) asked for.
// DHE suites below TLS 1.3 are offered with elliptic-curve groups only, by both tools (s_client
// never advertises FFDHE groups): a GnuTLS server whose priority string removed the FFDHE groups
// still accepts DHE from such a client (with its own DH parameters) but refuses it to one that
// advertises FFDHE groups it does not share (RFC 7919).
// A candidate a tool cannot offer at all (OpenSSL 3.0 has no 3DES or RC4; a group the library
// does not know) is "untested", never "refused". A connection refused, or a command that times
// out (or a tool is missing), makes the whole answer an error: the truth would be incomplete.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/tls_version.h"

namespace tlsweep::testing {

enum class TruthTool {
  kOpenSsl,            // openssl s_client only.
  kGnuTls,             // gnutls-cli only.
  kOpenSslThenGnuTls,  // s_client; gnutls-cli for what s_client cannot offer.
};

struct TlsTruthRequest {
  std::string address;  // A 127.0.0.0/8 address (nothing else is ever connected to).
  uint16_t port = 25;
  std::string server_name;  // SNI; empty: none sent.
  // Versions to look at (TLS 1.0 .. 1.3). Each is tried with every listed suite defined for it
  // (TLS 1.3 suites only at TLS 1.3, the others only below) and with every listed group.
  std::vector<backends::TlsVersion> versions;
  std::vector<std::string> suites;  // IANA names from backends/cipher_suite_table.
  // Group names (IANA "secp384r1", "x25519", "ffdhe2048", or OpenSSL's "P-384"...). TLS 1.2:
  // elliptic-curve groups only, with ECDHE suites only; TLS 1.3: any group, as the only key
  // share offered.
  std::vector<std::string> groups;
  TruthTool tool = TruthTool::kOpenSsl;
  absl::Duration command_timeout = absl::Seconds(10);
};

struct VersionTruth {
  std::set<std::string> suites;           // IANA names that completed a handshake.
  std::set<std::string> groups;           // IANA group names that completed a handshake.
  std::set<std::string> untested_suites;  // No chosen tool could offer them.
  std::set<std::string> untested_groups;
};

struct TlsTruth {
  // One entry per requested version (empty sets when nothing completed).
  std::map<backends::TlsVersion, VersionTruth> versions;
  // Every command run, with its exit status and verdict, for failure messages.
  std::vector<std::string> commands;

  // Versions where at least one suite completed a handshake.
  std::set<backends::TlsVersion> SupportedVersions() const;
  // Per version: suites, groups and the untested ones; then the commands.
  std::string Describe() const;
};

// Runs the handshakes one after the other (a few tens of milliseconds each on loopback).
absl::StatusOr<TlsTruth> ProbeTlsTruth(const TlsTruthRequest& request);

// One handshake by an independent tool, set up like one client configuration (a what-if
// candidate), to compare what that client would really get with a prediction. Judged by the
// criteria above: s_client completed only with exit status 0, "CONNECTION ESTABLISHED", the
// version and suite named, and the server's 221 to our QUIT read back; gnutls-cli only with exit
// status 0, "- Handshake was completed" and a "- Description:" line.
struct ToolHandshake {
  std::string command;  // As run.
  int exit_code = -1;
  bool completed = false;
  // When completed: what was negotiated (suite as an IANA name; group as an IANA name when the
  // tool names a key-exchange group, else empty).
  backends::TlsVersion version = backends::TlsVersion::kUnknown;
  std::string suite;
  std::string group;
  std::string output;  // The tool's stdout and stderr.
};

// `openssl s_client -starttls smtp -brief -ign_eof` with `flags` appended as written (already
// shell-quoted), e.g. "-cipher 'ECDHE+AESGCM' -max_protocol TLSv1.2 -groups 'x25519'". Only
// request.address, port, server_name and command_timeout are read. Unavailable when the tool did
// not run, could not connect or timed out (the answer would say nothing about the server);
// InvalidArgument when s_client cannot offer what the flags ask for.
absl::StatusOr<ToolHandshake> OpenSslHandshake(const TlsTruthRequest& request,
                                               const std::string& flags);

// `gnutls-cli --starttls-proto smtp -V --priority PRIORITY` (-V names the version, key
// exchange, cipher and MAC, from which the suite is found). As OpenSslHandshake otherwise.
absl::StatusOr<ToolHandshake> GnuTlsHandshake(const TlsTruthRequest& request,
                                              const std::string& priority);

// IANA names of the table suites this machine's `openssl` can offer at `version` (at
// @SECLEVEL=0), for callers that want "everything OpenSSL can test".
absl::StatusOr<std::vector<std::string>> OpenSslOfferableSuites(backends::TlsVersion version);

}  // namespace tlsweep::testing
