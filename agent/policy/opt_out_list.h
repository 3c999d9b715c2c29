// Domains, hosts and networks whose owners asked not to be scanned. Checked for every mail
// domain, every MX host name and every address before tlsweep connects.
#pragma once

#include <array>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asio/ip/address.hpp"
#include "backends/target/list_line_reader.h"

namespace tlsweep::agent {

// File format (list_line_reader.h: '#' comments, blank lines, CRLF, BOM), one rule a line:
//
//   example.com        that name and every name under it ("mx.example.com"), whether it is a
//                      mail domain or an MX host; "*.example.com" means the same. Unicode
//                      names are converted like targets (host_name.h).
//   192.0.2.0/24       addresses in that network (host bits beyond the prefix are ignored:
//   2001:db8::/32      "192.0.2.7/24" opts out all of 192.0.2.0/24)
//   192.0.2.7          one address (= /32 or /128)
//
// IPv4-mapped IPv6 addresses and rules match as the IPv4 address they carry.
class OptOutList {
 public:
  OptOutList() = default;

  // Reads rules from `in`. Bad lines are collected (bad_lines()), not fatal; only a stream
  // failure is an error.
  static absl::StatusOr<OptOutList> Load(std::istream& in);
  // Same from a file; NotFound/PermissionDenied/... when it cannot be opened.
  static absl::StatusOr<OptOutList> LoadFile(const std::string& path);

  // Adds one rule (a line without comment); InvalidArgument with a reason when it is not one.
  absl::Status AddRule(absl::string_view rule);

  // `name` is expected normalised (A-label); case and one trailing dot are tolerated.
  bool MatchesDomain(absl::string_view name) const;
  bool MatchesAddress(const asio::ip::address& address) const;

  // The first rule matching the mail domain, the MX host or the address (any may be empty),
  // in its canonical spelling ("example.com", "192.0.2.0/24"), for the result's detail.
  std::optional<std::string> Match(absl::string_view domain, absl::string_view host,
                                   const std::optional<asio::ip::address>& address) const;

  size_t domain_rule_count() const { return domains_.size(); }
  size_t network_rule_count() const { return networks_.size(); }
  bool empty() const { return domains_.empty() && networks_.empty(); }

  const std::vector<backends::BadLine>& bad_lines() const { return bad_lines_.lines(); }
  uint64_t bad_line_count() const { return bad_lines_.count(); }

 private:
  struct Network {
    bool v4 = false;
    std::array<uint8_t, 16> bytes{};  // masked to prefix_length; v4 uses the first 4
    int prefix_length = 0;
    std::string text;
  };

  std::optional<std::string> MatchDomainRule(absl::string_view name) const;
  const Network* MatchNetwork(const asio::ip::address& address) const;

  absl::flat_hash_set<std::string> domains_;
  std::vector<Network> networks_;
  backends::BadLineLog bad_lines_;
};

}  // namespace tlsweep::agent
