// A TLS engine owns no socket, timer or thread: the caller moves bytes between it and the
// transport. One loop serves every backend:
//
//   while (engine.Advance() == HandshakeState::kInProgress) {
//     send(engine.TakeOutput());
//     if (eof) engine.ReceiveEof(); else engine.ReceiveBytes(read());
//   }
//   send(engine.TakeOutput());  // Finished, or the alert that explains a failure.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "backends/handshake_outcome.h"

namespace tlsweep::backends {

enum class HandshakeState {
  kInProgress,  // Needs more bytes from the peer (after TakeOutput() has been sent).
  kComplete,
  kFailed,
};

class TlsEngine {
 public:
  virtual ~TlsEngine() = default;

  // Bytes received from the peer, in order. They are consumed by the next Advance().
  virtual void ReceiveBytes(absl::string_view bytes) = 0;
  // The transport reached end of stream; the next Advance() fails unless already complete.
  virtual void ReceiveEof() = 0;
  // Runs the handshake as far as the received bytes allow.
  virtual HandshakeState Advance() = 0;
  // Bytes to send to the peer, produced since the last call (may be empty).
  virtual std::string TakeOutput() = 0;
  // Valid once Advance() returned kComplete or kFailed.
  virtual const HandshakeOutcome& Outcome() const = 0;

  // After the handshake: protect application data. Encrypted output appears in TakeOutput().
  virtual absl::Status WriteApplicationData(absl::string_view plaintext) = 0;
  // Decrypts what ReceiveBytes() delivered; returns the plaintext available so far.
  virtual absl::StatusOr<std::string> ReadApplicationData() = 0;
  // Queues a close_notify alert.
  virtual void Close() = 0;
};

}  // namespace tlsweep::backends
