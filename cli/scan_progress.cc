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

void ScanProgressView::Update(const v1::Scan& scan, Clock::time_point now) {
  scan_ = scan;
  for (const v1::RegionProgress& p : scan.progress()) {
    auto [it, inserted] = rates_.try_emplace(p.region());
    RegionRate& rate = it->second;
    if (inserted) {
      rate.first_seen = now;
      rate.first_targets = p.targets_done();
      continue;
    }
    const double seconds = std::chrono::duration<double>(now - rate.first_seen).count();
    if (seconds > 0.5 && p.targets_done() >= rate.first_targets) {
      rate.per_second = static_cast<double>(p.targets_done() - rate.first_targets) / seconds;
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
    if (shards_over == p.shards()) {
      eta = "done";
    } else if (per_second > 0) {
      eta = absl::StrCat("ETA ",
                         Duration(static_cast<double>(targets - p.targets_done()) / per_second));
    } else {
      eta = "ETA ?";
    }
    absl::StrAppend(&out, absl::StrFormat("%-6s %s  %d/%d shards  %d/%d targets  %.0f/s  %s",
                                          p.region(), Bar(p.targets_done(), targets), shards_over,
                                          p.shards(), p.targets_done(), targets, per_second, eta));
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
