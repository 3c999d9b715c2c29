// Mints a throwaway PKI at test run time: a CA and leaf certificates (RSA or ECDSA), valid,
// expired or for the wrong name. Nothing is checked in; every run makes its own.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tlsweep::testing {

enum class KeyKind { kRsa2048, kEcdsaP256 };

struct IssuedCertificate {
  std::string chain_file;  // PEM: leaf, then the issuing CA.
  std::string key_file;    // PEM private key.
};

class CertFactory {
 public:
  // Creates `directory` if needed and a CA inside it.
  static absl::StatusOr<CertFactory> Create(const std::string& directory);

  // A leaf signed by this factory's CA, naming `dns_names` ("IP:192.0.2.1" for an address
  // entry); the first is also its CN. Validity is [now + not_before_days,
  // now + not_after_days]; a negative not_after_days gives an expired certificate.
  absl::StatusOr<IssuedCertificate> Issue(const std::string& file_stem,
                                          const std::vector<std::string>& dns_names,
                                          KeyKind kind = KeyKind::kRsa2048,
                                          int not_before_days = -1, int not_after_days = 30);

  const std::string& ca_file() const { return ca_file_; }

 private:
  std::string directory_;
  std::string ca_file_;
  std::string ca_key_file_;
  int next_serial_ = 2;
};

// The first certificate of a PEM chain file (the leaf), as DER.
absl::StatusOr<std::string> ReadLeafDer(const std::string& chain_file);

// A fresh directory under $TMPDIR (or /tmp) for one test program.
std::string MakeTempDirectory(const std::string& prefix);

}  // namespace tlsweep::testing
