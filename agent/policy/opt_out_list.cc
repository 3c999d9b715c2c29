#include "agent/policy/opt_out_list.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/target/host_name.h"

namespace tlsweep::agent {
namespace {

// Mapped addresses behave as IPv4 everywhere in the policy, so they are compared as IPv4.
asio::ip::address Unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

bool PrefixEqual(const uint8_t* a, const uint8_t* b, int prefix_length) {
  const int whole = prefix_length / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

void MaskBytes(uint8_t* bytes, size_t size, int prefix_length) {
  for (size_t i = 0; i < size; ++i) {
    const int bits = prefix_length - static_cast<int>(i) * 8;
    if (bits >= 8) continue;
    bytes[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
}

}  // namespace

absl::StatusOr<OptOutList> OptOutList::Load(std::istream& in) {
  OptOutList list;
  backends::ListLineReader reader(in);
  backends::ListLine line;
  while (reader.Next(line)) {
    if (line.too_long) {
      list.bad_lines_.Add(line.line_number, line.text,
                          absl::StrCat("line longer than ",
                                       backends::ListLineReader::kMaxLineLength, " characters"));
      continue;
    }
    if (absl::Status status = list.AddRule(line.text); !status.ok()) {
      list.bad_lines_.Add(line.line_number, line.text, status.message());
    }
  }
  if (reader.failed()) {
    return absl::DataLossError(
        absl::StrCat("opt-out list unreadable after line ", reader.lines_read()));
  }
  return list;
}

absl::StatusOr<OptOutList> OptOutList::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    const int error = errno;
    return absl::Status(
        absl::ErrnoToStatusCode(error),
        absl::StrCat("cannot open opt-out list ", path, ": ", std::strerror(error)));
  }
  absl::StatusOr<OptOutList> list = Load(in);
  if (!list.ok())
    return absl::Status(list.status().code(), absl::StrCat(path, ": ", list.status().message()));
  return list;
}

absl::Status OptOutList::AddRule(absl::string_view rule) {
  rule = absl::StripAsciiWhitespace(rule);
  if (rule.empty()) return absl::InvalidArgumentError("empty rule");

  absl::string_view address_text = rule;
  int prefix_length = -1;
  if (const size_t slash = rule.find('/'); slash != absl::string_view::npos) {
    address_text = rule.substr(0, slash);
    const absl::string_view length_text = rule.substr(slash + 1);
    if (length_text.empty() || length_text.size() > 3 ||
        !absl::SimpleAtoi(length_text, &prefix_length) || !absl::ascii_isdigit(length_text[0])) {
      return absl::InvalidArgumentError("prefix length is not a number");
    }
  }
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(std::string(address_text), error);
  if (!error) {
    Network network;
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      if (prefix_length >= 0 && prefix_length < 96) {
        return absl::InvalidArgumentError("IPv4-mapped network shorter than /96");
      }
      if (prefix_length >= 0) prefix_length -= 96;
      address = Unmapped(address);
    }
    network.v4 = address.is_v4();
    const int max_length = network.v4 ? 32 : 128;
    if (prefix_length < 0) prefix_length = max_length;
    if (prefix_length > max_length) return absl::InvalidArgumentError("prefix length too long");
    if (network.v4) {
      const auto bytes = address.to_v4().to_bytes();
      std::copy(bytes.begin(), bytes.end(), network.bytes.begin());
    } else {
      const auto bytes = address.to_v6().to_bytes();
      std::copy(bytes.begin(), bytes.end(), network.bytes.begin());
    }
    network.prefix_length = prefix_length;
    MaskBytes(network.bytes.data(), network.v4 ? 4 : 16, prefix_length);
    if (network.v4) {
      asio::ip::address_v4::bytes_type v4;
      std::copy_n(network.bytes.begin(), 4, v4.begin());
      network.text = absl::StrCat(asio::ip::address_v4(v4).to_string(), "/", prefix_length);
    } else {
      asio::ip::address_v6::bytes_type v6;
      std::copy_n(network.bytes.begin(), 16, v6.begin());
      network.text = absl::StrCat(asio::ip::address_v6(v6).to_string(), "/", prefix_length);
    }
    networks_.push_back(std::move(network));
    return absl::OkStatus();
  }
  if (prefix_length >= 0 || absl::StrContains(rule, ':')) {
    return absl::InvalidArgumentError("not a valid IP address or network");
  }

  absl::string_view name = rule;
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);  // subdomains match anyway
  absl::StatusOr<std::string> normalized = backends::NormalizeHostName(name);
  if (!normalized.ok()) return normalized.status();
  domains_.insert(*std::move(normalized));
  return absl::OkStatus();
}

std::optional<std::string> OptOutList::MatchDomainRule(absl::string_view name) const {
  if (domains_.empty() || name.empty()) return std::nullopt;
  if (name.back() == '.') name.remove_suffix(1);
  std::string lower = absl::AsciiStrToLower(name);
  // Each label suffix in turn: "a.b.example.com", "b.example.com", "example.com", "com".
  absl::string_view suffix = lower;
  while (!suffix.empty()) {
    if (auto it = domains_.find(suffix); it != domains_.end()) return *it;
    const size_t dot = suffix.find('.');
    if (dot == absl::string_view::npos) break;
    suffix.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

const OptOutList::Network* OptOutList::MatchNetwork(const asio::ip::address& address) const {
  const asio::ip::address plain = Unmapped(address);
  std::array<uint8_t, 16> bytes{};
  if (plain.is_v4()) {
    const auto v4 = plain.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), bytes.begin());
  } else {
    const auto v6 = plain.to_v6().to_bytes();
    std::copy(v6.begin(), v6.end(), bytes.begin());
  }
  for (const Network& network : networks_) {
    if (network.v4 != plain.is_v4()) continue;
    if (PrefixEqual(bytes.data(), network.bytes.data(), network.prefix_length)) return &network;
  }
  return nullptr;
}

bool OptOutList::MatchesDomain(absl::string_view name) const {
  return MatchDomainRule(name).has_value();
}

bool OptOutList::MatchesAddress(const asio::ip::address& address) const {
  return MatchNetwork(address) != nullptr;
}

std::optional<std::string> OptOutList::Match(
    absl::string_view domain, absl::string_view host,
    const std::optional<asio::ip::address>& address) const {
  if (std::optional<std::string> rule = MatchDomainRule(domain)) return rule;
  if (std::optional<std::string> rule = MatchDomainRule(host)) return rule;
  if (address) {
    if (const Network* network = MatchNetwork(*address)) return network->text;
  }
  return std::nullopt;
}

}  // namespace tlsweep::agent
