// Names of certificate signature algorithms by OID, spelled as OpenSSL's long names
// ("sha256WithRSAEncryption", "ecdsa-with-SHA256"), so that both plugins report a certificate
// the same way whichever X.509 parser read it. An OID not in the table is returned as is.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace tlsweep::backends {

std::string SignatureAlgorithmName(absl::string_view oid);

}  // namespace tlsweep::backends
