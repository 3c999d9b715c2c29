#include "backends/enumeration_fingerprint.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

std::string EnumerationFingerprint(const v1::ProbeResult& result) {
  if (result.failure() == v1::STARTTLS_NOT_OFFERED) return "no-starttls";
  const v1::TlsHandshake& tls = result.tls();
  // A failed handshake says too little: a server that changed what it accepts may well refuse
  // this candidate the same way as before.
  if (result.failure() != v1::PROBE_OK || !tls.success()) return "";
  const bool starttls = std::find(result.ehlo_keywords().begin(), result.ehlo_keywords().end(),
                                  "STARTTLS") != result.ehlo_keywords().end();
  const std::string leaf = tls.peer_chain_size() > 0 ? tls.peer_chain(0).sha256_fingerprint() : "";
  return absl::StrCat(static_cast<int>(tls.version()), "|", tls.suite().code_point(), "|",
                      tls.group(), "|", leaf, "|", starttls ? "starttls" : "");
}

}  // namespace tlsweep::backends
