#include "backends/rawhello/hello_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "backends/rawhello/byte_writer.h"

namespace tlsweep::backends::rawhello {
namespace {

constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kClientHelloType = 1;
constexpr size_t kMaxFragment = 16384;
constexpr size_t kMaxSslv2Record = 0x7FFF;

constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtSupportedGroups = 10;
constexpr uint16_t kExtEcPointFormats = 11;
constexpr uint16_t kExtSignatureAlgorithms = 13;
constexpr uint16_t kExtEncryptThenMac = 22;
constexpr uint16_t kExtExtendedMasterSecret = 23;
constexpr uint16_t kExtSessionTicket = 35;
constexpr uint16_t kExtSupportedVersions = 43;
constexpr uint16_t kExtPskKeyExchangeModes = 45;
constexpr uint16_t kExtKeyShare = 51;

void EmptyExtension(ByteWriter& out, uint16_t type) {
  out.U16(type);
  out.U16(0);
}

// Extensions in the order OpenSSL 3.0 writes them, so that a server that fingerprints or
// mishandles order sees a familiar hello.
void WriteExtensions(const HelloPlan& plan, const HelloSecrets& secrets, ByteWriter& out) {
  out.Open(2);
  if (!plan.sni.empty()) {
    out.U16(kExtServerName);
    out.Open(2);
    out.Open(2);
    out.U8(0);  // host_name
    out.Open(2);
    out.Bytes(plan.sni);
    out.Close();
    out.Close();
    out.Close();
  }
  if (plan.ec_point_formats) {
    out.U16(kExtEcPointFormats);
    out.Open(2);
    out.Open(1);
    out.U8(0);  // uncompressed
    out.U8(1);  // ansiX962_compressed_prime
    out.U8(2);  // ansiX962_compressed_char2
    out.Close();
    out.Close();
  }
  if (!plan.supported_groups.empty()) {
    out.U16(kExtSupportedGroups);
    out.Open(2);
    out.Open(2);
    for (uint16_t group : plan.supported_groups) out.U16(group);
    out.Close();
    out.Close();
  }
  EmptyExtension(out, kExtSessionTicket);
  EmptyExtension(out, kExtEncryptThenMac);
  EmptyExtension(out, kExtExtendedMasterSecret);
  if (!plan.signature_schemes.empty()) {
    out.U16(kExtSignatureAlgorithms);
    out.Open(2);
    out.Open(2);
    for (uint16_t scheme : plan.signature_schemes) out.U16(scheme);
    out.Close();
    out.Close();
  }
  if (plan.tls13) {
    out.U16(kExtSupportedVersions);
    out.Open(2);
    out.Open(1);
    for (auto it = plan.versions.rbegin(); it != plan.versions.rend(); ++it) {
      if (*it != TlsVersion::kSsl3) out.U16(static_cast<uint16_t>(*it));
    }
    out.Close();
    out.Close();
    out.U16(kExtPskKeyExchangeModes);
    out.Open(2);
    out.Open(1);
    out.U8(1);  // psk_dhe_ke
    out.Close();
    out.Close();
    out.U16(kExtKeyShare);
    out.Open(2);
    out.Open(2);
    for (const KeyShareEntry& share : secrets.key_shares) {
      out.U16(share.group);
      out.Open(2);
      out.Bytes(share.public_key);
      out.Close();
    }
    out.Close();
    out.Close();
  }
  out.Close();
}

absl::StatusOr<std::string> WriteTlsHello(const HelloPlan& plan, const HelloSecrets& secrets) {
  ByteWriter message;
  message.U8(kClientHelloType);
  message.Open(3);
  message.U16(plan.client_version);
  message.Bytes(secrets.random);
  message.Open(1);
  message.Bytes(secrets.session_id);
  message.Close();
  message.Open(2);
  for (uint16_t suite : plan.suites) message.U16(suite);
  message.Close();
  message.Open(1);
  message.U8(0);  // null compression
  message.Close();
  if (plan.has_extensions()) WriteExtensions(plan, secrets, message);
  message.Close();

  const std::string& handshake = message.data();
  if (plan.suites.size() * 2 > 0xFFFE || handshake.size() > 0xFFFFFF) {
    return absl::InvalidArgumentError("ClientHello too large");
  }
  ByteWriter records;
  for (size_t at = 0; at < handshake.size(); at += kMaxFragment) {
    records.U8(kContentHandshake);
    records.U16(plan.record_version);
    records.Open(2);
    records.Bytes(absl::string_view(handshake).substr(at, kMaxFragment));
    records.Close();
  }
  return records.Take();
}

absl::StatusOr<std::string> WriteSslv2Hello(const HelloPlan& plan, const HelloSecrets& secrets) {
  const bool pure = plan.client_version == kSsl2WireVersion;
  const absl::string_view challenge = absl::string_view(secrets.random).substr(0, pure ? 16 : 32);
  ByteWriter specs;
  for (uint32_t spec : plan.sslv2_specs) {
    specs.U8(static_cast<uint8_t>(spec >> 16));
    specs.U16(static_cast<uint16_t>(spec));
  }
  for (uint16_t suite : plan.suites) {
    specs.U8(0);
    specs.U16(suite);
  }
  ByteWriter body;
  body.U8(1);  // CLIENT-HELLO
  body.U16(plan.client_version);
  body.U16(static_cast<uint16_t>(specs.data().size()));
  body.U16(0);  // No session to resume.
  body.U16(static_cast<uint16_t>(challenge.size()));
  body.Bytes(specs.data());
  body.Bytes(challenge);
  if (body.data().size() > kMaxSslv2Record) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSLv2 CLIENT-HELLO of ", body.data().size(), " bytes does not fit a record"));
  }
  ByteWriter record;
  record.U16(static_cast<uint16_t>(0x8000 | body.data().size()));  // 2-byte header, no padding.
  record.Bytes(body.data());
  return record.Take();
}

}  // namespace

absl::StatusOr<std::string> WriteClientHello(const HelloPlan& plan, const HelloSecrets& secrets) {
  if (secrets.random.size() != 32)
    return absl::InvalidArgumentError("client random must be 32 bytes");
  if (secrets.key_shares.size() != plan.key_share_groups.size()) {
    return absl::InvalidArgumentError("one key share per planned key-share group");
  }
  if (plan.format == HelloFormat::kSslv2) return WriteSslv2Hello(plan, secrets);
  return WriteTlsHello(plan, secrets);
}

}  // namespace tlsweep::backends::rawhello
