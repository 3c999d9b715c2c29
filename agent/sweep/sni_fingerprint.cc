#include "agent/sweep/sni_fingerprint.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tlsweep::agent {
namespace {

constexpr const char* kParts[] = {"outcome", "TLS version", "cipher suite", "certificate"};

std::vector<std::string> Split(const std::string& fingerprint) {
  std::vector<std::string> parts = absl::StrSplit(fingerprint, '|');
  parts.resize(4);
  return parts;
}

}  // namespace

std::string SniFingerprint(const v1::ProbeResult& result) {
  const v1::TlsHandshake& tls = result.tls();
  const std::string leaf = tls.peer_chain_size() > 0 ? tls.peer_chain(0).sha256_fingerprint() : "";
  return absl::StrCat(static_cast<int>(result.failure()), "|", static_cast<int>(tls.version()), "|",
                      tls.suite().code_point(), "|", leaf);
}

bool SniInconclusive(const v1::ProbeResult& result) {
  switch (result.failure()) {
    case v1::TCP_REFUSED:
    case v1::TCP_TIMEOUT:
    case v1::TCP_ERROR:
    case v1::BANNER_TIMEOUT:
    case v1::SMTP_TIMEOUT:
    case v1::SMTP_REJECTED:  // A 4xx at connect or EHLO: the server is busy, not answering TLS.
    case v1::TLS_HANDSHAKE_TIMEOUT:
    case v1::RATE_LIMITED:
    case v1::OPTED_OUT:
    case v1::ADDRESS_NOT_ALLOWED:
    case v1::PROBE_CONFIG_ERROR:
    case v1::AGENT_LOST:
      return true;
    default:
      return false;
  }
}

std::string SniDifference(const std::string& reference, const std::string& other) {
  const std::vector<std::string> a = Split(reference);
  const std::vector<std::string> b = Split(other);
  std::vector<std::string> differs;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) differs.push_back(kParts[i]);
  }
  if (differs.empty()) return "";
  return absl::StrCat(absl::StrJoin(differs, ", "), differs.size() == 1 ? " differs" : " differ");
}

bool SniNegotiationDiffers(const std::string& reference, const std::string& other) {
  const std::vector<std::string> a = Split(reference);
  const std::vector<std::string> b = Split(other);
  return a[0] != b[0] || a[1] != b[1] || a[2] != b[2];
}

}  // namespace tlsweep::agent
