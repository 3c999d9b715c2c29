// `tlsweep capture`'s server: a small SMTP server that advertises STARTTLS and records the
// ClientHello each connecting client sends after it, then refuses the handshake (a fatal
// handshake_failure alert) and closes. A team points one of its MTAs at it (a transport or
// relayhost entry) and gets exactly what that MTA offers, as a candidate (captured_hello.h).
// It accepts no mail: MAIL gets 451, so the message stays queued at the client.
//
// Every client is untrusted: lines are capped at 1,000 bytes, the ClientHello at 64 KiB, and
// each session at `session_timeout`; anything else ends the session, never the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "backends/candidate/captured_hello.h"
#include "backends/hello_parser.h"

namespace tlsweep::cli {

struct CapturedHello {
  backends::CaptureOrigin origin;
  backends::ClientHello hello;
};

struct CaptureOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 2525;  // 0: any free port (tests).
  int count = 1;                // Stop after this many hellos; 0: never.
  std::chrono::milliseconds session_timeout{60'000};
  std::chrono::milliseconds total_timeout{0};  // 0: none.
  std::string server_name = "tlsweep-capture";
};

struct CaptureEvents {
  std::function<void(uint16_t port)> listening;
  std::function<void(const CapturedHello&)> captured;
  // A session that ended without a hello: who, and why ("no STARTTLS", "not a ClientHello").
  std::function<void(const std::string& peer, const std::string& why)> missed;
};

// Runs on the calling thread until `count` hellos are captured (OK), the total timeout passes
// (DeadlineExceeded, after the ones captured so far) or the address cannot be bound.
absl::Status RunHelloCapture(const CaptureOptions& options, const CaptureEvents& events);

}  // namespace tlsweep::cli
