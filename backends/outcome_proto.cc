#include "backends/outcome_proto.h"

#include <string>

#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"

namespace tlsweep::backends {

tlsweep::v1::TlsFailureClass FailureToProto(FailureClass failure) {
  // The proto enum mirrors FailureClass value for value.
  return static_cast<tlsweep::v1::TlsFailureClass>(static_cast<int>(failure));
}

tlsweep::v1::CertificateSummary CertificateToProto(const CertificateFacts& facts) {
  tlsweep::v1::CertificateSummary summary;
  summary.set_der(facts.der);
  if (!facts.parsed) return summary;
  summary.set_subject(facts.subject);
  summary.set_issuer(facts.issuer);
  summary.set_not_before_unix(facts.not_before_unix);
  summary.set_not_after_unix(facts.not_after_unix);
  for (const std::string& name : facts.dns_names) summary.add_dns_names(name);
  for (const std::string& address : facts.ip_addresses) summary.add_ip_addresses(address);
  summary.set_key_type(facts.key_type);
  summary.set_key_bits(facts.key_bits);
  summary.set_signature_algorithm(facts.signature_algorithm);
  summary.set_sha256_fingerprint(facts.sha256_hex);
  return summary;
}

tlsweep::v1::TlsHandshake HandshakeToProto(const HandshakeOutcome& outcome,
                                           absl::string_view backend,
                                           absl::string_view verified_name) {
  tlsweep::v1::TlsHandshake proto;
  proto.set_success(outcome.success);
  proto.set_backend(std::string(backend));
  proto.set_version(VersionToProto(outcome.version));
  if (outcome.suite_code != 0 || !outcome.library_suite_name.empty()) {
    tlsweep::v1::CipherSuite* suite = proto.mutable_suite();
    suite->set_code_point(outcome.suite_code);
    suite->set_iana_name(CipherSuiteName(outcome.suite_code));
    suite->set_library_name(outcome.library_suite_name);
  }
  if (outcome.group != 0) proto.set_group(GroupName(outcome.group));
  for (const CertificateFacts& facts : outcome.peer_chain) {
    *proto.add_peer_chain() = CertificateToProto(facts);
  }
  if (outcome.verification.performed) {
    tlsweep::v1::CertificateVerification* verification = proto.mutable_verification();
    verification->set_performed(true);
    verification->set_trusted(outcome.verification.trusted);
    verification->set_hostname_match(outcome.verification.hostname_match);
    verification->set_expired(outcome.verification.expired);
    verification->set_error(outcome.verification.error);
    verification->set_verified_name(std::string(verified_name));
  }
  proto.set_failure(FailureToProto(outcome.failure));
  proto.set_alert_code(outcome.alert_code);
  if (outcome.alert_code >= 0) {
    proto.set_alert_name(AlertName(outcome.alert_code));
    proto.set_alert_sent(outcome.alert_sent);
  }
  proto.set_library_error(outcome.library_error);
  return proto;
}

tlsweep::v1::Offer OfferToProto(const Offer& offer, absl::string_view backend) {
  tlsweep::v1::Offer proto;
  proto.set_backend(std::string(backend));
  for (TlsVersion version : offer.versions) proto.add_versions(VersionToProto(version));
  for (const OfferedSuite& offered : offer.suites) {
    tlsweep::v1::OfferedSuite* suite = proto.add_suites();
    suite->set_version(VersionToProto(offered.version));
    suite->set_code_point(offered.code_point);
    suite->set_iana_name(CipherSuiteName(offered.code_point));
    suite->set_library_name(offered.library_name);
    suite->set_never_completes(!offered.completes);
    if (const CipherSuiteInfo* info = FindCipherSuite(offered.code_point); info != nullptr) {
      suite->set_key_exchange(std::string(info->key_exchange));
      suite->set_authentication(std::string(info->authentication));
      suite->set_encryption(std::string(info->encryption));
      suite->set_mac(std::string(info->mac));
    }
  }
  for (uint16_t group : offer.groups) proto.add_groups(GroupName(group));
  return proto;
}

}  // namespace tlsweep::backends
