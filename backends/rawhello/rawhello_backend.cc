// The rawhello backend plugin: writes ClientHellos itself (any suite code points in any order,
// SSLv2 to TLS 1.3) and reads the server's answer up to its choice, with no TLS library in the
// loop. libcrypto makes the key-share keys, reads certificates and checks chains. It has no
// server side. See README.md for the ClientConfig mapping and the outcome it reports.
#include <openssl/crypto.h>

#include <memory>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/openssl/openssl_certificate.h"
#include "backends/rawhello/hello_plan.h"
#include "backends/rawhello/hello_writer.h"
#include "backends/rawhello/key_share.h"
#include "backends/rawhello/rawhello_engine.h"
#include "backends/rawhello/trust_store.h"

namespace tlsweep::backends::rawhello {
namespace {

class RawHelloBackend final : public Backend {
 public:
  absl::string_view Name() const override { return "rawhello"; }

  std::string LibraryVersion() const override {
    return absl::StrCat("rawhello 1 (keys and X.509: ", OpenSSL_version(OPENSSL_VERSION), ")");
  }

  std::vector<TlsVersion> SpeakableVersions() const override { return RawSpeakableVersions(); }

  absl::StatusOr<std::unique_ptr<TlsEngine>> NewClient(const ClientConfig& config) override {
    absl::StatusOr<HelloPlan> plan = PlanHello(config);
    if (!plan.ok()) return plan.status();
    std::shared_ptr<const TrustStore> trust;
    if (!config.ca_file.empty()) {
      absl::StatusOr<std::shared_ptr<const TrustStore>> loaded = Trust(config.ca_file);
      if (!loaded.ok()) return loaded.status();
      trust = *std::move(loaded);
    }
    HelloSecrets secrets;
    secrets.random = RandomBytes(32);
    if (plan->tls13) secrets.session_id = RandomBytes(32);
    for (uint16_t group : plan->key_share_groups) {
      absl::StatusOr<std::string> key = MakeKeySharePublicKey(group);
      if (!key.ok()) return key.status();
      secrets.key_shares.push_back({group, *std::move(key)});
    }
    absl::StatusOr<std::string> hello = WriteClientHello(*plan, secrets);
    if (!hello.ok()) return hello.status();
    std::string verify_name = config.verify_name.empty() ? config.sni : config.verify_name;
    return std::make_unique<RawHelloEngine>(*std::move(plan), *std::move(hello), std::move(trust),
                                            std::move(verify_name));
  }

  absl::StatusOr<std::unique_ptr<TlsEngine>> NewServer(const ServerConfig&) override {
    return absl::UnimplementedError(
        "the rawhello backend only writes ClientHellos: it has no server side");
  }

  absl::StatusOr<Offer> Expand(const ClientConfig& config) override {
    absl::StatusOr<HelloPlan> plan = PlanHello(config);
    if (!plan.ok()) return plan.status();
    return OfferOf(*plan);
  }

  CertificateFacts DescribeCertificate(absl::string_view der) const override {
    return DescribeCertificateWithOpenssl(der);
  }

 private:
  // CA bundles are loaded once per path: a sweep verifies every chain against the same one.
  absl::StatusOr<std::shared_ptr<const TrustStore>> Trust(const std::string& ca_file) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = trust_.find(ca_file); it != trust_.end()) return it->second;
    absl::StatusOr<std::shared_ptr<const TrustStore>> loaded = TrustStore::Load(ca_file);
    if (loaded.ok()) trust_.emplace(ca_file, *loaded);
    return loaded;
  }

  std::mutex mutex_;
  absl::flat_hash_map<std::string, std::shared_ptr<const TrustStore>> trust_;
};

}  // namespace
}  // namespace tlsweep::backends::rawhello

TLSWEEP_DEFINE_BACKEND("rawhello", tlsweep::backends::rawhello::RawHelloBackend)
