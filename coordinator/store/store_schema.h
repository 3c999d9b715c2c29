// The store's own tables: scans, their targets and units, batches, agents and schedules. The
// endpoint phase, certificates and known enumerations add theirs (endpoint_phase.h,
// certificate_store.h, known_enumerations.h); schema_migration.h says which version this is.
#pragma once

namespace tlsweep::coordinator {

extern const char* const kStoreSchema;

}  // namespace tlsweep::coordinator
