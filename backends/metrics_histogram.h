// A Prometheus histogram (cumulative buckets, _sum, _count) for durations in seconds, safe to
// observe from many threads. Rendered in the text exposition format by the /metrics handlers of
// the coordinator and the agent; the label set (region, probe kind) is the caller's.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep {

class Histogram {
 public:
  // Upper bounds in seconds, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double seconds);

  // The _bucket, _sum and _count samples of `name`, each with `labels` (`region="eu"` or "")
  // before `le`. No HELP/TYPE lines: those come once per metric family (AppendHistogramHeader).
  void AppendSamples(std::string& out, absl::string_view name, absl::string_view labels) const;

 private:
  const std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // Per bound, then +Inf; not cumulative.
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // The sum in microseconds: integral, so atomic.
};

void AppendHistogramHeader(std::string& out, absl::string_view name, absl::string_view help);

// A label value as the exposition format needs it: backslash, quote and newline escaped.
std::string PrometheusLabelValue(absl::string_view value);

// A counter family with one sample: HELP, TYPE and `name{labels} value` ("" labels: none).
void AppendCounter(std::string& out, absl::string_view name, absl::string_view help,
                   absl::string_view labels, uint64_t value);

// Bounds for network operations, 5 ms to 2 min.
std::vector<double> NetworkDurationBounds();

}  // namespace tlsweep
