// The kinds of probe a ProbeResult holds, in one table: the schema's enum (probe_kind), the
// stable name that store columns, metrics labels and results written before the enum carry,
// and what each kind is.
#pragma once

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

struct ProbeKindInfo {
  tlsweep::v1::ProbeKind kind;
  absl::string_view name;  // Stable: stored in SQL columns and compared and sorted there.
  absl::string_view description;
};

// Every kind a probe can have; PROBE_KIND_UNSPECIFIED (nothing was probed) is not one.
absl::Span<const ProbeKindInfo> ProbeKinds();

// The stable name; "" for PROBE_KIND_UNSPECIFIED, as the store has always held for it.
absl::string_view ProbeKindName(tlsweep::v1::ProbeKind kind);

// The kind of a stable name; PROBE_KIND_UNSPECIFIED for "" and names not in the table.
tlsweep::v1::ProbeKind ProbeKindFromName(absl::string_view name);

// A result's kind: probe_kind, else the deprecated `probe` string that results stored or
// spooled before probe_kind existed carry. The one reader of that string.
tlsweep::v1::ProbeKind ProbeKindOf(const tlsweep::v1::ProbeResult& result);

}  // namespace tlsweep::backends
