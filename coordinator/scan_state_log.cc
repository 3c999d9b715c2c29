#include "coordinator/scan_state_log.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace tlsweep::coordinator {

std::vector<ScanStateLog::Change> ScanStateLog::Observe(
    const std::vector<std::pair<std::string, tlsweep::v1::ScanState>>& states) {
  std::vector<Change> changes;
  absl::flat_hash_map<std::string, tlsweep::v1::ScanState> next;
  next.reserve(states.size());
  for (const auto& [scan_id, state] : states) {
    next[scan_id] = state;
    auto it = last_.find(scan_id);
    const tlsweep::v1::ScanState before =
        it == last_.end() ? tlsweep::v1::SCAN_STATE_UNSPECIFIED : it->second;
    if (before != state) changes.push_back({scan_id, before, state});
  }
  last_ = std::move(next);
  return changes;
}

std::string ScanStateLogName(tlsweep::v1::ScanState state) {
  if (state == tlsweep::v1::SCAN_STATE_UNSPECIFIED) return "new";
  std::string name = absl::AsciiStrToLower(tlsweep::v1::ScanState_Name(state));
  if (absl::StartsWith(name, "scan_")) name = name.substr(5);
  return name;
}

}  // namespace tlsweep::coordinator
