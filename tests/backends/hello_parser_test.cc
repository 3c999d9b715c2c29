#include "backends/hello_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsweep::backends {
namespace {

// Builds a handshake record around `body` of handshake type `type`.
std::string Record(uint8_t type, const std::string& body) {
  std::string message;
  message.push_back(static_cast<char>(type));
  message.push_back(0);
  message.push_back(static_cast<char>(body.size() >> 8));
  message.push_back(static_cast<char>(body.size() & 0xff));
  message += body;
  std::string record = {22, 3, 1, static_cast<char>(message.size() >> 8),
                        static_cast<char>(message.size() & 0xff)};
  return record + message;
}

std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }

TEST(HelloParserTest, ParsesSuitesVersionsAndGroupsAndDropsGreaseAndScsv) {
  std::string body = U16(0x0303) + std::string(32, 'r') + std::string(1, '\0');
  const std::string suites = U16(0x0A0A) + U16(0x1301) + U16(0xC02F) + U16(0x00FF);
  body += U16(static_cast<uint16_t>(suites.size())) + suites + std::string("\x01\x00", 2);
  const std::string versions = std::string(1, 6) + U16(0x2A2A) + U16(0x0304) + U16(0x0303);
  const std::string groups_list = U16(0x001D) + U16(0x0017);
  const std::string groups = U16(static_cast<uint16_t>(groups_list.size())) + groups_list;
  std::string extensions = U16(43) + U16(static_cast<uint16_t>(versions.size())) + versions +
                           U16(10) + U16(static_cast<uint16_t>(groups.size())) + groups;
  body += U16(static_cast<uint16_t>(extensions.size())) + extensions;

  absl::StatusOr<ClientHello> hello = ParseClientHello(Record(1, body));
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->cipher_suites, (std::vector<uint16_t>{0x1301, 0xC02F}));
  EXPECT_EQ(hello->supported_versions,
            (std::vector<TlsVersion>{TlsVersion::kTls1_3, TlsVersion::kTls1_2}));
  EXPECT_EQ(hello->supported_groups, (std::vector<uint16_t>{29, 23}));
}

TEST(HelloParserTest, PartialInputAsksForMoreAndGarbageIsInvalid) {
  std::string body = U16(0x0303) + std::string(32, 'r');
  const std::string record = Record(1, body);
  EXPECT_TRUE(absl::IsUnavailable(ParseClientHello(record.substr(0, 20)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseClientHello(record).status()));  // Truncated body.
  EXPECT_TRUE(absl::IsInvalidArgument(ParseClientHello("220 hello\r\n").status()));
}

TEST(HelloParserTest, ServerHelloVersionComesFromSupportedVersions) {
  std::string body = U16(0x0303) + std::string(32, 's') + std::string(1, '\0') + U16(0x1302) +
                     std::string(1, '\0');
  const std::string extensions = U16(43) + U16(2) + U16(0x0304) + U16(51) + U16(2) + U16(0x001D);
  body += U16(static_cast<uint16_t>(extensions.size())) + extensions;
  absl::StatusOr<ServerHello> hello = ParseServerHello(Record(2, body));
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->version, TlsVersion::kTls1_3);
  EXPECT_EQ(hello->cipher_suite, 0x1302);
  EXPECT_EQ(hello->key_share_group, 29);
  EXPECT_FALSE(hello->hello_retry_request);
}

}  // namespace
}  // namespace tlsweep::backends
