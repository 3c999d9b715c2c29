#include "agent/policy/address_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace tlsweep::agent {
namespace {

struct ClassCase {
  const char* address;
  AddressClass expected;
};

class ClassifyAddressTest : public testing::TestWithParam<ClassCase> {};

TEST_P(ClassifyAddressTest, Classifies) {
  const asio::ip::address address = asio::ip::make_address(GetParam().address);
  EXPECT_EQ(AddressClassName(ClassifyAddress(address)), AddressClassName(GetParam().expected))
      << GetParam().address;
  EXPECT_EQ(IsPublicAddress(address), GetParam().expected == AddressClass::kPublic);
}

constexpr AddressClass kPublic = AddressClass::kPublic;
constexpr AddressClass kPrivate = AddressClass::kPrivate;
constexpr AddressClass kLoopback = AddressClass::kLoopback;
constexpr AddressClass kLinkLocal = AddressClass::kLinkLocal;
constexpr AddressClass kMulticast = AddressClass::kMulticast;
constexpr AddressClass kReserved = AddressClass::kReserved;

INSTANTIATE_TEST_SUITE_P(
    Ipv4, ClassifyAddressTest,
    testing::Values(ClassCase{"8.8.8.8", kPublic}, ClassCase{"1.1.1.1", kPublic},
                    ClassCase{"0.0.0.0", kReserved}, ClassCase{"0.255.255.255", kReserved},
                    ClassCase{"1.0.0.0", kPublic}, ClassCase{"9.255.255.255", kPublic},
                    ClassCase{"10.0.0.0", kPrivate}, ClassCase{"10.1.2.3", kPrivate},
                    ClassCase{"10.255.255.255", kPrivate}, ClassCase{"11.0.0.0", kPublic},
                    ClassCase{"100.63.255.255", kPublic}, ClassCase{"100.64.0.0", kReserved},
                    ClassCase{"100.127.255.255", kReserved}, ClassCase{"100.128.0.0", kPublic},
                    ClassCase{"127.0.0.1", kLoopback}, ClassCase{"127.255.255.254", kLoopback},
                    ClassCase{"169.254.0.1", kLinkLocal}, ClassCase{"169.253.255.255", kPublic},
                    ClassCase{"169.255.0.0", kPublic}, ClassCase{"172.15.255.255", kPublic},
                    ClassCase{"172.16.0.0", kPrivate}, ClassCase{"172.31.255.255", kPrivate},
                    ClassCase{"172.32.0.0", kPublic}, ClassCase{"192.0.0.8", kReserved},
                    ClassCase{"192.0.1.1", kPublic}, ClassCase{"192.0.2.1", kReserved},
                    ClassCase{"192.88.99.1", kReserved}, ClassCase{"192.167.255.255", kPublic},
                    ClassCase{"192.168.0.1", kPrivate}, ClassCase{"192.168.255.255", kPrivate},
                    ClassCase{"192.169.0.0", kPublic}, ClassCase{"198.17.255.255", kPublic},
                    ClassCase{"198.18.0.0", kReserved}, ClassCase{"198.19.255.255", kReserved},
                    ClassCase{"198.20.0.0", kPublic}, ClassCase{"198.51.100.7", kReserved},
                    ClassCase{"203.0.113.255", kReserved}, ClassCase{"203.0.114.0", kPublic},
                    ClassCase{"223.255.255.255", kPublic}, ClassCase{"224.0.0.1", kMulticast},
                    ClassCase{"239.255.255.255", kMulticast}, ClassCase{"240.0.0.1", kReserved},
                    ClassCase{"255.255.255.255", kReserved}));

INSTANTIATE_TEST_SUITE_P(
    Ipv6, ClassifyAddressTest,
    testing::Values(ClassCase{"2a00:1450:4001:81c::200e", kPublic},
                    ClassCase{"2001:4860:4860::8888", kPublic}, ClassCase{"2600::1", kPublic},
                    ClassCase{"3ffe::1", kPublic}, ClassCase{"::", kReserved},
                    ClassCase{"::1", kLoopback}, ClassCase{"::2", kReserved},
                    ClassCase{"::8.8.8.8", kReserved},  // IPv4-compatible, deprecated
                    ClassCase{"64:ff9b::8.8.8.8", kReserved}, ClassCase{"100::1", kReserved},
                    ClassCase{"2001::1", kReserved}, ClassCase{"2001:1ff:ffff::1", kReserved},
                    ClassCase{"2001:200::1", kPublic}, ClassCase{"2001:db8::1", kReserved},
                    ClassCase{"2001:db8:ffff:ffff::1", kReserved},
                    ClassCase{"2001:db9::1", kPublic}, ClassCase{"2002:c000:0201::1", kReserved},
                    ClassCase{"3fff::1", kReserved}, ClassCase{"3fff:0fff::1", kReserved},
                    ClassCase{"3fff:1000::1", kPublic}, ClassCase{"4000::1", kReserved},
                    ClassCase{"5f00::1", kReserved}, ClassCase{"fc00::1", kPrivate},
                    ClassCase{"fdff:ffff::1", kPrivate}, ClassCase{"fe80::1", kLinkLocal},
                    ClassCase{"febf::1", kLinkLocal}, ClassCase{"fec0::1", kPrivate},
                    ClassCase{"ff02::1", kMulticast}, ClassCase{"1fff:ffff::1", kReserved}));

// Mapped addresses reach the IPv4 address they carry and are classified as it.
INSTANTIATE_TEST_SUITE_P(MappedIpv6, ClassifyAddressTest,
                         testing::Values(ClassCase{"::ffff:8.8.8.8", kPublic},
                                         ClassCase{"::ffff:10.1.2.3", kPrivate},
                                         ClassCase{"::ffff:127.0.0.1", kLoopback},
                                         ClassCase{"::ffff:169.254.1.1", kLinkLocal},
                                         ClassCase{"::ffff:224.0.0.1", kMulticast},
                                         ClassCase{"::ffff:192.0.2.1", kReserved},
                                         ClassCase{"::ffff:0.0.0.0", kReserved}));

TEST(CheckAddressAllowedTest, RefusesNonPublicUnlessAllowed) {
  const asio::ip::address private_address = asio::ip::make_address("10.1.2.3");
  absl::Status refused = CheckAddressAllowed(private_address, false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(),
            "refusing to connect to 10.1.2.3 (private address); use --allow-private for labs");
  EXPECT_TRUE(CheckAddressAllowed(private_address, true).ok());

  EXPECT_EQ(CheckAddressAllowed(asio::ip::make_address("::1"), false).message(),
            "refusing to connect to ::1 (loopback address); use --allow-private for labs");
  EXPECT_EQ(CheckAddressAllowed(asio::ip::make_address("::ffff:192.168.1.1"), false).message(),
            "refusing to connect to ::ffff:192.168.1.1 (private address); use --allow-private "
            "for labs");
  EXPECT_TRUE(CheckAddressAllowed(asio::ip::make_address("127.0.0.1"), true).ok());
  EXPECT_TRUE(CheckAddressAllowed(asio::ip::make_address("192.0.2.1"), true).ok());
  EXPECT_TRUE(CheckAddressAllowed(asio::ip::make_address("8.8.8.8"), false).ok());
  EXPECT_TRUE(CheckAddressAllowed(asio::ip::make_address("2001:4860:4860::8888"), false).ok());
}

TEST(CheckAddressAllowedTest, RefusesMulticastAlways) {
  for (const char* text : {"224.0.0.1", "ff02::1", "::ffff:239.1.1.1"}) {
    for (bool allow_private : {false, true}) {
      absl::Status status = CheckAddressAllowed(asio::ip::make_address(text), allow_private);
      EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << text;
      EXPECT_EQ(status.message(),
                std::string("refusing to connect to ") + text + " (multicast address)");
    }
  }
}

}  // namespace
}  // namespace tlsweep::agent
