// What-if over stored results: for a candidate client configuration, predict every enumerated
// endpoint's outcome from its stored enumeration (no network), and check the predictions
// against live handshakes of the same configuration where the results hold some.
#pragma once

#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/negotiation/negotiation_model.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

struct EndpointWhatIf {
  std::string target;  // As the user wrote it (one per domain sharing the endpoint).
  std::string domain;
  std::string mx_host;
  std::string address;
  uint32_t port = 0;
  Prediction prediction;
  // A live probe of the same configuration at this endpoint, when the results hold one.
  bool live_checked = false;
  bool live_agrees = false;
  std::string live_outcome;  // "TLSv1.3 TLS_AES_256_GCM_SHA384" or the failure class.
};

struct WhatIfSummary {
  std::string candidate;
  int endpoints = 0;  // Enumerated endpoints evaluated.
  // Sure answers only (IsSure); every prediction with a caveat counts as uncertain.
  int negotiates = 0;
  int fails = 0;
  int uncertain = 0;
  int live_checked = 0;
  int live_agreed = 0;
  int not_enumerated = 0;  // Endpoints with results but no usable enumeration.
  std::vector<EndpointWhatIf> endpoints_detail;  // Enumerated endpoints, in result order.
};

// An enumeration result the model can read: one that ran (PROBE_OK), or one the server cut short
// with temporary refusals after some handshakes (RATE_LIMITED, versions INCOMPLETE).
bool HasUsableEnumeration(const tlsweep::v1::ProbeResult& result);

// True when a live probe ran with the same TLS settings as a candidate (names and the file
// they came from aside).
bool SameSettings(tlsweep::v1::TlsClientSettings a, tlsweep::v1::TlsClientSettings b);

// The rule for checking a prediction against a live handshake, shared by EvaluateWhatIf and
// the coordinator's stored what-if. A live result checks a candidate when it is a live probe
// (not an enumeration) that reached TLS with the candidate's settings.
bool IsLiveProbeOf(const tlsweep::v1::ProbeResult& result,
                   const tlsweep::v1::TlsClientSettings& settings);
// It agrees when both say the same suite, or both say the handshake fails.
bool LiveAgrees(const Prediction& prediction, const tlsweep::v1::ProbeResult& live);
// The endpoint a prediction and its live check share: MX name, address and port.
std::string WhatIfEndpointKey(const tlsweep::v1::ProbeResult& result);

// `results`: everything a sweep or scan stored (enumerations, live probes of any candidates).
// `settings` names the candidate (a live result counts as a check of it when its
// tls_settings equal `settings` apart from name and source); `offer` is its Expand.
WhatIfSummary EvaluateWhatIf(const std::vector<tlsweep::v1::ProbeResult>& results,
                             const tlsweep::v1::TlsClientSettings& settings, const Offer& offer);

}  // namespace tlsweep::backends
