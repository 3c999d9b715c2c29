#include "backends/probe_kind.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::v1::ProbeKind;

constexpr ProbeKindInfo kProbeKinds[] = {
    {tlsweep::v1::PROBE_KIND_STARTTLS, "starttls", "one STARTTLS handshake with tls_settings"},
    {tlsweep::v1::PROBE_KIND_ENUMERATE, "enumerate",
     "what the endpoint accepts per TLS version (suites, their order, groups)"},
    {tlsweep::v1::PROBE_KIND_ROUTE, "route",
     "an endpoint a target resolved to (a resolve unit's answer); nothing was probed"},
};

}  // namespace

absl::Span<const ProbeKindInfo> ProbeKinds() { return kProbeKinds; }

absl::string_view ProbeKindName(ProbeKind kind) {
  for (const ProbeKindInfo& info : kProbeKinds) {
    if (info.kind == kind) return info.name;
  }
  return "";
}

ProbeKind ProbeKindFromName(absl::string_view name) {
  for (const ProbeKindInfo& info : kProbeKinds) {
    if (info.name == name) return info.kind;
  }
  return tlsweep::v1::PROBE_KIND_UNSPECIFIED;
}

ProbeKind ProbeKindOf(const tlsweep::v1::ProbeResult& result) {
  if (result.probe_kind() != tlsweep::v1::PROBE_KIND_UNSPECIFIED) return result.probe_kind();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return ProbeKindFromName(result.probe());
#pragma GCC diagnostic pop
}

}  // namespace tlsweep::backends
