// The hellos the rawhello backend writes: what Expand reports is what goes on the wire (read back
// with the project's own ClientHello parser), each version gets the extensions a real client of
// that version sends, and the SSLv2 forms are well-formed SSLv2 CLIENT-HELLO records.
#include "backends/rawhello/hello_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/cipher_suite_table.h"
#include "backends/hello_parser.h"
#include "backends/rawhello/byte_reader.h"
#include "backends/rawhello/cipher_list.h"
#include "backends/rawhello/hello_plan.h"

namespace tlsweep::backends::rawhello {
namespace {

using ::testing::ElementsAre;

// Fixed "random" parts: the writer is deterministic, the engine draws them from libcrypto.
HelloSecrets FixedSecrets(const HelloPlan& plan) {
  HelloSecrets secrets;
  secrets.random = std::string(32, '\x42');
  if (plan.tls13) secrets.session_id = std::string(32, '\x17');
  for (uint16_t group : plan.key_share_groups) secrets.key_shares.push_back({group, "key"});
  return secrets;
}

std::string Write(const HelloPlan& plan) {
  absl::StatusOr<std::string> hello = WriteClientHello(plan, FixedSecrets(plan));
  EXPECT_TRUE(hello.ok()) << hello.status();
  return hello.ok() ? *hello : "";
}

HelloPlan Plan(const ClientConfig& config) {
  absl::StatusOr<HelloPlan> plan = PlanHello(config);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : HelloPlan{};
}

// The handshake message of a TLS hello, from its records.
std::string HandshakeMessage(absl::string_view records) {
  std::string message;
  ByteReader reader(records);
  while (!reader.empty()) {
    uint8_t type;
    uint16_t version;
    absl::string_view fragment;
    if (!reader.U8(type) || !reader.U16(version) || !reader.Vector16(fragment)) break;
    message.append(fragment.data(), fragment.size());
  }
  return message;
}

struct HelloLayout {
  std::vector<uint16_t> suites;  // As written, SCSVs included.
  std::string session_id;
  bool has_extension_block = false;
  std::vector<uint16_t> extensions;
};

HelloLayout Layout(absl::string_view records) {
  HelloLayout layout;
  const std::string message = HandshakeMessage(records);
  ByteReader reader(absl::string_view(message).substr(4));
  uint16_t version;
  absl::string_view random, session_id, suites, compression, extensions;
  EXPECT_TRUE(reader.U16(version) && reader.Bytes(32, random) && reader.Vector8(session_id) &&
              reader.Vector16(suites) && reader.Vector8(compression));
  layout.session_id = std::string(session_id);
  for (ByteReader items(suites); !items.empty();) {
    uint16_t suite;
    if (!items.U16(suite)) break;
    layout.suites.push_back(suite);
  }
  if (reader.empty()) return layout;
  layout.has_extension_block = true;
  EXPECT_TRUE(reader.Vector16(extensions));
  EXPECT_TRUE(reader.empty());
  for (ByteReader items(extensions); !items.empty();) {
    uint16_t type;
    absl::string_view data;
    if (!items.U16(type) || !items.Vector16(data)) break;
    layout.extensions.push_back(type);
  }
  return layout;
}

// Expand's offer, checked against the hello read back off the wire.
void ExpectExpandMatchesWire(const ClientConfig& config, const std::string& label) {
  SCOPED_TRACE(label);
  const HelloPlan plan = Plan(config);
  const std::string records = Write(plan);
  absl::StatusOr<ClientHello> parsed = ParseClientHello(records);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Offer offer = OfferOf(plan);

  EXPECT_EQ(static_cast<uint16_t>(parsed->legacy_version), plan.client_version);
  // Every suite Expand lists is on the wire, per version in wire order; every suite on the wire
  // (but TLS_NULL_WITH_NULL_NULL, which no server may pick) is listed at some version.
  for (TlsVersion version : offer.versions) {
    size_t wire_at = 0;
    for (const OfferedSuite& suite : offer.suites) {
      if (suite.version != version) continue;
      auto found = std::find(parsed->cipher_suites.begin() + static_cast<long>(wire_at),
                             parsed->cipher_suites.end(), suite.code_point);
      ASSERT_NE(found, parsed->cipher_suites.end())
          << CipherSuiteName(suite.code_point) << " at " << TlsVersionName(version);
      wire_at = static_cast<size_t>(found - parsed->cipher_suites.begin()) + 1;
    }
  }
  for (uint16_t code : parsed->cipher_suites) {
    if (code == 0x0000) continue;
    EXPECT_TRUE(std::any_of(offer.suites.begin(), offer.suites.end(),
                            [&](const OfferedSuite& suite) { return suite.code_point == code; }))
        << CipherSuiteName(code) << " is on the wire but not in Expand";
  }
  EXPECT_EQ(offer.groups, parsed->supported_groups);
  if (plan.tls13) {
    std::vector<TlsVersion> newest_first(plan.versions.rbegin(), plan.versions.rend());
    newest_first.erase(std::remove(newest_first.begin(), newest_first.end(), TlsVersion::kSsl3),
                       newest_first.end());
    EXPECT_EQ(parsed->supported_versions, newest_first);
    EXPECT_EQ(parsed->key_share_groups, plan.key_share_groups);
  } else {
    EXPECT_TRUE(parsed->supported_versions.empty());
    EXPECT_TRUE(parsed->key_share_groups.empty());
  }
  EXPECT_EQ(parsed->has_server_name, !config.sni.empty() && plan.has_extensions());
}

TEST(HelloWriterTest, ExpandMatchesTheWireForEveryKindOfConfig) {
  ClientConfig defaults;
  ExpectExpandMatchesWire(defaults, "defaults");

  ClientConfig legacy;
  legacy.legacy = true;
  legacy.sni = "mx.example.test";
  ExpectExpandMatchesWire(legacy, "legacy: SSLv3..TLSv1.3, every table suite");

  ClientConfig tls12;
  tls12.ciphers.openssl_ciphers =
      "ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA:RC4-MD5:EXP-RC4-MD5:0x0000:0xFEFE:AES128-SHA256";
  tls12.min_version = TlsVersion::kTls1_0;
  tls12.max_version = TlsVersion::kTls1_2;
  tls12.groups = {24, 23, 256};
  tls12.sni = "mx.example.test";
  ExpectExpandMatchesWire(tls12, "TLSv1..TLSv1.2, explicit list");

  ClientConfig tls13;
  tls13.ciphers.openssl_ciphersuites = "TLS_AES_128_CCM_8_SHA256:TLS_AES_256_GCM_SHA384";
  tls13.min_version = TlsVersion::kTls1_3;
  tls13.groups = {30, 25, 257};
  ExpectExpandMatchesWire(tls13, "TLSv1.3 only");

  ClientConfig ssl3;
  ssl3.min_version = TlsVersion::kSsl3;
  ssl3.max_version = TlsVersion::kSsl3;
  ExpectExpandMatchesWire(ssl3, "SSLv3 only");
}

TEST(HelloWriterTest, Tls12HelloHasTheExtensionsOfAnOpensslClientAndTheScsvLast) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-SHA";
  config.max_version = TlsVersion::kTls1_2;
  config.sni = "mx.example.test";
  const HelloPlan plan = Plan(config);
  const std::string records = Write(plan);
  EXPECT_EQ(records.substr(0, 3), std::string("\x16\x03\x01", 3)) << "record version TLS 1.0";
  const HelloLayout layout = Layout(records);
  EXPECT_THAT(layout.suites, ElementsAre(0xC02F, 0x0033, 0x00FF));
  EXPECT_TRUE(layout.session_id.empty());
  // server_name, ec_point_formats, supported_groups, session_ticket, encrypt_then_mac,
  // extended_master_secret, signature_algorithms.
  EXPECT_THAT(layout.extensions, ElementsAre(0, 11, 10, 35, 22, 23, 13));
  // OpenSSL 3.0 keeps the RFC 7919 groups for TLS 1.3.
  EXPECT_THAT(plan.supported_groups, ElementsAre(29, 23, 30, 25, 24));
}

TEST(HelloWriterTest, Tls13HelloCarriesVersionsKeySharesAndACompatibilitySessionId) {
  ClientConfig config;
  config.min_version = TlsVersion::kTls1_2;
  config.groups = {29, 23};
  const HelloPlan plan = Plan(config);
  EXPECT_THAT(plan.key_share_groups, ElementsAre(29)) << "one share, for the first group";
  const HelloLayout layout = Layout(Write(plan));
  EXPECT_EQ(layout.session_id.size(), 32u);
  EXPECT_THAT(layout.extensions, ElementsAre(11, 10, 35, 22, 23, 13, 43, 45, 51));
  EXPECT_EQ(std::vector<uint16_t>(layout.suites.begin(), layout.suites.begin() + 5),
            DefaultTls13Suites())
      << "TLS 1.3 suites first, as OpenSSL writes them";
}

TEST(HelloWriterTest, WithoutEccSuitesOrTls13NoGroupsAreSentAndBelowTls12NoSignatureSchemes) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "AES128-SHA:DHE-RSA-AES256-SHA";
  config.max_version = TlsVersion::kTls1_1;
  const HelloLayout layout = Layout(Write(Plan(config)));
  EXPECT_THAT(layout.extensions, ElementsAre(35, 22, 23));
}

