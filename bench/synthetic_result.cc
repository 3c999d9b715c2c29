#include "bench/synthetic_result.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "backends/outcome_proto.h"
#include "backends/plugin_loader.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::bench {
namespace {

namespace v1 = ::tlsweep::v1;

constexpr int kEndpoints = 4000;  // Distinct MX hosts the domains spread over.

// The DER of every certificate in a PEM file, in order.
absl::StatusOr<std::vector<std::string>> ReadDerChain(const std::string& pem_file) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(pem_file.c_str(), "r"), BIO_free);
  if (bio == nullptr) return absl::NotFoundError(absl::StrCat("cannot read ", pem_file));
  std::vector<std::string> chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    unsigned char* der = nullptr;
    const int length = i2d_X509(cert, &der);
    X509_free(cert);
    if (length <= 0) return absl::InternalError("i2d_X509 failed");
    chain.emplace_back(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
    OPENSSL_free(der);
  }
  if (chain.empty())
    return absl::InvalidArgumentError(absl::StrCat("no certificate in ", pem_file));
  return chain;
}

v1::TlsClientSettings DefaultCandidate() {
  v1::TlsClientSettings settings;
  settings.set_name("default");
  settings.set_backend("openssl");
  settings.set_source("--candidate");
  return settings;
}

}  // namespace

