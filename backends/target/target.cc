#include "backends/target/target.h"

#include <cmath>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/target/host_name.h"
#include "backends/target/line_bytes.h"

namespace tlsweep::backends {
namespace {

absl::StatusOr<double> ParseWeight(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return absl::InvalidArgumentError("missing weight after ','");
  double weight = 0;
  if (!absl::SimpleAtod(text, &weight)) {
    return absl::InvalidArgumentError("weight is not a number");
  }
  // SimpleAtod accepts "nan" and "inf"; a volume is neither.
  if (!std::isfinite(weight)) return absl::InvalidArgumentError("weight is not a finite number");
  if (weight < 0) return absl::InvalidArgumentError("weight is negative");
  // A day's mail to one domain; a larger number is a typo, and sums of such numbers overflow.
  if (weight > kMaxWeight) {
    return absl::InvalidArgumentError(absl::StrCat("weight is larger than ", kMaxWeight));
  }
  return weight == 0 ? 0.0 : weight;  // no -0 in results
}

absl::StatusOr<uint16_t> ParsePort(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("missing port after ':'");
  if (text.size() > 5) {
    for (char c : text) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError("port is not a number");
      }
    }
    return absl::InvalidArgumentError("port out of range");
  }
  uint32_t port = 0;
  for (char c : text) {
    // Digits only: SimpleAtoi would also take "+25" and " 25".
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("port is not a number");
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) return absl::InvalidArgumentError("port out of range");
  return static_cast<uint16_t>(port);
}

std::optional<asio::ip::address> ParseAddress(absl::string_view text) {
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(std::string(text), error);
  if (error) return std::nullopt;
  return address;
}

std::optional<asio::ip::address> ParseIpv4(absl::string_view text) {
  std::error_code error;
  asio::ip::address_v4 address = asio::ip::make_address_v4(std::string(text), error);
  if (error) return std::nullopt;
  return asio::ip::address(address);
}

Target AddressTarget(const asio::ip::address& address, uint16_t port) {
  Target target;
  target.kind = Target::Kind::kAddress;
  target.name = address.to_string();
  target.address = address;
  target.port = port;
  return target;
}

absl::StatusOr<Target> NameTarget(Target::Kind kind, absl::string_view name, uint16_t port) {
  absl::StatusOr<std::string> normalized = NormalizeHostName(name);
  if (!normalized.ok()) return normalized.status();
  Target target;
  target.kind = kind;
  target.name = *std::move(normalized);
  target.port = port;
  return target;
}

// "[...]" or "[...]:port": an address, or a host name that must not go through MX.
absl::StatusOr<Target> ParseBracketed(absl::string_view text, uint16_t default_port) {
  const size_t close = text.find(']');
  if (close == absl::string_view::npos) return absl::InvalidArgumentError("missing ']'");
  const absl::string_view inside = text.substr(1, close - 1);
  const absl::string_view rest = text.substr(close + 1);
  uint16_t port = default_port;
  if (!rest.empty()) {
    if (rest.front() != ':') return absl::InvalidArgumentError("unexpected text after ']'");
    absl::StatusOr<uint16_t> parsed = ParsePort(rest.substr(1));
    if (!parsed.ok()) return parsed.status();
    port = *parsed;
  }
  if (inside.empty()) return absl::InvalidArgumentError("empty brackets");
  if (inside.find('%') != absl::string_view::npos) {
    return absl::InvalidArgumentError("IPv6 zone index not supported");
  }
  if (inside.find(':') != absl::string_view::npos) {
    std::optional<asio::ip::address> address = ParseAddress(inside);
    if (!address) return absl::InvalidArgumentError("not a valid IPv6 address");
    return AddressTarget(*address, port);
  }
  if (std::optional<asio::ip::address> address = ParseIpv4(inside)) {
    return AddressTarget(*address, port);
  }
  return NameTarget(Target::Kind::kHost, inside, port);
}

absl::StatusOr<Target> ParseUnweighted(absl::string_view text, uint16_t default_port) {
  if (text.empty()) return absl::InvalidArgumentError("empty target");
  if (text.front() == '[') return ParseBracketed(text, default_port);
  if (text.find('%') != absl::string_view::npos) {
    return absl::InvalidArgumentError("IPv6 zone index not supported");
  }

  const size_t first_colon = text.find(':');
  if (first_colon == absl::string_view::npos) {
    if (std::optional<asio::ip::address> address = ParseIpv4(text)) {
      return AddressTarget(*address, default_port);
    }
    return NameTarget(Target::Kind::kDomain, text, default_port);
  }
  if (text.find(':', first_colon + 1) != absl::string_view::npos) {
    // Two or more colons: only a bare IPv6 address, which is taken whole (no port).
    std::optional<asio::ip::address> address = ParseAddress(text);
    if (!address || !address->is_v6()) {
      return absl::InvalidArgumentError(
          "not a valid IPv6 address (write [address]:port to give a port)");
    }
    return AddressTarget(*address, default_port);
  }

  const absl::string_view host = text.substr(0, first_colon);
  absl::StatusOr<uint16_t> port = ParsePort(text.substr(first_colon + 1));
  if (!port.ok()) return port.status();
  if (host.empty()) return absl::InvalidArgumentError("missing host before ':'");
  if (std::optional<asio::ip::address> address = ParseIpv4(host)) {
    return AddressTarget(*address, *port);
  }
  return NameTarget(Target::Kind::kHost, host, *port);
}

}  // namespace

absl::StatusOr<Target> ParseTarget(absl::string_view text, uint16_t default_port) {
  text = absl::StripAsciiWhitespace(text);
  if (absl::Status bytes = CheckLineBytes(text); !bytes.ok()) return bytes;
  absl::string_view spec = text;
  double weight = 1;
  // Names and addresses never contain ',', so the first one starts the weight.
  if (const size_t comma = text.find(','); comma != absl::string_view::npos) {
    absl::StatusOr<double> parsed = ParseWeight(text.substr(comma + 1));
    if (!parsed.ok()) return parsed.status();
    weight = *parsed;
    spec = absl::StripAsciiWhitespace(text.substr(0, comma));
  }
  absl::StatusOr<Target> target = ParseUnweighted(spec, default_port);
  if (!target.ok()) return target.status();
  target->input = std::string(text);
  target->weight = weight;
  return target;
}

absl::string_view TargetKindName(Target::Kind kind) {
  switch (kind) {
    case Target::Kind::kDomain:
      return "domain";
    case Target::Kind::kHost:
      return "host";
    case Target::Kind::kAddress:
      return "address";
  }
  return "unknown";
}

std::string TargetKey(const Target& target) {
  // Brackets keep "2001:db8::1" + port unambiguous.
  if (target.address && target.address->is_v6()) {
    return absl::StrCat(TargetKindName(target.kind), " [", target.name, "]:", target.port);
  }
  return absl::StrCat(TargetKindName(target.kind), " ", target.name, ":", target.port);
}

}  // namespace tlsweep::backends
