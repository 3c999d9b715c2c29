// Flags shared by `tlsweep probe` and `tlsweep sweep`, and how they become SweepOptions.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/policy/opt_out_list.h"
#include "agent/sweep/sweep_options.h"
#include "backends/plugin_loader.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

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
  // Candidate configurations, each probed with its own handshake per endpoint, in this order:
  // the --profile file's, then those read from --candidate-from files ([NAME=]FILE), then
  // --candidate specs.
  // With none, the single "default" candidate described by the flags above is probed.
  std::string profile_file;
  std::vector<std::string> candidate_files;
  std::vector<std::string> candidate_specs;
  // Enumerate what each endpoint accepts (also set by the profile's `enumerate`).
  bool enumerate = false;
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

// How hard a sweep may push (sweep, scan and tlsweep-agent take the same flags).
struct PolitenessFlags {
  size_t concurrency = 256;  // Targets in flight.
  double rate = 50;          // New connections per second overall; 0: no cap.
  int per_ip = 1;
  int per_ip_spacing_ms = 250;
  int per_provider = 8;
  // A temporary refusal (4xx, a dropped connection) backs the IP off for backoff_ms, doubling,
  // and is retried up to max_attempts connections per handshake.
  int max_attempts = 4;
  int backoff_ms = 30'000;
};

void AddPolitenessFlags(CLI::App& command, PolitenessFlags& flags);
void ApplyPoliteness(const PolitenessFlags& flags, SweepOptions& options);

// Everything a sweep needs, with the opt-out list it points to.
struct PreparedSweep {
  SweepOptions options;
  std::unique_ptr<OptOutList> opt_out;
  bool enumerate = false;  // Asked for by --enumerate or the profile (also in options).
  // What --candidate-from files held that is not modelled ("file:line: message").
  std::vector<std::string> warnings;
};

// The candidates the flags name (--profile, --candidate-from, --candidate), validated, with
// unique names; empty when none is given. Sets *enumerate when the profile asks for it.
absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> CollectCandidates(
    const ProbeFlags& flags, bool* enumerate, std::vector<std::string>* warnings);

absl::StatusOr<PreparedSweep> PrepareSweep(const ProbeFlags& flags,
                                           const backends::BackendRegistry& registry);
// PrepareSweep for a command: prints its warnings, or its error and returns nullopt (the
// command exits 2).
std::optional<PreparedSweep> PrepareSweepOrReport(const ProbeFlags& flags,
                                                  const backends::BackendRegistry& registry);

}  // namespace tlsweep::agent
