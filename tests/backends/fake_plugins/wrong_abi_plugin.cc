// A plugin built against a future ABI: the loader must refuse it before calling create().
#include "backends/backend.h"

extern "C" __attribute__((visibility("default"))) const TlsweepBackendEntry*
tlsweep_backend_entry() {
  static const TlsweepBackendEntry entry = {tlsweep::backends::kBackendAbiVersion + 998, "future",
                                            nullptr};
  return &entry;
}
