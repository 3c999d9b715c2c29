// How a fatal alert maps to a failure class. Shared by every backend so that the same wire
// events get the same class whatever library saw them.
#pragma once

#include "backends/handshake_outcome.h"

namespace tlsweep::backends {

inline constexpr int kAlertHandshakeFailure = 40;
inline constexpr int kAlertProtocolVersion = 70;
inline constexpr int kAlertInsufficientSecurity = 71;

// The peer aborted with `code` before the handshake completed. A handshake_failure before the
// ServerHello is how servers say "nothing you offered is acceptable" (suite or group);
// insufficient_security is the same answer when only weak suites were in common.
inline FailureClass ClassifyReceivedAlert(int code) {
  switch (code) {
    case kAlertHandshakeFailure:
    case kAlertInsufficientSecurity:
      return FailureClass::kNoSharedCipher;
    case kAlertProtocolVersion:
      return FailureClass::kProtocolVersion;
    default:
      return FailureClass::kAlertReceived;
  }
}

}  // namespace tlsweep::backends
