// Flags shared by `tlsweep probe` and `tlsweep sweep`, and how they become SweepOptions.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/policy/opt_out_list.h"
#include "agent/sweep/sweep_options.h"
#include "backends/plugin_loader.h"

namespace tlsweep::cli {

struct ProbeFlags {
  // TLS client configuration.
  std::string backend = "openssl";
  std::string ciphers;
  std::string ciphersuites;
  std::string priority;
  std::string min_version;
  std::string max_version;
  std::string groups;
  bool legacy = false;
  std::string ca_file;
  // SMTP and DNS.
  uint16_t port = 25;
  std::string resolver;
  std::string ehlo;
  int connect_timeout_ms = 10'000;
  int banner_timeout_ms = 30'000;
  int command_timeout_ms = 30'000;
  int handshake_timeout_ms = 20'000;
  int dns_timeout_ms = 3'000;
  // Which endpoints.
  std::string mx = "all";
  size_t max_mx = 5;
  bool all_addresses = false;
  bool no_ipv6 = false;
  // Safety.
  bool allow_private = false;
  std::string opt_out_file;
  bool json = false;
};

void AddProbeFlags(CLI::App& command, ProbeFlags& flags);

// Everything a sweep needs, with the opt-out list it points to.
struct PreparedSweep {
  agent::SweepOptions options;
  std::unique_ptr<agent::OptOutList> opt_out;
};

absl::StatusOr<PreparedSweep> PrepareSweep(const ProbeFlags& flags,
                                           const backends::BackendRegistry& registry);

}  // namespace tlsweep::cli