TEST(HelloWriterTest, Ssl3HelloHasNoExtensionsAndAnSsl3Record) {
  ClientConfig config;
  config.min_version = TlsVersion::kSsl3;
  config.max_version = TlsVersion::kSsl3;
  config.sni = "mx.example.test";
  const HelloPlan plan = Plan(config);
  const std::string records = Write(plan);
  EXPECT_EQ(records.substr(0, 3), std::string("\x16\x03\x00", 3));
  const HelloLayout layout = Layout(records);
  EXPECT_FALSE(layout.has_extension_block);
  EXPECT_EQ(layout.suites.back(), 0x00FF) << "the SCSV is how SSLv3 hellos signal RFC 5746";
  for (uint16_t code : layout.suites) {
    const CipherSuiteInfo* suite = FindCipherSuite(code);
    if (suite != nullptr) {
      EXPECT_EQ(suite->min_version, TlsVersion::kSsl3) << suite->iana_name;
    }
  }
}

TEST(HelloWriterTest, AHelloLargerThanARecordIsSplitAcrossRecords) {
  ClientConfig config;
  config.max_version = TlsVersion::kTls1_2;
  std::string list;
  for (int code = 0x4000; code < 0x4000 + 9000; ++code) {
    absl::StrAppend(&list, list.empty() ? "" : ":", absl::StrFormat("0x%04X", code));
  }
  config.ciphers.openssl_ciphers = list;
  const std::string records = Write(Plan(config));
  EXPECT_GT(records.size(), 16384u + 5);
  EXPECT_EQ(records[16384 + 5], '\x16') << "a second handshake record";
  absl::StatusOr<ClientHello> parsed = ParseClientHello(records);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  // The parser drops the signalling and GREASE values the range holds: 0x4A4A, 0x5600, 0x5A5A.
  EXPECT_EQ(parsed->cipher_suites.size(), 9000u - 3);
}

