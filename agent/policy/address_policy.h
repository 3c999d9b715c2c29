// Which addresses a scan may connect to. A public scanner must not be turned against private
// networks (through a hostile MX record or a mistyped target), so anything but a globally
// routable unicast address needs the operator's explicit --allow-private.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "asio/ip/address.hpp"

namespace tlsweep::agent {

enum class AddressClass {
  kPublic,
  kPrivate,    // 10/8, 172.16/12, 192.168/16; fc00::/7 (ULA), fec0::/10 (old site-local)
  kLoopback,   // 127/8, ::1
  kLinkLocal,  // 169.254/16, fe80::/10
  kMulticast,  // 224/4, ff00::/8
  // Everything else not globally routable: 0/8, 100.64/10 (CGNAT), 192.0.0/24, the
  // documentation and benchmarking nets, 192.88.99/24, 240/4 and 255.255.255.255; ::, every
  // IPv6 address outside 2000::/3 (64:ff9b::/96 NAT64, 100::/64 discard, IPv4-compatible...),
  // 2001::/23 (Teredo, ORCHID...), 2001:db8::/32, 2002::/16 (6to4), 3fff::/20.
  kReserved,
};

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is classified as the IPv4 address it carries:
// connecting to it reaches that address.
AddressClass ClassifyAddress(const asio::ip::address& address);

// "public", "private", "loopback", "link-local", "multicast", "reserved".
absl::string_view AddressClassName(AddressClass address_class);

inline bool IsPublicAddress(const asio::ip::address& address) {
  return ClassifyAddress(address) == AddressClass::kPublic;
}

// OK for a public address, and for any non-multicast address when `allow_private` (labs use
// loopback, private and documentation nets). Otherwise PermissionDenied, e.g. "refusing to
// connect to 10.1.2.3 (private address); use --allow-private for labs". Multicast is refused
// always: there is no TCP to it.
absl::Status CheckAddressAllowed(const asio::ip::address& address, bool allow_private);

}  // namespace tlsweep::agent
