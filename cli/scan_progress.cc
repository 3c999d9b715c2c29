#include "cli/scan_progress.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tlsweep::cli {
namespace {

constexpr int kBarWidth = 20;

std::string Bar(uint64_t done, uint64_t total) {
  const int filled = total == 0
                         ? kBarWidth
                         : static_cast<int>(std::min<uint64_t>(done, total) * kBarWidth / total);
  return absl::StrCat("[", std::string(filled, '#'), std::string(kBarWidth - filled, '-'), "]");
}

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

}  // namespace

double ScanProgressView::Fraction(const v1::RegionProgress& p, uint64_t targets) {
  if (p.shards() > 0 && p.shards_done() + p.shards_lost() == p.shards()) return 1;
  if (targets == 0) return 0;
  const double resolved =
      std::min(1.0, static_cast<double>(p.targets_resolved()) / static_cast<double>(targets));
  double probed = 0;
  if (p.endpoint_shards() > 0 && resolved > 0) {
    const double expected_units = static_cast<double>(p.endpoint_shards()) / resolved;
    probed = std::min(1.0, static_cast<double>(p.endpoint_shards_done()) / expected_units);
  } else if (resolved >= 1) {
    probed = 1;  // Everything resolved and nothing to probe.
  }
  // Both phases weigh alike: resolving costs DNS round trips, probing SMTP connections.
  return std::min(0.99, 0.5 * resolved + 0.5 * probed);
}

void ScanProgressView::Update(const v1::Scan& scan, Clock::time_point now) {
  scan_ = scan;
  for (const v1::RegionProgress& p : scan.progress()) {
    auto [it, inserted] = rates_.try_emplace(p.region());
    RegionRate& rate = it->second;
    const double fraction = Fraction(p, scan.targets());
    if (inserted) {
      rate.first_seen = now;
      rate.first_targets = p.targets_done();
      rate.first_fraction = fraction;
      continue;
    }
    const double seconds = std::chrono::duration<double>(now - rate.first_seen).count();
    if (seconds > 0.5 && p.targets_done() >= rate.first_targets) {
      rate.per_second = static_cast<double>(p.targets_done() - rate.first_targets) / seconds;
    }
    if (seconds > 0.5 && fraction >= rate.first_fraction) {
      rate.fraction_per_second = (fraction - rate.first_fraction) / seconds;
    }
  }
}

int ScanProgressView::lines() const { return scan_.progress_size() * 2; }

std::string ScanProgressView::Render() const {
  std::string out;
  const uint64_t targets = scan_.targets();
  for (const v1::RegionProgress& p : scan_.progress()) {
    const uint64_t shards_over = p.shards_done() + p.shards_lost();
    std::string eta = "";
    auto rate = rates_.find(p.region());
    const double per_second = rate == rates_.end() ? 0 : rate->second.per_second;
    const double fraction_rate = rate == rates_.end() ? 0 : rate->second.fraction_per_second;
    const double fraction = Fraction(p, targets);
    if (shards_over == p.shards()) {
      eta = "done";
    } else if (fraction_rate > 0) {
      eta = absl::StrCat("ETA ", Duration((1 - fraction) / fraction_rate));
    } else {
      eta = "ETA ?";
    }
    constexpr uint64_t kScale = 1000;
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%-6s %s  %d/%d shards  %d/%d targets  %.0f/s  %s", p.region(),
                  Bar(shards_over == p.shards() ? kScale : static_cast<uint64_t>(fraction * kScale),
                      kScale),
                  shards_over, p.shards(), p.targets_done(), targets, per_second, eta));
    if (p.shards_lost() > 0) absl::StrAppend(&out, absl::StrFormat("  (%d lost)", p.shards_lost()));
    absl::StrAppend(&out, "\n");
    absl::StrAppend(
        &out, absl::StrFormat("       resolved %d targets, %d MX names on %d unique "
                              "endpoints (%d SNI-dependent), %d/%d probe units done, %d "
                              "probes, %d connections, %d results\n",
                              p.targets_resolved(), p.names(), p.endpoints(), p.sni_dependent(),
                              p.endpoint_shards_done(), p.endpoint_shards(), p.probes(),
                              p.connections(), p.results()));
  }
  return out;
}

}  // namespace tlsweep::cli
