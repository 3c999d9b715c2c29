#include "backends/candidate/tls_candidate.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "backends/group_table.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {

absl::StatusOr<ClientConfig> ClientConfigFromSettings(
    const tlsweep::v1::TlsClientSettings& settings, const std::string& ca_file) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = settings.openssl_ciphers();
  config.ciphers.openssl_ciphersuites = settings.openssl_ciphersuites();
  config.ciphers.gnutls_priority = settings.gnutls_priority();
  if (settings.min_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
    config.min_version = VersionFromProto(settings.min_version());
  }
  if (settings.max_version() != tlsweep::v1::TLS_VERSION_UNSPECIFIED) {
    config.max_version = VersionFromProto(settings.max_version());
  }
  for (const std::string& group : settings.groups()) {
    absl::StatusOr<uint16_t> id = ParseGroup(group);
    if (!id.ok()) return id.status();
    config.groups.push_back(*id);
  }
  config.legacy = settings.legacy();
  if (!ca_file.empty()) {
    config.ca_file = ca_file;
  } else if (std::filesystem::exists(kSystemCaBundle)) {
    config.ca_file = kSystemCaBundle;
  }
  return config;
}

absl::StatusOr<TlsCandidate> BuildCandidate(const tlsweep::v1::TlsClientSettings& settings,
                                            const BackendRegistry& registry,
                                            const std::string& ca_file) {
  TlsCandidate candidate;
  candidate.name = settings.name().empty() ? "default" : settings.name();
  candidate.settings = settings;
  candidate.settings.set_name(candidate.name);
  const std::string backend_name = settings.backend().empty() ? "openssl" : settings.backend();
  candidate.settings.set_backend(backend_name);
  absl::StatusOr<Backend*> backend = registry.Get(backend_name);
  if (!backend.ok()) return backend.status();
  candidate.backend = *backend;

  absl::StatusOr<ClientConfig> config = ClientConfigFromSettings(settings, ca_file);
  if (!config.ok()) return config.status();
  candidate.config = *std::move(config);
  absl::StatusOr<Offer> offer = candidate.backend->Expand(candidate.config);
  if (!offer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("candidate '", candidate.name, "': ", offer.status().message()));
  }
  if (offer->suites.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("candidate '", candidate.name, "' offers no cipher suite at any version"));
  }
  candidate.offer = *std::move(offer);
  return candidate;
}

}  // namespace tlsweep::backends
