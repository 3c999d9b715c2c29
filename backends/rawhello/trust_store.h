// Chain and name checks for the certificates a TLS <= 1.2 server sends in the clear, made the way
// the openssl plugin's engine makes them (libcrypto's verifier with the "ssl_server" purpose,
// X509_check_host for the name), so that both plugins agree on the same chain. TLS 1.3 servers
// send their certificates encrypted, which this backend never reads: no verification there.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/handshake_outcome.h"

namespace tlsweep::backends::rawhello {

class TrustStore {
 public:
  // InvalidArgument when `ca_file` cannot be read as a PEM bundle.
  static absl::StatusOr<std::shared_ptr<const TrustStore>> Load(const std::string& ca_file);
  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // `chain`: DER certificates, leaf first, as the server sent them. `name`: a DNS name or an IP
  // address; empty: no name check.
  Verification Verify(const std::vector<std::string>& chain, const std::string& name) const;

 private:
  explicit TrustStore(X509_STORE* store) : store_(store) {}
  X509_STORE* store_;
};

}  // namespace tlsweep::backends::rawhello
