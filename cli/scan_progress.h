// Progress of a scan for people: one bar per region (target shards done, targets done, rate,
// ETA, and how far the endpoint phase is). Used by `tlsweep watch` / `remote watch` and by the
// embedded `tlsweep scan`.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "tlsweep/v1/scan.pb.h"

namespace tlsweep::cli {

class ScanProgressView {
 public:
  using Clock = std::chrono::steady_clock;

  // Records a new state of the scan, seen at `now` (rates are measured from the first one).
  void Update(const tlsweep::v1::Scan& scan, Clock::time_point now);

  // One line per region, e.g.
  //   eu  [########------------]  5/13 shards  1250/3020 targets  410/s  ETA 4s
  //       endpoints 20 (1/1 probe units)
  std::string Render() const;
  int lines() const;  // Lines Render() returns (for redrawing in place).

 private:
  struct RegionRate {
    Clock::time_point first_seen;
    uint64_t first_targets = 0;
    double first_fraction = 0;
    double per_second = 0;           // Targets joined per second, for people.
    double fraction_per_second = 0;  // Of Fraction(), for the ETA.
  };

 public:
  // How far a region is, 0..1, counting both phases: resolving the targets, and probing the
  // endpoints they lead to (whose number is extrapolated from the share resolved so far). The
  // targets-done count alone stays near zero until the probe units finish, then jumps.
  static double Fraction(const tlsweep::v1::RegionProgress& progress, uint64_t targets);

 private:
  tlsweep::v1::Scan scan_;
  std::map<std::string, RegionRate> rates_;
};

}  // namespace tlsweep::cli
