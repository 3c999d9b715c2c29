// Just enough of the TLS record layer to tell TLS from anything else, shared by every backend so
// that "the peer does not speak TLS" is decided one way.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tlsweep::backends {

// True when `bytes` (the first bytes received from the peer, at least one) may begin a TLS
// record: a known content type followed by protocol major version 3. An SSLv2-style record or a
// plain-text SMTP reply ("220 ...", "454 ...") is not TLS.
inline bool MayBeTlsRecord(absl::string_view bytes) {
  if (bytes.empty()) return true;
  const auto content_type = static_cast<uint8_t>(bytes[0]);
  if (content_type < 20 || content_type > 24) return false;  // change_cipher_spec..heartbeat
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[1]) != 3) return false;
  return true;
}

}  // namespace tlsweep::backends
