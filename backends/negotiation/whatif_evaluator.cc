#include "backends/negotiation/whatif_evaluator.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "backends/cipher_suite_table.h"
#include "backends/probe_kind.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

std::string LiveOutcome(const tlsweep::v1::ProbeResult& live) {
  if (live.tls().success()) {
    return absl::StrCat(TlsVersionName(VersionFromProto(live.tls().version())), " ",
                        live.tls().suite().iana_name());
  }
  return absl::AsciiStrToLower(tlsweep::v1::ProbeFailure_Name(live.failure()));
}

}  // namespace

std::string WhatIfEndpointKey(const tlsweep::v1::ProbeResult& result) {
  return absl::StrCat(result.mx_host(), "|", result.address(), "|", result.port());
}

bool IsLiveProbeOf(const tlsweep::v1::ProbeResult& result,
                   const tlsweep::v1::TlsClientSettings& settings) {
  return ProbeKindOf(result) != tlsweep::v1::PROBE_KIND_ENUMERATE && result.has_tls() &&
         SameSettings(result.tls_settings(), settings);
}

// Probes that stopped before TLS check nothing (IsLiveProbeOf).
bool LiveAgrees(const Prediction& prediction, const tlsweep::v1::ProbeResult& live) {
  if (live.tls().success()) {
    return prediction.verdict == Prediction::Verdict::kNegotiates &&
           static_cast<uint32_t>(prediction.suite) == live.tls().suite().code_point();
  }
  return prediction.verdict == Prediction::Verdict::kFails;
}

bool HasUsableEnumeration(const tlsweep::v1::ProbeResult& result) {
  if (ProbeKindOf(result) != tlsweep::v1::PROBE_KIND_ENUMERATE || !result.has_enumeration()) {
    return false;
  }
  // A server that cut the enumeration short with 4xx answers is RATE_LIMITED, but what was
  // found stands (its unfinished versions are INCOMPLETE, which the model reads as unknown).
  return result.failure() == tlsweep::v1::PROBE_OK ||
         (result.failure() == tlsweep::v1::RATE_LIMITED && result.enumeration().handshakes() > 0);
}

bool SameSettings(tlsweep::v1::TlsClientSettings a, tlsweep::v1::TlsClientSettings b) {
  for (tlsweep::v1::TlsClientSettings* settings : {&a, &b}) {
    settings->clear_name();
    settings->clear_source();
    settings->clear_overrides();
    settings->clear_variant_of();
  }
  return a.SerializeAsString() == b.SerializeAsString();
}

WhatIfSummary EvaluateWhatIf(const std::vector<tlsweep::v1::ProbeResult>& results,
                             const tlsweep::v1::TlsClientSettings& settings, const Offer& offer) {
  WhatIfSummary summary;
  summary.candidate = settings.name();
  absl::flat_hash_map<std::string, const tlsweep::v1::ProbeResult*> live;
  for (const tlsweep::v1::ProbeResult& result : results) {
    if (IsLiveProbeOf(result, settings)) {
      live.emplace(WhatIfEndpointKey(result), &result);
    }
  }
  for (const tlsweep::v1::ProbeResult& result : results) {
    if (ProbeKindOf(result) != tlsweep::v1::PROBE_KIND_ENUMERATE) continue;
    if (!HasUsableEnumeration(result)) {
      ++summary.not_enumerated;
      continue;
    }
    EndpointWhatIf endpoint;
    endpoint.target = result.target();
    endpoint.domain = result.domain();
    endpoint.mx_host = result.mx_host();
    endpoint.address = result.address();
    endpoint.port = result.port();
    endpoint.prediction = PredictNegotiation(result.enumeration(), offer);
    ++summary.endpoints;
    if (!IsSure(endpoint.prediction)) {
      ++summary.uncertain;
    } else if (endpoint.prediction.verdict == Prediction::Verdict::kNegotiates) {
      ++summary.negotiates;
    } else {
      ++summary.fails;
    }
    auto it = live.find(WhatIfEndpointKey(result));
    if (it != live.end()) {
      endpoint.live_checked = true;
      endpoint.live_agrees = LiveAgrees(endpoint.prediction, *it->second);
      endpoint.live_outcome = LiveOutcome(*it->second);
      ++summary.live_checked;
      summary.live_agreed += endpoint.live_agrees ? 1 : 0;
    }
    summary.endpoints_detail.push_back(std::move(endpoint));
  }
  return summary;
}

}  // namespace tlsweep::backends
