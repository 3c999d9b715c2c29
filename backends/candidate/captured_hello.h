// A candidate captured from a real MTA's ClientHello (`tlsweep capture`), as a file of one or
// more captures. Each is a few comment lines saying who sent it and what the wire held that a
// candidate cannot carry (signature algorithms, extensions, groups tlsweep does not know), then
// one candidate spec for the rawhello backend, which writes that offer again: the suites in the
// client's order (by code point, so that suites no library has stay), its versions and groups.
//
//   # ClientHello from 192.0.2.7:40312 at 2026-12-05T17:20:00Z (EHLO mx1.example.net)
//   # 31 suites; versions TLSv1.2..TLSv1.3; key shares x25519; signature_algorithms 0x0403 ...
//   name=hello-mx1.example.net backend=rawhello ciphers=0xc02c:0xc030:... ciphersuites=0x1302:...
//     min=TLSv1.2 max=TLSv1.3 groups=x25519:secp256r1 tls=opportunistic   (one line)
//
// `--candidate 'hello=FILE'` reads one back (name= picks one of several; other keys override).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/hello_parser.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// The backend that replays a captured hello: its "ok" means the server chose from that offer in
// a ServerHello; no handshake was completed.
inline constexpr char kCapturedHelloBackend[] = "rawhello";

struct CaptureOrigin {
  std::string peer;  // "192.0.2.7:40312"
  std::string ehlo;  // What the client said in EHLO/HELO.
  int64_t unix_ms = 0;
};

// The candidate a ClientHello stands for: backend rawhello, name "hello-" + the EHLO name (or
// the peer address when there was none).
tlsweep::v1::TlsClientSettings CandidateFromHello(const ClientHello& hello,
                                                  const CaptureOrigin& origin);

// The comment lines and the spec line of one capture, each ending in '\n'.
std::string FormatCapture(const ClientHello& hello, const CaptureOrigin& origin);

// Every capture in `text` (spec lines; '#' lines and blank lines are comments). Errors name the
// line.
absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> ParseCaptures(absl::string_view text);

// The only capture of `path`, or, when it holds several, the one named `name`.
absl::StatusOr<tlsweep::v1::TlsClientSettings> ReadCapture(const std::string& path,
                                                           const std::string& name);

}  // namespace tlsweep::backends
