#include "backends/hello_parser.h"

#include <array>
#include <string>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {
namespace {

constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kClientHelloType = 1;
constexpr uint8_t kServerHelloType = 2;
constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtSupportedGroups = 10;
constexpr uint16_t kExtSignatureAlgorithms = 13;
constexpr uint16_t kExtSupportedVersions = 43;
constexpr uint16_t kExtKeyShare = 51;
constexpr uint16_t kScsvRenegotiation = 0x00FF;
constexpr uint16_t kScsvFallback = 0x5600;
// SHA-256("HelloRetryRequest"), the ServerHello.random that marks an HRR (RFC 8446 4.1.3).
constexpr std::array<uint8_t, 32> kHelloRetryRandom = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

// A bounds-checked reader over one message; every read fails cleanly past the end.
class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}
  bool U8(uint8_t& out) {
    if (data_.size() < 1) return false;
    out = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return true;
  }
  bool U16(uint16_t& out) {
    if (data_.size() < 2) return false;
    out =
        static_cast<uint16_t>(static_cast<uint8_t>(data_[0]) << 8 | static_cast<uint8_t>(data_[1]));
    data_.remove_prefix(2);
    return true;
  }
  bool Bytes(size_t n, absl::string_view& out) {
    if (data_.size() < n) return false;
    out = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool Vector8(absl::string_view& out) {
    uint8_t n;
    return U8(n) && Bytes(n, out);
  }
  bool Vector16(absl::string_view& out) {
    uint16_t n;
    return U16(n) && Bytes(n, out);
  }
  bool empty() const { return data_.empty(); }

 private:
  absl::string_view data_;
};

// Concatenates handshake-record payloads until one whole message of `type` is present.
absl::StatusOr<std::string> ExtractHandshakeMessage(absl::string_view records, uint8_t type) {
  std::string handshake;
  while (!records.empty()) {
    if (records.size() < 5) return absl::UnavailableError("partial TLS record header");
    const auto content_type = static_cast<uint8_t>(records[0]);
    const size_t length = static_cast<size_t>(static_cast<uint8_t>(records[3])) << 8 |
                          static_cast<uint8_t>(records[4]);
    if (content_type != kContentHandshake) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a handshake record, got content type ", content_type));
    }
    if (records.size() < 5 + length) return absl::UnavailableError("partial TLS record");
    const absl::string_view payload = records.substr(5, length);
    handshake.append(payload.data(), payload.size());
    records.remove_prefix(5 + length);
    if (handshake.size() >= 4) {
      const size_t message_length = static_cast<size_t>(static_cast<uint8_t>(handshake[1])) << 16 |
                                    static_cast<size_t>(static_cast<uint8_t>(handshake[2])) << 8 |
                                    static_cast<uint8_t>(handshake[3]);
      if (static_cast<uint8_t>(handshake[0]) != type) {
        return absl::InvalidArgumentError(absl::StrCat(
            "expected handshake message ", type, ", got ", static_cast<uint8_t>(handshake[0])));
      }
      if (handshake.size() >= 4 + message_length) return handshake.substr(4, message_length);
    }
  }
  return absl::UnavailableError("partial handshake message");
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed ", what));
}

}  // namespace

absl::StatusOr<ClientHello> ParseClientHello(absl::string_view records) {
  absl::StatusOr<std::string> message = ExtractHandshakeMessage(records, kClientHelloType);
  if (!message.ok()) return message.status();
  Reader reader(*message);
  ClientHello hello;
  uint16_t version;
  absl::string_view random, session_id, suites, compression, extensions;
  if (!reader.U16(version) || !reader.Bytes(32, random) || !reader.Vector8(session_id) ||
      !reader.Vector16(suites) || !reader.Vector8(compression)) {
    return Malformed("ClientHello");
  }
  hello.legacy_version = static_cast<TlsVersion>(version);
  Reader suite_reader(suites);
  uint16_t suite;
  while (suite_reader.U16(suite)) {
    if (suite == kScsvRenegotiation || suite == kScsvFallback || IsGrease(suite)) continue;
    hello.cipher_suites.push_back(suite);
  }
  if (reader.empty()) return hello;  // No extensions at all (SSLv3-style hello).
  if (!reader.Vector16(extensions)) return Malformed("ClientHello extensions");
  Reader ext_reader(extensions);
  uint16_t ext_type;
  absl::string_view ext_data;
  while (ext_reader.U16(ext_type) && ext_reader.Vector16(ext_data)) {
    Reader data(ext_data);
    absl::string_view list;
    uint16_t value;
    if (!IsGrease(ext_type)) hello.extensions.push_back(ext_type);
    switch (ext_type) {
      case kExtSignatureAlgorithms:
        if (!data.Vector16(list)) return Malformed("signature_algorithms");
        for (Reader items(list); items.U16(value);) {
          if (!IsGrease(value)) hello.signature_algorithms.push_back(value);
        }
        break;
      case kExtServerName:
        hello.has_server_name = true;
        break;
      case kExtSupportedVersions:
        if (!data.Vector8(list)) return Malformed("supported_versions");
        for (Reader items(list); items.U16(value);) {
          if (!IsGrease(value)) hello.supported_versions.push_back(static_cast<TlsVersion>(value));
        }
        break;
      case kExtSupportedGroups:
        if (!data.Vector16(list)) return Malformed("supported_groups");
        for (Reader items(list); items.U16(value);) {
          if (!IsGrease(value)) hello.supported_groups.push_back(value);
        }
        break;
      case kExtKeyShare: {
        if (!data.Vector16(list)) return Malformed("key_share");
        Reader items(list);
        absl::string_view key;
        while (items.U16(value) && items.Vector16(key)) {
          if (!IsGrease(value)) hello.key_share_groups.push_back(value);
        }
        break;
      }
      default:
        break;
    }
  }
  return hello;
}

absl::StatusOr<ServerHello> ParseServerHello(absl::string_view records) {
  absl::StatusOr<std::string> message = ExtractHandshakeMessage(records, kServerHelloType);
  if (!message.ok()) return message.status();
  Reader reader(*message);
  ServerHello hello;
  uint16_t version;
  uint8_t compression;
  absl::string_view random, session_id, extensions;
  if (!reader.U16(version) || !reader.Bytes(32, random) || !reader.Vector8(session_id) ||
      !reader.U16(hello.cipher_suite) || !reader.U8(compression)) {
    return Malformed("ServerHello");
  }
  hello.version = static_cast<TlsVersion>(version);
  hello.hello_retry_request =
      absl::string_view(reinterpret_cast<const char*>(kHelloRetryRandom.data()), 32) == random;
  if (reader.empty()) return hello;
  if (!reader.Vector16(extensions)) return Malformed("ServerHello extensions");
  Reader ext_reader(extensions);
  uint16_t ext_type;
  absl::string_view ext_data;
  while (ext_reader.U16(ext_type) && ext_reader.Vector16(ext_data)) {
    Reader data(ext_data);
    uint16_t value;
    if (ext_type == kExtSupportedVersions && data.U16(value)) {
      hello.version = static_cast<TlsVersion>(value);
    } else if (ext_type == kExtKeyShare && data.U16(value)) {
      hello.key_share_group = value;
    }
  }
  return hello;
}

}  // namespace tlsweep::backends
