#include "coordinator/schedule/scheduler.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "coordinator/schedule/cron_expression.h"

namespace tlsweep::coordinator {

absl::StatusOr<int64_t> NextCronRunMs(absl::string_view cron, int64_t after_ms) {
  absl::StatusOr<CronExpression> expression = CronExpression::Parse(cron);
  if (!expression.ok()) return expression.status();
  const int64_t after_seconds = after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000;
  const int64_t next = expression->NextAfter(after_seconds);
  return next == 0 ? int64_t{0} : next * 1000;
}

void Scheduler::Start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Scheduler::Loop() {
  const int64_t check_ms = std::max<int64_t>(coordinator_.options().schedule_check_ms, 10);
  for (;;) {
    const int64_t now_ms = NowUnixMs();
    RunDue(now_ms);
    int64_t wait_ms = check_ms;
    absl::StatusOr<int64_t> next = coordinator_.store().NextScheduledRunMs();
    if (next.ok() && *next > 0) {
      wait_ms = std::clamp<int64_t>(*next - NowUnixMs(), 0, check_ms);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                   [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

std::vector<std::string> Scheduler::RunDue(int64_t now_ms) {
  std::vector<std::string> started;
  absl::StatusOr<std::vector<DueSchedule>> due = coordinator_.store().DueSchedules(now_ms);
  if (!due.ok()) {
    std::cerr << "tlsweep-coordinator: schedules: " << due.status() << "\n";
    return started;
  }
  for (const DueSchedule& schedule : *due) {
    // The next time is after now, not after the missed one: missed runs collapse into this one.
    absl::StatusOr<int64_t> next = NextCronRunMs(schedule.cron, now_ms);
    if (!next.ok()) {
      std::cerr << "tlsweep-coordinator: schedule " << schedule.schedule_id << ": " << next.status()
                << "\n";
      next = int64_t{0};  // A stored expression that no longer parses: stop running it.
    }
    absl::StatusOr<ScheduledRun> run = coordinator_.store().StartScheduledRun(
        schedule.schedule_id, now_ms, *next, /*skip_if_running=*/true);
    if (!run.ok()) {
      std::cerr << "tlsweep-coordinator: schedule " << schedule.schedule_id
                << ": run failed: " << run.status() << "\n";
      continue;
    }
    AfterRun(*run);
    if (!run->scan_id.empty()) started.push_back(run->scan_id);
  }
  return started;
}

absl::StatusOr<std::string> Scheduler::RunNow(const std::string& schedule_id) {
  absl::StatusOr<ScheduledRun> run = coordinator_.store().StartScheduledRun(
      schedule_id, NowUnixMs(), std::nullopt, /*skip_if_running=*/false);
  if (!run.ok()) return run.status();
  AfterRun(*run);
  return run->scan_id;
}

void Scheduler::AfterRun(const ScheduledRun& run) {
  if (!run.cancelled_leases.empty()) {
    coordinator_.CancelLeases(run.cancelled_leases, "scan deleted (schedule retention)");
  }
  coordinator_.NotifyChanged();
}

}  // namespace tlsweep::coordinator
