#include "agent/policy/address_policy.h"

#include <array>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace tlsweep::agent {
namespace {

struct V4Range {
  uint32_t network;
  int prefix_length;
  AddressClass address_class;
};

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// IANA's IPv4 special-purpose registry, minus the entries that are globally reachable anycast
// (AS112, AMT), which a mail host would never use either but which are not "private".
constexpr std::array<V4Range, 15> kV4Ranges = {{
    {V4(0, 0, 0, 0), 8, AddressClass::kReserved},
    {V4(10, 0, 0, 0), 8, AddressClass::kPrivate},
    {V4(100, 64, 0, 0), 10, AddressClass::kReserved},
    {V4(127, 0, 0, 0), 8, AddressClass::kLoopback},
    {V4(169, 254, 0, 0), 16, AddressClass::kLinkLocal},
    {V4(172, 16, 0, 0), 12, AddressClass::kPrivate},
    {V4(192, 0, 0, 0), 24, AddressClass::kReserved},
    {V4(192, 0, 2, 0), 24, AddressClass::kReserved},
    {V4(192, 88, 99, 0), 24, AddressClass::kReserved},
    {V4(192, 168, 0, 0), 16, AddressClass::kPrivate},
    {V4(198, 18, 0, 0), 15, AddressClass::kReserved},
    {V4(198, 51, 100, 0), 24, AddressClass::kReserved},
    {V4(203, 0, 113, 0), 24, AddressClass::kReserved},
    {V4(224, 0, 0, 0), 4, AddressClass::kMulticast},
    {V4(240, 0, 0, 0), 4, AddressClass::kReserved},  // includes 255.255.255.255
}};

AddressClass ClassifyV4(const asio::ip::address_v4& address) {
  const uint32_t value = address.to_uint();
  for (const V4Range& range : kV4Ranges) {
    const uint32_t mask = range.prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - range.prefix_length);
    if ((value & mask) == range.network) return range.address_class;
  }
  return AddressClass::kPublic;
}

// True when the first `prefix_length` bits of `bytes` equal those of `prefix`.
bool InV6Prefix(const asio::ip::address_v6::bytes_type& bytes, const std::array<uint8_t, 4>& prefix,
                int prefix_length) {
  for (int bit = 0; bit < prefix_length; bit += 8) {
    const int bits = prefix_length - bit < 8 ? prefix_length - bit : 8;
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
    if ((bytes[bit / 8] & mask) != (prefix[bit / 8] & mask)) return false;
  }
  return true;
}

AddressClass ClassifyV6(const asio::ip::address_v6& address) {
  if (address.is_v4_mapped()) {
    return ClassifyV4(asio::ip::make_address_v4(asio::ip::v4_mapped, address));
  }
  if (address.is_loopback()) return AddressClass::kLoopback;
  const asio::ip::address_v6::bytes_type bytes = address.to_bytes();
  if (InV6Prefix(bytes, {0xfc, 0x00}, 7)) return AddressClass::kPrivate;
  if (InV6Prefix(bytes, {0xfe, 0xc0}, 10)) return AddressClass::kPrivate;
  if (InV6Prefix(bytes, {0xfe, 0x80}, 10)) return AddressClass::kLinkLocal;
  if (InV6Prefix(bytes, {0xff}, 8)) return AddressClass::kMulticast;
  // Only 2000::/3 is allocated for global unicast; everything else (::, ::/96, 64:ff9b::/96,
  // 100::/64, 5f00::/16 ...) is special or unassigned.
  if (!InV6Prefix(bytes, {0x20}, 3)) return AddressClass::kReserved;
  if (InV6Prefix(bytes, {0x20, 0x01, 0x00, 0x00}, 23)) return AddressClass::kReserved;
  if (InV6Prefix(bytes, {0x20, 0x01, 0x0d, 0xb8}, 32)) return AddressClass::kReserved;
  if (InV6Prefix(bytes, {0x20, 0x02}, 16)) return AddressClass::kReserved;
  if (InV6Prefix(bytes, {0x3f, 0xff}, 20)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

}  // namespace

AddressClass ClassifyAddress(const asio::ip::address& address) {
  if (address.is_v4()) return ClassifyV4(address.to_v4());
  return ClassifyV6(address.to_v6());
}

absl::string_view AddressClassName(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "unknown";
}

absl::Status CheckAddressAllowed(const asio::ip::address& address, bool allow_private) {
  const AddressClass address_class = ClassifyAddress(address);
  if (address_class == AddressClass::kPublic) return absl::OkStatus();
  if (address_class == AddressClass::kMulticast) {
    return absl::PermissionDeniedError(
        absl::StrCat("refusing to connect to ", address.to_string(), " (multicast address)"));
  }
  if (allow_private) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("refusing to connect to ", address.to_string(),
                                                  " (", AddressClassName(address_class),
                                                  " address); use --allow-private for labs"));
}

}  // namespace tlsweep::agent