// An SSLv2 CLIENT-HELLO read back field by field (the SSL 2.0 draft, section 2.5).
struct Sslv2Hello {
  uint16_t version = 0;
  std::vector<uint32_t> specs;
  size_t session_id_length = 0;
  std::string challenge;
};

bool ParseSslv2Hello(absl::string_view record, Sslv2Hello& hello) {
  if (record.size() < 2 || (static_cast<uint8_t>(record[0]) & 0x80) == 0) return false;
  const size_t length = (static_cast<size_t>(static_cast<uint8_t>(record[0]) & 0x7F) << 8) |
                        static_cast<uint8_t>(record[1]);
  if (record.size() != 2 + length) return false;
  ByteReader reader(record.substr(2));
  uint8_t type;
  uint16_t specs_length, session_length, challenge_length;
  absl::string_view specs, session, challenge;
  if (!reader.U8(type) || type != 1 || !reader.U16(hello.version) || !reader.U16(specs_length) ||
      !reader.U16(session_length) || !reader.U16(challenge_length) || specs_length % 3 != 0 ||
      !reader.Bytes(specs_length, specs) || !reader.Bytes(session_length, session) ||
      !reader.Bytes(challenge_length, challenge) || !reader.empty() || challenge_length < 16 ||
      challenge_length > 32) {
    return false;
  }
  for (ByteReader items(specs); !items.empty();) {
    uint8_t high;
    uint16_t low;
    if (!items.U8(high) || !items.U16(low)) return false;
    hello.specs.push_back(static_cast<uint32_t>(high) << 16 | low);
  }
  hello.session_id_length = session_length;
  hello.challenge = std::string(challenge);
  return true;
}

