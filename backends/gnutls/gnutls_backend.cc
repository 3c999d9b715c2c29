// The GnuTLS backend plugin: tlsweep-backend-gnutls.so.
#include <gnutls/gnutls.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "backends/backend.h"
#include "backends/cipher_suite_table.h"
#include "backends/gnutls/gnutls_certificate.h"
#include "backends/gnutls/gnutls_engine.h"
#include "backends/gnutls/gnutls_util.h"

namespace tlsweep::backends::gnutls_backend {
namespace {

class GnutlsBackend final : public Backend {
 public:
  GnutlsBackend() {
    // Automatic since GnuTLS 3.3 (library constructor), reference-counted and harmless here.
    gnutls_global_init();
  }
  ~GnutlsBackend() override { gnutls_global_deinit(); }

  absl::string_view Name() const override { return "gnutls"; }

  std::string LibraryVersion() const override {
    return absl::StrCat("GnuTLS ", gnutls_check_version(nullptr));
  }

  // GnuTLS 3.7 has no SSL 3.0 code at all.
  std::vector<TlsVersion> SpeakableVersions() const override {
    return {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  }

  absl::StatusOr<std::unique_ptr<TlsEngine>> NewClient(const ClientConfig& config) override {
    return GnutlsEngine::NewClient(config);
  }

  absl::StatusOr<std::unique_ptr<TlsEngine>> NewServer(const ServerConfig& config) override {
    return GnutlsEngine::NewServer(config);
  }

  absl::StatusOr<Offer> Expand(const ClientConfig& config) override;

  CertificateFacts DescribeCertificate(absl::string_view der) const override {
    return DescribeCertificateWithGnutls(der);
  }
};

// Reports what NewClient(config) puts in its ClientHello. The suites come from the priority
// cache in priority order; suites whose key exchange needs PSK or SRP credentials are left out
// because a client session of this plugin has none and GnuTLS does not offer them without.
// Anonymous suites stay: NewClient installs anonymous credentials when the priority enables an
// ANON key exchange.
absl::StatusOr<Offer> GnutlsBackend::Expand(const ClientConfig& config) {
  auto priority_string =
      BuildPriorityString(config.ciphers, config.min_version, config.max_version, config.groups,
                          config.legacy, /*server_precedence=*/false);
  if (!priority_string.ok()) return priority_string.status();
  auto priority = InitPriority(*priority_string);
  if (!priority.ok()) return priority.status();
  gnutls_priority_t prio = priority->get();

  Offer offer;
  const unsigned int* protocols = nullptr;
  const int protocol_count = gnutls_priority_protocol_list(prio, &protocols);
  for (int i = 0; i < protocol_count; ++i) {
    const TlsVersion version = FromGnutlsProtocol(static_cast<gnutls_protocol_t>(protocols[i]));
    if (TlsVersion::kTls1_0 <= version && version <= TlsVersion::kTls1_3) {
      offer.versions.push_back(version);
    }
  }
  std::sort(offer.versions.begin(), offer.versions.end());
  offer.versions.erase(std::unique(offer.versions.begin(), offer.versions.end()),
                       offer.versions.end());

  std::vector<GnutlsSuite> suites;
  for (unsigned int idx = 0;; ++idx) {
    unsigned int suite_index = 0;
    const int ret = gnutls_priority_get_cipher_suite_index(prio, idx, &suite_index);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
    if (ret == GNUTLS_E_UNKNOWN_CIPHER_SUITE) continue;
    if (ret < 0) {
      return absl::InternalError(
          absl::StrCat("gnutls_priority_get_cipher_suite_index: ", GnutlsErrorText(ret)));
    }
    std::optional<GnutlsSuite> suite = SuiteByIndex(suite_index);
    if (!suite.has_value() || !ClientCanOfferKx(suite->kx)) continue;
    suites.push_back(*std::move(suite));
  }

  std::set<std::pair<TlsVersion, uint16_t>> seen;
  for (TlsVersion version : offer.versions) {
    for (const GnutlsSuite& suite : suites) {
      const bool usable =
          IsTls13Suite(suite.code_point)
              ? version == TlsVersion::kTls1_3
              : version < TlsVersion::kTls1_3 && FromGnutlsProtocol(suite.min_version) <= version;
      if (!usable || !seen.emplace(version, suite.code_point).second) continue;
      offer.suites.push_back(OfferedSuite{version, suite.code_point, suite.name});
    }
  }

  const unsigned int* groups = nullptr;
  const int group_count = gnutls_priority_group_list(prio, &groups);
  for (int i = 0; i < group_count; ++i) {
    const uint16_t id = IanaGroupId(static_cast<gnutls_group_t>(groups[i]));
    if (id != 0 && std::find(offer.groups.begin(), offer.groups.end(), id) == offer.groups.end()) {
      offer.groups.push_back(id);
    }
  }
  return offer;
}

}  // namespace
}  // namespace tlsweep::backends::gnutls_backend

TLSWEEP_DEFINE_BACKEND("gnutls", ::tlsweep::backends::gnutls_backend::GnutlsBackend)
