#include "tests/backends/rawhello/raw_test_support.h"

#include "backends/rawhello/byte_writer.h"

namespace tlsweep::backends::rawhello::testing {

std::string Record(uint8_t content_type, absl::string_view payload, uint16_t version) {
  ByteWriter out;
  out.U8(content_type);
  out.U16(version);
  out.Open(2);
  out.Bytes(payload);
  out.Close();
  return out.Take();
}

std::string Handshake(uint8_t message_type, absl::string_view body) {
  ByteWriter out;
  out.U8(message_type);
  out.Open(3);
  out.Bytes(body);
  out.Close();
  return out.Take();
}

std::string AlertRecord(uint8_t level, uint8_t code) {
  const char payload[] = {static_cast<char>(level), static_cast<char>(code)};
  return Record(21, absl::string_view(payload, 2));
}

std::string ServerHelloBody(const ServerHelloSpec& spec) {
  static const std::string kHrrRandom(
      "\xCF\x21\xAD\x74\xE5\x9A\x61\x11\xBE\x1D\x8C\x02\x1E\x65\xB8\x91"
      "\xC2\xA2\x11\x16\x7A\xBB\x8C\x5E\x07\x9E\x09\xE2\xC8\xA8\x33\x9C",
      32);
  ByteWriter out;
  out.U16(spec.legacy_version);
  out.Bytes(spec.hello_retry_request ? kHrrRandom : spec.random);
  out.Open(1);
  out.Close();
  out.U16(spec.suite);
  out.U8(spec.compression);
  if (!spec.extensions) return out.Take();
  out.Open(2);
  if (spec.supported_version != 0) {
    out.U16(43);
    out.Open(2);
    out.U16(spec.supported_version);
    out.Close();
  }
  if (spec.key_share_group != 0) {
    out.U16(51);
    out.Open(2);
    out.U16(spec.key_share_group);
    if (!spec.hello_retry_request) {
      out.Open(2);
      out.Bytes(std::string(32, 'k'));
      out.Close();
    }
    out.Close();
  }
  out.U16(0xFF01);  // renegotiation_info, empty.
  out.Open(2);
  out.Open(1);
  out.Close();
  out.Close();
  out.Close();
  return out.Take();
}

std::string ServerHelloRecord(const ServerHelloSpec& spec) {
  return Record(22, Handshake(2, ServerHelloBody(spec)));
}

std::string CertificateBody(const std::vector<std::string>& ders) {
  ByteWriter out;
  out.Open(3);
  for (const std::string& der : ders) {
    out.Open(3);
    out.Bytes(der);
    out.Close();
  }
  out.Close();
  return out.Take();
}

namespace {

void Signature(ByteWriter& out, uint16_t scheme) {
  if (scheme != 0) out.U16(scheme);
  out.Open(2);
  out.Bytes(std::string(64, 's'));
  out.Close();
}

}  // namespace

std::string EcdheKeyExchangeBody(uint16_t group, uint16_t scheme) {
  ByteWriter out;
  out.U8(3);  // named_curve
  out.U16(group);
  out.Open(1);
  out.Bytes(std::string(32, 'p'));
  out.Close();
  Signature(out, scheme);
  return out.Take();
}

std::string DheKeyExchangeBody(size_t prime_bytes, uint16_t scheme) {
  ByteWriter out;
  out.Open(2);
  out.U8(0x80);
  out.Bytes(std::string(prime_bytes - 1, '\x01'));
  out.Close();
  out.Open(2);
  out.U8(2);
  out.Close();
  out.Open(2);
  out.Bytes(std::string(prime_bytes, '\x05'));
  out.Close();
  Signature(out, scheme);
  return out.Take();
}

std::string ServerHelloDone() { return Handshake(14, ""); }

std::string Sslv2ServerHello(const std::vector<uint32_t>& specs, absl::string_view certificate) {
  ByteWriter body;
  body.U8(4);  // SERVER-HELLO
  body.U8(0);  // No session hit.
  body.U8(1);  // X.509 certificate.
  body.U16(0x0002);
  body.U16(static_cast<uint16_t>(certificate.size()));
  body.U16(static_cast<uint16_t>(specs.size() * 3));
  body.U16(16);
  body.Bytes(certificate);
  for (uint32_t spec : specs) {
    body.U8(static_cast<uint8_t>(spec >> 16));
    body.U16(static_cast<uint16_t>(spec));
  }
  body.Bytes(std::string(16, 'c'));  // Connection id.
  ByteWriter record;
  record.U16(static_cast<uint16_t>(0x8000 | body.data().size()));
  record.Bytes(body.data());
  return record.Take();
}

std::string Sslv2Error(uint16_t code) {
  ByteWriter record;
  record.U16(0x8003);
  record.U8(0);  // ERROR
  record.U16(code);
  return record.Take();
}

}  // namespace tlsweep::backends::rawhello::testing
