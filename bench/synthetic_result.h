// Results for synthetic agents, shaped like what a real agent sends for a mail domain whose MX
// speaks STARTTLS: banner, EHLO and STARTTLS replies, timings, the candidate's settings and a
// TLS 1.3 handshake whose peer chain (leaf and CA) is summarised, DER included, from
// certificates minted at run time by the same code path the backends use.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "tlsweep/v1/agent_stream.pb.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::bench {

class SyntheticResults {
 public:
  // Mints the certificates in `directory`.
  static absl::StatusOr<SyntheticResults> Create(const std::string& directory);

  // The result of probing `target` (one starttls result, line_number joined) with the first
  // candidate of `assignment`'s profile (a default one when it has none).
  tlsweep::v1::ProbeResult For(const tlsweep::v1::ShardAssignment& assignment,
                               const tlsweep::v1::ShardTarget& target) const;

  // A resolve unit's answer for `target`: the route to its endpoint (one of a few thousand,
  // the same one For() would name), nothing probed.
  tlsweep::v1::ProbeResult RouteFor(const tlsweep::v1::ShardTarget& target) const;
  // A probe unit's result for `endpoint`, probed with the profile's candidate `candidate`.
  tlsweep::v1::ProbeResult ForEndpoint(const tlsweep::v1::ShardAssignment& assignment,
                                       const tlsweep::v1::ShardEndpoint& endpoint,
                                       int candidate = 0) const;

  // Serialized size of a typical result.
  size_t typical_bytes() const;

 private:
  explicit SyntheticResults(tlsweep::v1::ProbeResult shape) : shape_(std::move(shape)) {}
  tlsweep::v1::ProbeResult shape_;  // Everything that does not depend on the target.
};

}  // namespace tlsweep::bench
