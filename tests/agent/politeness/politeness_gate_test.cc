#include "agent/politeness/politeness_gate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace tlsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Visit {
  std::string who;
  Clock::time_point start;
  Clock::time_point end;
};

// Runs one coroutine per (who, ip), each holding a permit for `hold`.
std::vector<Visit> RunVisits(PolitenessGate& gate,
                             const std::vector<std::pair<std::string, std::string>>& plan,
                             milliseconds hold) {
  asio::io_context io(1);
  std::vector<Visit> visits;
  for (const auto& [who, ip] : plan) {
    asio::co_spawn(
        io,
        [&, who = who, ip = ip]() -> asio::awaitable<void> {
          ConnectionPermit permit = co_await gate.Acquire(ip, "provider.example");
          Visit visit{who, Clock::now(), {}};
          asio::steady_timer timer(io, hold);
          co_await timer.async_wait(asio::use_awaitable);
          visit.end = Clock::now();
          visits.push_back(visit);
        },
        asio::detached);
  }
  io.run();
  return visits;
}

TEST(PolitenessGateTest, OneConnectionPerIpAtATimeByDefault) {
  PolitenessGate gate(PolitenessOptions{
      .connections_per_second = 0, .per_ip_concurrency = 1, .per_ip_spacing = milliseconds(0)});
  std::vector<Visit> visits = RunVisits(
      gate, {{"a", "192.0.2.1"}, {"b", "192.0.2.1"}, {"c", "192.0.2.1"}}, milliseconds(20));
  ASSERT_EQ(visits.size(), 3u);
  std::sort(visits.begin(), visits.end(),
            [](const Visit& x, const Visit& y) { return x.start < y.start; });
  for (size_t i = 1; i < visits.size(); ++i) {
    EXPECT_GE(visits[i].start, visits[i - 1].end);
  }
  EXPECT_EQ(gate.connections_started(), 3);
}

TEST(PolitenessGateTest, DifferentIpsRunTogether) {
  PolitenessGate gate(PolitenessOptions{
      .connections_per_second = 0, .per_ip_concurrency = 1, .per_ip_spacing = milliseconds(0)});
  std::vector<Visit> visits = RunVisits(
      gate, {{"a", "192.0.2.1"}, {"b", "192.0.2.2"}, {"c", "192.0.2.3"}}, milliseconds(50));
  ASSERT_EQ(visits.size(), 3u);
  for (const Visit& visit : visits) {
    EXPECT_LT(visit.start, visits[0].end) << visit.who;
  }
}

TEST(PolitenessGateTest, SpacingSeparatesConnectionStartsToOneIp) {
  PolitenessGate gate(PolitenessOptions{
      .connections_per_second = 0, .per_ip_concurrency = 4, .per_ip_spacing = milliseconds(40)});
  std::vector<Visit> visits = RunVisits(
      gate, {{"a", "192.0.2.1"}, {"b", "192.0.2.1"}, {"c", "192.0.2.1"}}, milliseconds(1));
  std::sort(visits.begin(), visits.end(),
            [](const Visit& x, const Visit& y) { return x.start < y.start; });
  for (size_t i = 1; i < visits.size(); ++i) {
    EXPECT_GE(visits[i].start - visits[i - 1].start, milliseconds(40));
  }
}

TEST(PolitenessGateTest, ProviderBudgetCapsConcurrencyAcrossIps) {
  PolitenessGate gate(PolitenessOptions{.connections_per_second = 0,
                                        .per_ip_concurrency = 1,
                                        .per_ip_spacing = milliseconds(0),
                                        .per_provider_concurrency = 1});
  std::vector<Visit> visits =
      RunVisits(gate, {{"a", "192.0.2.1"}, {"b", "192.0.2.2"}}, milliseconds(30));
  ASSERT_EQ(visits.size(), 2u);
  std::sort(visits.begin(), visits.end(),
            [](const Visit& x, const Visit& y) { return x.start < y.start; });
  EXPECT_GE(visits[1].start, visits[0].end);
}

TEST(PolitenessGateTest, BackOffDelaysTheNextConnectionToThatIpOnly) {
  PolitenessGate gate(PolitenessOptions{
      .connections_per_second = 0, .per_ip_concurrency = 1, .per_ip_spacing = milliseconds(0)});
  gate.BackOff("192.0.2.1", milliseconds(100));
  const Clock::time_point start = Clock::now();
  std::vector<Visit> visits =
      RunVisits(gate, {{"slow", "192.0.2.1"}, {"fast", "192.0.2.2"}}, milliseconds(1));
  for (const Visit& visit : visits) {
    if (visit.who == "slow") {
      EXPECT_GE(visit.start - start, milliseconds(100));
    } else {
      EXPECT_LT(visit.start - start, milliseconds(100));
    }
  }
}

}  // namespace
}  // namespace tlsweep::agent
