// Why a candidate configuration fails at one server, as an engineer acts on it: a stable code
// and one sentence that names the candidate ("server speaks only TLSv1.0, TLSv1.1; proposed
// needs >= TLSv1.2"). From the negotiation model where the server was enumerated, from the live
// failure otherwise.
//
// Codes: version, suite, anonymous_only, group, sha1_signature, broken_server, empty_offer (from
// the model); starttls_not_offered, starttls_refused, dh_size, certificate, tls_failure,
// unreachable (from a live result; version, suite and group too when only the alert says so).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "backends/backend.h"
#include "backends/negotiation/negotiation_model.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

struct FailureCause {
  std::string code;
  std::string sentence;
};

// For a prediction that fails (kFails, or kUncertain with a fallback failure); empty code
// otherwise. `server` and `client` are what the prediction was made from.
FailureCause ExplainPrediction(const tlsweep::v1::Enumeration& server, const Offer& client,
                               const Prediction& prediction, absl::string_view candidate);

// For a live probe that did not negotiate TLS; empty code for a success.
FailureCause ExplainLiveFailure(const tlsweep::v1::ProbeResult& live, absl::string_view candidate);

}  // namespace tlsweep::backends
