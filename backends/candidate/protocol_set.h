// Protocol version sets as MTAs configure them, and what an OpenSSL client makes of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/tls_version.h"
#include "backends/tls_version_proto.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

// The versions an OpenSSL client built from TLS_method() really offers when some versions are
// switched off with SSL_OP_NO_* flags (what Momentum's tls_protocols and Postfix's protocol
// exclusions do). With a hole in the enabled set (TLSv1 and TLSv1.2 on, TLSv1.1 off) OpenSSL
// does not offer the enclosing range: ssl_get_min_max_version() keeps the LOWEST contiguous
// run, so {TLSv1, TLSv1.2, TLSv1.3} offers TLSv1 only. SSLv3 is never available (Debian's
// OpenSSL 3 is built without it).
struct OpensslVersionRange {
  TlsVersion min = TlsVersion::kUnknown;
  TlsVersion max = TlsVersion::kUnknown;
  bool hole = false;  // The enabled set was not contiguous: `min..max` is the lowest run.
  TlsVersion enclosing_max = TlsVersion::kUnknown;  // Highest enabled version.
};

// nullopt when no TLS version is enabled.
std::optional<OpensslVersionRange> ResolveOpensslVersions(const std::vector<TlsVersion>& enabled);

// "TLSv1, TLSv1.2, TLSv1.3".
std::string JoinVersionNames(const std::vector<TlsVersion>& versions);

// A warning for a set with a hole, naming `setting` and saying what OpenSSL will offer.
std::string HoleWarning(absl::string_view setting, const std::vector<TlsVersion>& enabled,
                        const OpensslVersionRange& range);

}  // namespace tlsweep::backends