TEST(HelloWriterTest, PureSslv2HelloIsAWellFormedClientHelloRecord) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "SSLv2";
  config.sni = "ignored.example.test";
  const HelloPlan plan = Plan(config);
  EXPECT_EQ(plan.format, HelloFormat::kSslv2);
  EXPECT_TRUE(plan.versions.empty());
  EXPECT_TRUE(OfferOf(plan).suites.empty()) << "TlsVersion cannot say SSLv2";
  Sslv2Hello hello;
  ASSERT_TRUE(ParseSslv2Hello(Write(plan), hello));
  EXPECT_EQ(hello.version, 0x0002);
  EXPECT_EQ(hello.specs, plan.sslv2_specs);
  EXPECT_EQ(hello.specs.size(), 8u);
  EXPECT_EQ(hello.session_id_length, 0u);
  EXPECT_EQ(hello.challenge, std::string(16, '\x42'));
}

TEST(HelloWriterTest, Sslv2CompatibleHelloCarriesTlsSuitesAsThreeByteSpecs) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "SSL_CK_DES_192_EDE3_CBC_WITH_MD5:AES128-SHA:DES-CBC3-SHA";
  config.max_version = TlsVersion::kTls1_2;
  const HelloPlan plan = Plan(config);
  EXPECT_EQ(plan.format, HelloFormat::kSslv2);
  EXPECT_EQ(plan.client_version, 0x0303);
  Sslv2Hello hello;
  ASSERT_TRUE(ParseSslv2Hello(Write(plan), hello));
  EXPECT_EQ(hello.version, 0x0303);
  EXPECT_THAT(hello.specs, ElementsAre(0x0700C0, 0x00002F, 0x00000A, 0x0000FF));
  EXPECT_EQ(hello.challenge.size(), 32u) << "the challenge becomes the TLS client random";
  const Offer offer = OfferOf(plan);
  EXPECT_EQ(offer.versions.back(), TlsVersion::kTls1_2);
}

TEST(HelloWriterTest, ConfigsThatCannotBeWrittenAreRefused) {
  ClientConfig gnutls_only;
  gnutls_only.ciphers.gnutls_priority = "NORMAL";
  EXPECT_TRUE(absl::IsInvalidArgument(PlanHello(gnutls_only).status()));

  ClientConfig inverted;
  inverted.min_version = TlsVersion::kTls1_3;
  inverted.max_version = TlsVersion::kTls1_2;
  EXPECT_TRUE(absl::IsInvalidArgument(PlanHello(inverted).status()));

  ClientConfig nothing_left;
  nothing_left.ciphers.openssl_ciphers = "ECDHE-RSA-AES128-GCM-SHA256";  // TLS 1.2 and later.
  nothing_left.max_version = TlsVersion::kTls1_1;
  EXPECT_TRUE(absl::IsInvalidArgument(PlanHello(nothing_left).status()));

  ClientConfig v2_tls13;
  v2_tls13.ciphers.openssl_ciphers = "SSLv2:AES128-SHA";
  v2_tls13.min_version = TlsVersion::kTls1_3;
  EXPECT_TRUE(absl::IsInvalidArgument(PlanHello(v2_tls13).status()));

  ClientConfig unknown_version;
  unknown_version.max_version = static_cast<TlsVersion>(0x0305);
  EXPECT_TRUE(absl::IsInvalidArgument(PlanHello(unknown_version).status()));
}

}  // namespace
}  // namespace tlsweep::backends::rawhello
