// Human-readable rendering of probe results: what `openssl s_client -starttls smtp` shows,
// but as a short, labelled summary per endpoint.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::cli {

// "starttls_refused", "ok", ...: the enum value's name in lower case.
std::string FailureName(tlsweep::v1::ProbeFailure failure);

// The per-version table of an enumeration (suites in order, preference, groups, handshakes).
std::string FormatEnumeration(const tlsweep::v1::Enumeration& enumeration);

// A multi-line block for one result.
std::string FormatResult(const tlsweep::v1::ProbeResult& result);

}  // namespace tlsweep::cli
