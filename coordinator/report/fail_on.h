// Gates on the delta, so that a config change can be held back in CI: `--fail-on
// newly-failing-domains>0`, `--fail-on newly-failing-volume>0.5%`. Evaluated for every candidate
// against the baseline, in every region; any that trips makes the command exit 3.
//
// Syntax: METRIC OP VALUE[%], METRIC one of newly-{failing,degraded,cleartext}-{domains,volume},
// OP `>` or `>=`, VALUE a number; with `%` it is a share of the domains (or volume) compared.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/report/report.h"

namespace tlsweep::coordinator::report {

struct FailOn {
  std::string change;   // newly_failing | newly_degraded | newly_cleartext
  bool volume = false;  // Mail volume (list weights) rather than domains.
  bool percent = false;
  bool or_equal = false;
  double threshold = 0;
  std::string text;  // As the user wrote it.
};

absl::StatusOr<FailOn> ParseFailOn(absl::string_view spec);

// One line per (gate, candidate, region) that trips, e.g. "proposed/eu: newly failing volume
// 2.1% > 0.5% (newly-failing-volume>0.5%)". Empty when none does or there is no delta.
std::vector<std::string> TrippedGates(const Report& report, const std::vector<FailOn>& gates);

}  // namespace tlsweep::coordinator::report
