#include "coordinator/coordinator.h"

#include <chrono>
#include <iostream>

#include "backends/event_log.h"
#include "coordinator/scan_state_log.h"

namespace tlsweep::coordinator {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

WorkQueue::WorkQueue(int threads) {
  running_ = std::max(threads, 1);
  for (int i = 0; i < running_; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> work;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
          if (queue_.empty()) {
            --running_;
            return;
          }
          work = std::move(queue_.front());
          queue_.pop_front();
        }
        work();
      }
    });
  }
}

WorkQueue::~WorkQueue() { Stop(); }

void WorkQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkQueue::Post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_ || running_ > 0) {
      queue_.push_back(std::move(work));
      wake_.notify_one();
      return;
    }
  }
  work();  // Every thread has left (shutdown): nobody else would run it.
}

Coordinator::Coordinator(std::unique_ptr<Store> store, CoordinatorOptions options)
    : store_(std::move(store)),
      options_(std::move(options)),
      workers_(std::make_unique<WorkQueue>(options_.workers)) {}

Coordinator::~Coordinator() { Stop(); }

absl::Status Coordinator::Start() {
  if (absl::Status status = store_->Recover(NowUnixMs(), options_.restart_grace_ms); !status.ok()) {
    return status;
  }
  expiry_thread_ = std::thread([this] { ExpiryLoop(); });
  state_log_thread_ = std::thread([this] { ScanStateLoop(); });
  return absl::OkStatus();
}

void Coordinator::Stop() {
  {
    std::lock_guard<std::mutex> lock(change_mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (expiry_thread_.joinable()) expiry_thread_.join();
  if (state_log_thread_.joinable()) state_log_thread_.join();
  // Stopped, not destroyed: work still running (a stream's last Unref, say) posts more.
  workers_->Stop();
}

void Coordinator::ExpiryLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(change_mutex_);
      if (changed_.wait_for(lock, std::chrono::milliseconds(options_.expiry_check_ms),
                            [this] { return stopping_; })) {
        return;
      }
    }
    absl::StatusOr<std::vector<LeaseRef>> expired = store_->ExpireLeases(NowUnixMs());
    if (!expired.ok()) {
      std::cerr << "tlsweep-coordinator: lease expiry: " << expired.status() << "\n";
      continue;
    }
    metrics_.leases_expired.fetch_add(expired->size());
    for (const LeaseRef& lease : *expired) {
      LogEvent("tlsweep-coordinator", "lease_expired",
               {{"agent", lease.agent_id}, {"lease", std::to_string(lease.lease_id)}});
    }
    if (!expired->empty()) {
      CancelLeases(*expired, "lease expired");
      NotifyChanged();
    }
  }
}

void Coordinator::ScanStateLoop() {
  // Scans that finished within this window are still compared, so their last change is seen.
  constexpr int64_t kFinishedWindowMs = 10 * 60 * 1000;
  constexpr auto kMinInterval = std::chrono::milliseconds(200);
  ScanStateLog log;
  uint64_t seen = ~uint64_t{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(change_mutex_);
      // A change, or a second: a scan submitted or cancelled may not notify.
      changed_.wait_for(lock, std::chrono::seconds(1),
                        [&] { return stopping_ || changes_ != seen; });
      if (stopping_) return;
      seen = changes_;
    }
    absl::StatusOr<std::vector<std::pair<std::string, tlsweep::v1::ScanState>>> states =
        store_->ScanStates(NowUnixMs() - kFinishedWindowMs);
    if (states.ok()) {
      for (const ScanStateLog::Change& change : log.Observe(*states)) {
        LogEvent("tlsweep-coordinator", "scan_state",
                 {{"scan", change.scan_id},
                  {"from", ScanStateLogName(change.from)},
                  {"to", ScanStateLogName(change.to)}});
      }
    }
    std::unique_lock<std::mutex> lock(change_mutex_);
    if (changed_.wait_for(lock, kMinInterval, [this] { return stopping_; })) return;
  }
}

void Coordinator::Register(const std::string& agent_id, AgentConnection* connection) {
  std::lock_guard<std::mutex> lock(agents_mutex_);
  agents_[agent_id] = connection;
}

void Coordinator::Unregister(const std::string& agent_id, AgentConnection* connection) {
  std::lock_guard<std::mutex> lock(agents_mutex_);
  auto it = agents_.find(agent_id);
  if (it != agents_.end() && it->second == connection) agents_.erase(it);
}

void Coordinator::CancelLeases(const std::vector<LeaseRef>& leases, const std::string& reason) {
  std::lock_guard<std::mutex> lock(agents_mutex_);
  for (const LeaseRef& lease : leases) {
    auto it = agents_.find(lease.agent_id);
    if (it == agents_.end()) continue;
    tlsweep::v1::CoordinatorMessage message;
    message.mutable_cancelled()->set_lease_id(lease.lease_id);
    message.mutable_cancelled()->set_reason(reason);
    it->second->Send(std::move(message));
  }
}

void Coordinator::NotifyChanged() {
  {
    std::lock_guard<std::mutex> lock(change_mutex_);
    ++changes_;
  }
  changed_.notify_all();
}

uint64_t Coordinator::WaitForChange(uint64_t seen, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(change_mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return stopping_ || changes_ != seen; });
  return changes_;
}

uint64_t Coordinator::change_count() {
  std::lock_guard<std::mutex> lock(change_mutex_);
  return changes_;
}

}  // namespace tlsweep::coordinator
