#include "tests/testing/backend_fixture.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/str_split.h"

namespace tlsweep::testing {
namespace {

backends::BackendRegistry& Registry() {
  static backends::BackendRegistry* registry = [] {
    absl::StatusOr<backends::BackendRegistry> loaded =
        backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
    if (!loaded.ok()) {
      std::cerr << "cannot load test plugins: " << loaded.status() << "\n";
      std::abort();
    }
    return new backends::BackendRegistry(*std::move(loaded));
  }();
  return *registry;
}

}  // namespace

backends::Backend& GetBackend(const std::string& name) {
  absl::StatusOr<backends::Backend*> backend = Registry().Get(name);
  if (!backend.ok()) {
    std::cerr << backend.status() << "\n";
    std::abort();
  }
  return **backend;
}

std::vector<std::string> BuiltBackendNames() {
  return absl::StrSplit(TLSWEEP_TEST_BACKENDS, ',', absl::SkipEmpty());
}

const TestPki& SharedPki() {
  static TestPki* pki = [] {
    const std::string directory = MakeTempDirectory("tlsweep-pki");
    absl::StatusOr<CertFactory> factory = CertFactory::Create(directory);
    if (!factory.ok()) std::abort();
    auto* result = new TestPki{*std::move(factory), {}, {}, {}, directory};
    const std::vector<std::string> names = {"mx.example.test"};
    auto rsa = result->factory.Issue("rsa", names, KeyKind::kRsa2048);
    auto ecdsa = result->factory.Issue("ecdsa", names, KeyKind::kEcdsaP256);
    auto expired = result->factory.Issue("expired", names, KeyKind::kRsa2048, -30, -1);
    if (!rsa.ok() || !ecdsa.ok() || !expired.ok()) std::abort();
    result->rsa = *rsa;
    result->ecdsa = *ecdsa;
    result->expired = *expired;
    return result;
  }();
  return *pki;
}

backends::ServerConfig MakeServerConfig(const std::string& backend,
                                        const IssuedCertificate& certificate,
                                        const backends::CipherSpec& spec) {
  backends::ServerConfig config;
  config.certificate_chain_file = certificate.chain_file;
  config.private_key_file = certificate.key_file;
  if (backend == "gnutls") {
    config.ciphers.gnutls_priority = spec.gnutls_priority;
  } else {
    config.ciphers.openssl_ciphers = spec.openssl_ciphers;
    config.ciphers.openssl_ciphersuites = spec.openssl_ciphersuites;
  }
  return config;
}

}  // namespace tlsweep::testing
