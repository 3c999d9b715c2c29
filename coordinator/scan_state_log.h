// Turns snapshots of the scans' states into one change per scan that moved, for the
// coordinator's structured log (event=scan_state). The coordinator takes a snapshot whenever
// something changed (at most a few times a second), so a scan that passes through a state
// faster than that (a tiny scan going from submitting straight to done) is logged with the
// states it was seen in: from=submitting to=done.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tlsweep/v1/scan.pb.h"

namespace tlsweep::coordinator {

class ScanStateLog {
 public:
  struct Change {
    std::string scan_id;
    tlsweep::v1::ScanState from;  // SCAN_STATE_UNSPECIFIED: first seen (new, or at startup).
    tlsweep::v1::ScanState to;
  };

  // The changes since the last snapshot. Scans absent from `states` are forgotten.
  std::vector<Change> Observe(
      const std::vector<std::pair<std::string, tlsweep::v1::ScanState>>& states);

 private:
  absl::flat_hash_map<std::string, tlsweep::v1::ScanState> last_;
};

// "running", "done", ...; "new" for SCAN_STATE_UNSPECIFIED.
std::string ScanStateLogName(tlsweep::v1::ScanState state);

}  // namespace tlsweep::coordinator
