#include "backends/tls_version_proto.h"

namespace tlsweep::backends {

tlsweep::v1::TlsVersion VersionToProto(TlsVersion version) {
  switch (version) {
    case TlsVersion::kSsl3:
      return tlsweep::v1::SSLV3;
    case TlsVersion::kTls1_0:
      return tlsweep::v1::TLSV1_0;
    case TlsVersion::kTls1_1:
      return tlsweep::v1::TLSV1_1;
    case TlsVersion::kTls1_2:
      return tlsweep::v1::TLSV1_2;
    case TlsVersion::kTls1_3:
      return tlsweep::v1::TLSV1_3;
    case TlsVersion::kUnknown:
      break;
  }
  return tlsweep::v1::TLS_VERSION_UNSPECIFIED;
}

TlsVersion VersionFromProto(tlsweep::v1::TlsVersion version) {
  for (TlsVersion candidate : AllTlsVersions()) {
    if (VersionToProto(candidate) == version) return candidate;
  }
  return TlsVersion::kUnknown;
}

}  // namespace tlsweep::backends
