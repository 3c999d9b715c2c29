#include "backends/metrics_histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tlsweep {
namespace {

TEST(HistogramTest, BucketsAreCumulativeWithSumAndCount) {
  Histogram histogram({0.1, 1});
  histogram.Observe(0.05);
  histogram.Observe(0.1);  // On a bound: counted in it (le, "less or equal").
  histogram.Observe(0.5);
  histogram.Observe(7);
  histogram.Observe(-1);  // A clock step: counted as zero.
  std::string out;
  histogram.AppendSamples(out, "x_seconds", "region=\"eu\"");
  EXPECT_EQ(out,
            "x_seconds_bucket{region=\"eu\",le=\"0.1\"} 3\n"
            "x_seconds_bucket{region=\"eu\",le=\"1\"} 4\n"
            "x_seconds_bucket{region=\"eu\",le=\"+Inf\"} 5\n"
            "x_seconds_sum{region=\"eu\"} 7.65\n"
            "x_seconds_count{region=\"eu\"} 5\n");
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram histogram(NetworkDurationBounds());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) histogram.Observe(0.002);
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::string out;
  histogram.AppendSamples(out, "y", "");
  EXPECT_NE(out.find("y_count 40000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_bucket{le=\"0.005\"} 40000\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace tlsweep
