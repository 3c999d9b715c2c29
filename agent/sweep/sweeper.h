// Runs probes for a stream of targets: resolve, pick endpoints, probe each unique endpoint once
// per TLS candidate under the politeness gate, and hand every result to a sink. One event loop
// (io_context + resolver) per thread; targets are pulled as lanes free up, so a list of any
// length streams through in bounded memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/probe/probe_types.h"
#include "agent/sweep/sweep_options.h"
#include "backends/target/target_list_reader.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

// Where targets come from; Next() is called from several threads, one call at a time.
using TargetSource = std::function<std::optional<backends::TargetLine>()>;
// One (address, port) of a coordinator's probe unit and the MX names that reach it (see
// ShardEndpoint in agent_stream.proto for the rule).
struct AddressEndpoint {
  ProbeEndpoint endpoint;          // mx_host is names.front().
  std::vector<std::string> names;  // At least one.
  // Names found after the address was probed: the earlier answer to compare with.
  std::string reference_name;
  std::string reference_fingerprint;
  std::string reference_candidate;
  bool sni_dependent = false;  // Known SNI-dependent: probe every name, compare nothing.
  // An enumeration of the address is known, made when this candidate's handshake had this
  // fingerprint (enumeration_fingerprint.h): enumerate only if the answer changed.
  std::string known_fingerprint;
  std::string known_fingerprint_candidate;
};
// Already-resolved endpoints to probe (a coordinator's probe unit); same calling rules.
using EndpointSource = std::function<std::optional<AddressEndpoint>()>;
// Where results go; called from several threads, one call at a time (the sweeper serialises).
using ResultSink = std::function<void(tlsweep::v1::ProbeResult)>;

struct SweepCounters {
  std::atomic<int64_t> targets_started{0};
  std::atomic<int64_t> targets_done{0};
  std::atomic<int64_t> results{0};
  std::atomic<int64_t> probes_run{0};      // Network probes (connections), retries included.
  std::atomic<int64_t> results_reused{0};  // Results copied from an earlier probe.
  std::atomic<int64_t> handshakes_ok{0};
};

class Sweeper {
 public:
  explicit Sweeper(SweepOptions options);
  ~Sweeper();

  // Blocks until every target from `source` has its results. InvalidArgument for options
  // that cannot work (no candidate, resolver address unusable).
  absl::Status Run(const TargetSource& source, const ResultSink& sink);
  // Probes each address with every candidate (and enumerates it when asked) under its first
  // name, checks with a second name whether the answer depends on SNI, and probes every name
  // only if it does; no DNS. The address policy and opt-out list still apply.
  absl::Status RunEndpoints(const EndpointSource& source, const ResultSink& sink);

  const SweepCounters& counters() const { return counters_; }

 private:
  class Impl;
  absl::Status RunLanes(const TargetSource* targets, const EndpointSource* endpoints,
                        const ResultSink& sink);
  SweepOptions options_;
  SweepCounters counters_;
};

}  // namespace tlsweep::agent
