// Shared setup for tests that run against the real backend plugins of this build.
#pragma once

#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/plugin_loader.h"
#include "backends/tls_config.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::testing {

// The plugins built with this tree (loaded once per test program; aborts if any is missing).
backends::Backend& GetBackend(const std::string& name);
// The backend names this build was configured with (TLSWEEP_BACKENDS).
std::vector<std::string> BuiltBackendNames();

// One PKI per test program: a CA and the leaf certificates the tests use.
struct TestPki {
  CertFactory factory;
  IssuedCertificate rsa;      // mx.example.test, RSA 2048.
  IssuedCertificate ecdsa;    // mx.example.test, ECDSA P-256.
  IssuedCertificate expired;  // mx.example.test, expired yesterday.
  std::string directory;
};
const TestPki& SharedPki();

// A server config for `backend` with `certificate`, limited by the library-specific spec
// (only the field matching the backend is used).
backends::ServerConfig MakeServerConfig(const std::string& backend,
                                        const IssuedCertificate& certificate,
                                        const backends::CipherSpec& spec = {});

}  // namespace tlsweep::testing