absl::StatusOr<SyntheticResults> SyntheticResults::Create(const std::string& directory) {
  absl::StatusOr<testing::CertFactory> factory = testing::CertFactory::Create(directory);
  if (!factory.ok()) return factory.status();
  absl::StatusOr<testing::IssuedCertificate> issued =
      factory->Issue("mx", {"mx1.provider.example", "mx2.provider.example"});
  if (!issued.ok()) return issued.status();
  absl::StatusOr<std::vector<std::string>> chain = ReadDerChain(issued->chain_file);
  if (!chain.ok()) return chain.status();

  v1::ProbeResult shape;
  shape.set_port(25);
  shape.set_probe_kind(tlsweep::v1::PROBE_KIND_STARTTLS);
  shape.set_attempts(1);
  shape.mutable_banner()->set_code(220);
  shape.mutable_ehlo()->set_code(250);
  shape.mutable_ehlo()->set_text(
      "mx1.provider.example Hello\nPIPELINING\nSIZE 52428800\nETRN\nSTARTTLS\nENHANCEDSTATUSCODES"
      "\n8BITMIME\nDSN\nSMTPUTF8\nCHUNKING");
  for (const char* keyword : {"PIPELINING", "SIZE", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                              "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}) {
    shape.add_ehlo_keywords(keyword);
  }
  shape.mutable_starttls()->set_code(220);
  shape.mutable_starttls()->set_text("2.0.0 Ready to start TLS");
  for (uint32_t code : {220, 250, 220}) shape.add_smtp_codes(code);
  v1::TlsHandshake* tls = shape.mutable_tls();
  tls->set_success(true);
  tls->set_backend("openssl");
  tls->set_version(v1::TLSV1_3);
  tls->mutable_suite()->set_code_point(0x1302);
  tls->mutable_suite()->set_iana_name("TLS_AES_256_GCM_SHA384");
  tls->mutable_suite()->set_library_name("TLS_AES_256_GCM_SHA384");
  tls->set_group("x25519");
  // Read by the OpenSSL plugin, as an agent's results are.
  static const absl::StatusOr<backends::BackendRegistry>* registry =
      new absl::StatusOr<backends::BackendRegistry>(
          backends::BackendRegistry::LoadDirectory(backends::ResolvePluginDirectory("")));
  if (!registry->ok()) return registry->status();
  absl::StatusOr<backends::Backend*> openssl = (*registry)->Get("openssl");
  if (!openssl.ok()) return openssl.status();
  for (const std::string& der : *chain) {
    *tls->add_peer_chain() = backends::CertificateToProto((*openssl)->DescribeCertificate(der));
  }
  v1::CertificateVerification* verification = tls->mutable_verification();
  verification->set_performed(true);
  verification->set_trusted(false);
  verification->set_hostname_match(true);
  verification->set_error("unable to get local issuer certificate");
  tls->set_alert_code(-1);
  return SyntheticResults(std::move(shape));
}

v1::ProbeResult SyntheticResults::RouteFor(const v1::ShardTarget& target) const {
  v1::ShardAssignment none;
  const v1::ProbeResult full = For(none, target);
  v1::ProbeResult route;
  route.set_target(full.target());
  route.set_domain(full.domain());
  route.set_mx_host(full.mx_host());
  route.set_mx_preference(full.mx_preference());
  route.set_address(full.address());
  route.set_port(full.port());
  route.set_provider(full.provider());
  route.set_line_number(full.line_number());
  route.set_probe_kind(tlsweep::v1::PROBE_KIND_ROUTE);
  return route;
}

v1::ProbeResult SyntheticResults::ForEndpoint(const v1::ShardAssignment& assignment,
                                              const v1::ShardEndpoint& endpoint,
                                              int candidate) const {
  v1::ShardTarget target;  // A stand-in for the shape's per-target fields.
  target.set_input(endpoint.mx_host());
  v1::ProbeResult result = For(assignment, target);
  result.set_target(endpoint.mx_host());
  result.clear_domain();
  result.clear_line_number();
  result.set_reused(false);
  result.set_mx_host(endpoint.mx_host());
  result.set_address(endpoint.address());
  result.set_port(endpoint.port());
  result.set_provider(endpoint.provider());
  result.mutable_banner()->set_text(absl::StrCat(endpoint.mx_host(), " ESMTP Postfix"));
  result.mutable_tls()->mutable_verification()->set_verified_name(endpoint.mx_host());
  if (candidate < assignment.profile().candidates_size()) {
    *result.mutable_tls_settings() = assignment.profile().candidates(candidate);
  }
  return result;
}

v1::ProbeResult SyntheticResults::For(const v1::ShardAssignment& assignment,
                                      const v1::ShardTarget& target) const {
  v1::ProbeResult result = shape_;
  const uint64_t line = target.line_number();
  const std::string& input = target.input();
  const std::string domain = absl::AsciiStrToLower(input.substr(0, input.find(',')));
  const uint64_t endpoint = (line * 2654435761u) % kEndpoints;
  result.set_target(input);
  result.set_domain(domain);
  result.set_mx_host(absl::StrCat("mx", endpoint % 3, ".provider", endpoint, ".example"));
  result.set_mx_preference(10);
  result.set_address(absl::StrCat("198.51.", endpoint / 250, ".", endpoint % 250));
  result.set_provider(absl::StrCat("provider", endpoint, ".example"));
  result.set_line_number(line);
  result.set_reused(line % 4 != 0);  // Most domains share an MX probed before.
  result.mutable_banner()->set_text(absl::StrCat(result.mx_host(), " ESMTP Postfix"));
  *result.mutable_tls_settings() = assignment.profile().candidates_size() > 0
                                       ? assignment.profile().candidates(0)
                                       : DefaultCandidate();
  result.mutable_tls()->mutable_verification()->set_verified_name(result.mx_host());
  v1::StageTimings* timings = result.mutable_timings();
  timings->set_dns_us(4'000 + line % 9'000);
  timings->set_connect_us(20'000 + line % 30'000);
  timings->set_banner_us(60'000 + line % 50'000);
  timings->set_ehlo_us(20'000 + line % 20'000);
  timings->set_starttls_us(20'000 + line % 20'000);
  timings->set_handshake_us(45'000 + line % 40'000);
  timings->set_total_us(timings->dns_us() + timings->connect_us() + timings->banner_us() +
                        timings->ehlo_us() + timings->starttls_us() + timings->handshake_us());
  result.set_started_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
  return result;
}

size_t SyntheticResults::typical_bytes() const {
  v1::ShardAssignment assignment;
  v1::ShardTarget target;
  target.set_line_number(123456);
  target.set_input("d123456.example,42");
  return For(assignment, target).ByteSizeLong();
}

}  // namespace tlsweep::bench
