// The scheduler: a coordinator thread that starts the runs of due schedules. Its state is the
// store's (each schedule's next run time), so a restart picks up where it was; a schedule that
// came due several times while the coordinator was down runs once, at start-up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/coordinator.h"

namespace tlsweep::coordinator {

// The first time `cron` matches strictly after `after_ms` (whole minutes, UTC), in ms; 0 when
// it matches nothing in the next five years. InvalidArgument for a bad expression.
absl::StatusOr<int64_t> NextCronRunMs(absl::string_view cron, int64_t after_ms);

class Scheduler {
 public:
  explicit Scheduler(Coordinator& coordinator) : coordinator_(coordinator) {}
  ~Scheduler() { Stop(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the thread (which first runs whatever is due).
  void Start();
  void Stop();
  // The schedules changed: look again now.
  void Wake();

  // Starts a run of every due schedule (skipping those whose last run is still going) and
  // moves each one's next run past `now_ms`. Returns the scans started.
  std::vector<std::string> RunDue(int64_t now_ms);
  // Starts a run now, whatever the schedule says; its next run is unchanged.
  absl::StatusOr<std::string> RunNow(const std::string& schedule_id);

 private:
  void Loop();
  // Tells agents about leases of deleted scans; logs deletions.
  void AfterRun(const ScheduledRun& run);

  Coordinator& coordinator_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool woken_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace tlsweep::coordinator
