// Per-domain overrides, probed for real. A scan probes each endpoint once per candidate, not
// once per domain, so a candidate whose overrides give some domains other settings gets one
// probe-only variant per distinct override settings (not per domain: a policy table of
// thousands of entries has a few distinct levels and cipher grades). Every endpoint is probed
// with the variants too — the cost in politeness is one connection per variant and endpoint —
// and the report keeps, for each domain, the result of the settings that apply to it.
#pragma once

#include <string>
#include <vector>

#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// `candidates` followed by the variants of those with overrides, named "NAME~1", "NAME~2"...
// (variant_of = NAME, no overrides). Overrides that turn TLS off (tls_disabled) and next-hop
// overrides need no probe and get no variant.
std::vector<tlsweep::v1::TlsClientSettings> WithOverrideVariants(
    const std::vector<tlsweep::v1::TlsClientSettings>& candidates);

// What a probe of `settings` did, whatever it is called: the settings without name, source,
// overrides and variant_of. Two settings with the same key are the same handshake.
std::string ProbeSettingsKey(tlsweep::v1::TlsClientSettings settings);

}  // namespace tlsweep::backends
