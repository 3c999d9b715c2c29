#include "backends/candidate/settings_from_flags.h"

#include "absl/strings/str_split.h"
#include "backends/tls_version.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {

absl::StatusOr<tlsweep::v1::TlsClientSettings> SettingsFromFlagValues(
    const ClientFlagValues& values) {
  tlsweep::v1::TlsClientSettings settings;
  settings.set_backend(values.backend);
  settings.set_openssl_ciphers(values.openssl_ciphers);
  settings.set_openssl_ciphersuites(values.openssl_ciphersuites);
  settings.set_gnutls_priority(values.gnutls_priority);
  if (!values.min_version.empty()) {
    absl::StatusOr<TlsVersion> version = ParseTlsVersion(values.min_version);
    if (!version.ok()) return version.status();
    settings.set_min_version(VersionToProto(*version));
  }
  if (!values.max_version.empty()) {
    absl::StatusOr<TlsVersion> version = ParseTlsVersion(values.max_version);
    if (!version.ok()) return version.status();
    settings.set_max_version(VersionToProto(*version));
  }
  for (absl::string_view group :
       absl::StrSplit(values.groups, absl::ByAnyChar(":,"), absl::SkipWhitespace())) {
    settings.add_groups(std::string(group));
  }
  settings.set_legacy(values.legacy);
  return settings;
}

}  // namespace tlsweep::backends
