#include "agent/client/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "agent/client/channel_credentials.h"
#include "agent/client/spool.h"
#include "backends/event_log.h"
#include "tlsweep/v1/agent_stream.grpc.pb.h"

namespace tlsweep::agent {
namespace {

constexpr int kMaxAssignmentBytes = 64 << 20;
constexpr size_t kMaxBatchBytes = 4 << 20;
// How long a session that ends on this side waits for the coordinator's closing status.
constexpr int64_t kFinishGraceMs = 2000;

using ::tlsweep::v1::AgentMessage;
using ::tlsweep::v1::CoordinatorMessage;
using Clock = std::chrono::steady_clock;
using Stream = grpc::ClientReaderWriter<AgentMessage, CoordinatorMessage>;

}  // namespace

class AgentClient::Impl {
 public:
  Impl(AgentClientOptions options, ShardRunner runner, std::unique_ptr<Spool> spool,
       std::shared_ptr<grpc::ChannelCredentials> credentials)
      : options_(std::move(options)),
        runner_(std::move(runner)),
        spool_(std::move(spool)),
        credentials_(std::move(credentials)) {}

  // Leases the spool still holds from an earlier run: finished ones wait for their
  // acknowledgements; unfinished ones cannot be resumed and are given back.
  absl::Status Restore() {
    absl::StatusOr<std::map<uint64_t, uint64_t>> completions = spool_->PendingCompletions();
    if (!completions.ok()) return completions.status();
    absl::StatusOr<std::vector<v1::ResultBatch>> batches = spool_->PendingBatches();
    if (!batches.ok()) return batches.status();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [lease_id, total] : *completions) {
      auto lease = std::make_shared<Lease>();
      lease->assignment.set_lease_id(lease_id);
      lease->finished = true;
      lease->batches_total = total;
      leases_[lease_id] = lease;
    }
    for (const v1::ResultBatch& batch : *batches) {
      auto it = leases_.find(batch.lease_id());
      if (it == leases_.end()) {
        releases_.insert(batch.lease_id());
        continue;
      }
      it->second->unacked.insert(batch.seq());
      ++unacked_total_;
    }
    for (uint64_t lease_id : releases_) {
      if (absl::Status s = spool_->RemoveLease(lease_id); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  void Run() {
    std::vector<std::thread> workers;
    for (int i = 0; i < std::max(options_.capacity, 1); ++i) {
      workers.emplace_back([this] { WorkerLoop(); });
    }
    std::mt19937 random{std::random_device{}()};
    int backoff_ms = options_.backoff_min_ms;
    while (!stopping()) {
      const bool welcomed = Session();
      if (stopping()) break;
      backoff_ms =
          welcomed ? options_.backoff_min_ms : std::min(backoff_ms * 2, options_.backoff_max_ms);
      // Full jitter: agents that lost the same coordinator do not all come back at once.
      const int sleep_ms = std::uniform_int_distribution<int>(backoff_ms / 2, backoff_ms)(random);
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait_for(lock, std::chrono::milliseconds(sleep_ms), [this] { return stopping_; });
    }
    cv_.notify_all();
    for (std::thread& worker : workers) worker.join();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      for (auto& [id, lease] : leases_) lease->cancelled = true;
    }
    cv_.notify_all();
    std::lock_guard<std::mutex> lock(context_mutex_);
    if (context_ != nullptr) context_->TryCancel();
  }

  AgentClientStats stats_;

 private:
  struct Lease {
    v1::ShardAssignment assignment;
    std::atomic<bool> cancelled{false};  // Tells the runner to stop (revoked, or Stop()).
    std::atomic<bool> revoked{false};    // No longer ours: its results are worthless.
    uint64_t next_seq = 0;               // Touched by the running worker only.
    std::set<uint64_t> unacked;
    bool running = false;
    bool finished = false;  // The runner is done; the completion is spooled.
    uint64_t batches_total = 0;
    bool complete_sent = false;
  };

  bool stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  bool Send(const AgentMessage& message) {
    std::lock_guard<std::mutex> lock(write_mutex_);
    if (stream_ == nullptr || !stream_ok_) return false;
    if (!stream_->Write(message)) {
      stream_ok_ = false;
      return false;
    }
    return true;
  }

  // One connection, from connect to break. True when the coordinator welcomed us.
  bool Session() {
    grpc::ChannelArguments args;
    if (!options_.server_name.empty()) {
      args.SetSslTargetNameOverride(options_.server_name);
    }
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options_.backoff_max_ms);
    // The coordinator accepts shards of up to 100,000 targets (about 32 MB of assignment with
    // the longest names); gRPC's default 4 MB receive limit broke the stream on such a shard.
    args.SetMaxReceiveMessageSize(kMaxAssignmentBytes);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(options_.coordinator, credentials_, args);
    // Connect first, polling while the TLS handshake runs: a call that fails fast on a
    // connecting channel would leave nobody to drive the connection.
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::milliseconds(options_.connect_timeout_ms))) {
      LogEvent("tlsweep-agent", "connect_failed",
               {{"coordinator", options_.coordinator},
                {"region", options_.region},
                {"timeout_ms", std::to_string(options_.connect_timeout_ms)}});
      return false;
    }
    std::unique_ptr<v1::AgentService::Stub> stub = v1::AgentService::NewStub(channel);
    {
      std::lock_guard<std::mutex> lock(context_mutex_);
      context_ = std::make_unique<grpc::ClientContext>();
      context_->set_wait_for_ready(false);
      if (stopping()) return false;
    }
    AgentMessage hello;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      session_broken_ = false;
      welcomed_ = false;
      v1::AgentHello* h = hello.mutable_hello();
      h->set_agent_id(options_.agent_id);
      h->set_region(options_.region);
      h->set_capacity(options_.capacity);
      h->set_runs_endpoint_units(options_.runs_endpoint_units);
      // The sweep runner of this version probes each address once with its names.
      h->set_shares_addresses(options_.runs_endpoint_units);
      for (const v1::BackendInfo& backend : options_.backends) *h->add_backends() = backend;
      h->set_version(options_.version);
      for (const auto& [id, lease] : leases_) h->add_held_leases(id);
      for (auto& [id, lease] : leases_) lease->complete_sent = false;
    }
    {
      std::lock_guard<std::mutex> lock(write_mutex_);
      stream_ = stub->Connect(context_.get());
      stream_ok_ = true;
    }
    // Reading from the start: a coordinator that refuses this agent (no certificate, a
    // certificate for another region) finishes the stream at once, maybe before the hello.
    std::thread reader([this] { ReadLoop(); });
    if (Send(hello)) {
      stats_.connects.fetch_add(1);
      ResendSpool();
      SessionLoop();
    }
    bool read_ended = false;
    {
      // The coordinator's reason comes as the stream's status once reading ends; cancelling
      // would replace it with CANCELLED, so only a reader still waiting is cancelled.
      std::unique_lock<std::mutex> lock(mutex_);
      read_ended = cv_.wait_for(lock, std::chrono::milliseconds(kFinishGraceMs), [this] {
        return session_broken_ || stopping_;
      }) && session_broken_;
    }
    if (!read_ended) {
      std::lock_guard<std::mutex> lock(context_mutex_);
      context_->TryCancel();
    }
    if (reader.joinable()) reader.join();
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(write_mutex_);
      stream_ok_ = false;
      status = stream_->Finish();
      stream_.reset();
    }
    LogEvent("tlsweep-agent", "disconnected",
             {{"coordinator", options_.coordinator},
              {"region", options_.region},
              {"code", std::to_string(status.error_code())},
              {"status", stopping() ? "stopping" : status.error_message()}});
    std::lock_guard<std::mutex> lock(mutex_);
    return welcomed_;
  }

  void ResendSpool() {
    absl::StatusOr<std::vector<v1::ResultBatch>> batches = spool_->PendingBatches();
    if (!batches.ok()) {
      std::cerr << "tlsweep-agent: " << batches.status() << "\n";
      return;
    }
    std::set<uint64_t> releases;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      releases.swap(releases_);
    }
    for (uint64_t lease_id : releases) {
      AgentMessage release;
      release.mutable_release()->set_lease_id(lease_id);
      release.mutable_release()->set_reason("agent restarted mid-shard");
      if (!Send(release)) return;
    }
    for (const v1::ResultBatch& batch : *batches) {
      AgentMessage message;
      *message.mutable_results() = batch;
      if (!Send(message)) return;
      stats_.batches_sent.fetch_add(1);
    }
  }

  void SessionLoop() {
    Clock::time_point next_heartbeat = Clock::now();
    Clock::time_point next_poll = Clock::now();
    Clock::time_point last_request = Clock::now() - std::chrono::seconds(1);
    for (;;) {
      std::vector<std::pair<uint64_t, uint64_t>> completions;
      std::vector<uint64_t> heartbeat;
      int request = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        const Clock::time_point wake = std::min(next_heartbeat, next_poll);
        cv_.wait_until(lock, wake, [&] {
          return stopping_ || session_broken_ || lease_freed_ || HasCompletionReady();
        });
        if (stopping_ || session_broken_) return;
        for (auto& [id, lease] : leases_) {
          if (lease->finished && lease->unacked.empty() && !lease->complete_sent) {
            lease->complete_sent = true;
            completions.emplace_back(id, lease->batches_total);
          }
        }
        const Clock::time_point now = Clock::now();
        if (now >= next_heartbeat) {
          for (const auto& [id, lease] : leases_) heartbeat.push_back(id);
          next_heartbeat = now + std::chrono::milliseconds(heartbeat_ms_);
        }
        int busy = 0;
        for (const auto& [id, lease] : leases_) busy += lease->finished ? 0 : 1;
        const int free = options_.capacity - busy;
        if (free > 0 && welcomed_ &&
            (now >= next_poll ||
             (lease_freed_ && now - last_request >= std::chrono::milliseconds(100)))) {
          request = free;
          last_request = now;
          next_poll = now + std::chrono::milliseconds(options_.poll_ms);
        } else if (now >= next_poll) {
          next_poll = now + std::chrono::milliseconds(options_.poll_ms);
        }
        lease_freed_ = false;
      }
      for (const auto& [id, total] : completions) {
        AgentMessage message;
        message.mutable_shard_complete()->set_lease_id(id);
        message.mutable_shard_complete()->set_batches(total);
        if (!Send(message)) return;
      }
      if (!heartbeat.empty()) {
        AgentMessage message;
        for (uint64_t id : heartbeat) message.mutable_heartbeat()->add_lease_ids(id);
        if (!Send(message)) return;
      }
      if (request > 0) {
        AgentMessage message;
        message.mutable_lease_request()->set_shards(request);
        if (!Send(message)) return;
      }
    }
  }

  bool HasCompletionReady() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    for (const auto& [id, lease] : leases_) {
      if (lease->finished && lease->unacked.empty() && !lease->complete_sent) return true;
    }
    return false;
  }

  void ReadLoop() {
    Stream* stream;
    {
      std::lock_guard<std::mutex> lock(write_mutex_);
      stream = stream_.get();
    }
    CoordinatorMessage message;
    while (stream->Read(&message)) Handle(message);
    std::lock_guard<std::mutex> lock(mutex_);
    session_broken_ = true;
    cv_.notify_all();
  }

  void Handle(const CoordinatorMessage& message) {
    switch (message.body_case()) {
      case CoordinatorMessage::kWelcome: {
        std::lock_guard<std::mutex> lock(mutex_);
        welcomed_ = true;
        LogEvent("tlsweep-agent", "connected",
                 {{"coordinator", options_.coordinator},
                  {"region", options_.region},
                  {"coordinator_id", message.welcome().coordinator_id()}});
        if (message.welcome().heartbeat_interval_ms() > 0) {
          heartbeat_ms_ = std::max<int64_t>(50, message.welcome().heartbeat_interval_ms());
        }
        lease_freed_ = true;  // Ask for work now.
        break;
      }
      case CoordinatorMessage::kAssignment: {
        std::lock_guard<std::mutex> lock(mutex_);
        const uint64_t id = message.assignment().lease_id();
        if (leases_.contains(id) || stopping_) break;
        auto lease = std::make_shared<Lease>();
        lease->assignment = message.assignment();
        leases_[id] = lease;
        queue_.push_back(id);
        stats_.assignments.fetch_add(1);
        LogEvent("tlsweep-agent", "lease_granted",
                 {{"region", options_.region},
                  {"scan", lease->assignment.scan_id()},
                  {"shard", std::to_string(lease->assignment.shard())},
                  {"lease", std::to_string(id)},
                  {"attempt", std::to_string(lease->assignment.attempt())}});
        break;
      }
      case CoordinatorMessage::kAck: {
        const v1::BatchAck& ack = message.ack();
        if (ack.status() == v1::BatchAck::STALE) {
          CancelLease(ack.lease_id(), "results refused as stale");
          break;
        }
        (void)spool_->RemoveBatch(ack.lease_id(), ack.seq());
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = leases_.find(ack.lease_id());
        if (it != leases_.end() && it->second->unacked.erase(ack.seq()) > 0) --unacked_total_;
        stats_.batches_acked.fetch_add(1);
        if (ack.status() == v1::BatchAck::DUPLICATE) stats_.batches_duplicate.fetch_add(1);
        break;
      }
      case CoordinatorMessage::kCompleteAck: {
        const uint64_t id = message.complete_ack().lease_id();
        (void)spool_->RemoveLease(id);
        std::lock_guard<std::mutex> lock(mutex_);
        leases_.erase(id);
        lease_freed_ = true;
        if (message.complete_ack().accepted()) stats_.shards_completed.fetch_add(1);
        LogEvent("tlsweep-agent", "lease_completed",
                 {{"region", options_.region},
                  {"lease", std::to_string(id)},
                  {"accepted", message.complete_ack().accepted() ? "true" : "false"},
                  {"detail", message.complete_ack().detail()}});
        break;
      }
      case CoordinatorMessage::kCancelled:
        CancelLease(message.cancelled().lease_id(), message.cancelled().reason());
        break;
      case CoordinatorMessage::kHeartbeatAck:
        for (uint64_t id : message.heartbeat_ack().stale_leases()) {
          CancelLease(id, "lease expired at the coordinator");
        }
        break;
      default:
        break;
    }
    cv_.notify_all();
  }

  // The lease is not ours any more: stop its shard and forget its results.
  void CancelLease(uint64_t id, absl::string_view reason) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = leases_.find(id);
      if (it == leases_.end()) return;
      LogEvent("tlsweep-agent", "lease_cancelled",
               {{"region", options_.region},
                {"scan", it->second->assignment.scan_id()},
                {"lease", std::to_string(id)},
                {"reason", std::string(reason)}});
      it->second->revoked = true;
      it->second->cancelled = true;
      unacked_total_ -= it->second->unacked.size();
      it->second->unacked.clear();
      if (!it->second->running) leases_.erase(it);
      lease_freed_ = true;
      stats_.leases_cancelled.fetch_add(1);
    }
    (void)spool_->RemoveLease(id);
    cv_.notify_all();
  }

  void WorkerLoop() {
    for (;;) {
      std::shared_ptr<Lease> lease;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        const uint64_t id = queue_.front();
        queue_.pop_front();
        auto it = leases_.find(id);
        if (it == leases_.end() || it->second->cancelled) continue;
        lease = it->second;
        lease->running = true;
      }
      RunLease(lease);
    }
  }

  void RunLease(const std::shared_ptr<Lease>& lease) {
    const uint64_t id = lease->assignment.lease_id();
    std::vector<v1::ProbeResult> pending;
    size_t pending_bytes = 0;
    Clock::time_point last_flush = Clock::now();
    auto emit = [&](v1::ProbeResult result) {
      pending_bytes += result.ByteSizeLong();
      pending.push_back(std::move(result));
      // Batches stay small in bytes too (results with certificate chains are ~3 KB each).
      if (pending.size() >= options_.batch_size || pending_bytes >= kMaxBatchBytes ||
          Clock::now() - last_flush >= std::chrono::milliseconds(options_.flush_ms)) {
        Flush(*lease, pending);
        pending_bytes = 0;
        last_flush = Clock::now();
      }
    };
    absl::Status status = runner_(lease->assignment, emit, lease->cancelled);
    if (status.ok() && !lease->cancelled) Flush(*lease, pending);
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lease->running = false;
      lease_freed_ = true;
      if (lease->revoked) {
        leases_.erase(id);
      } else if (lease->cancelled) {
        // Stop(): what was sent stays spooled; the next start gives the lease back.
        cv_.notify_all();
        return;
      } else if (!status.ok()) {
        std::cerr << "tlsweep-agent: shard " << lease->assignment.scan_id() << "/"
                  << lease->assignment.shard() << " failed: " << status << "\n";
        unacked_total_ -= lease->unacked.size();
        leases_.erase(id);
        release = true;
      } else {
        lease->finished = true;
        lease->batches_total = lease->next_seq;
      }
    }
    if (lease->revoked || release) {
      (void)spool_->RemoveLease(id);
    } else if (absl::Status s = spool_->AddCompletion(id, lease->next_seq); !s.ok()) {
      std::cerr << "tlsweep-agent: " << s << "\n";
    }
    if (release) {
      AgentMessage message;
      message.mutable_release()->set_lease_id(id);
      message.mutable_release()->set_reason(std::string(status.message()));
      (void)Send(message);
    }
    cv_.notify_all();
  }

  void Flush(Lease& lease, std::vector<v1::ProbeResult>& pending) {
    if (pending.empty() || lease.cancelled) {
      pending.clear();
      return;
    }
    AgentMessage message;
    v1::ResultBatch* batch = message.mutable_results();
    batch->set_lease_id(lease.assignment.lease_id());
    batch->set_seq(lease.next_seq++);
    for (v1::ProbeResult& result : pending) *batch->add_results() = std::move(result);
    pending.clear();
    if (absl::Status s = spool_->AddBatch(*batch); !s.ok()) {
      std::cerr << "tlsweep-agent: " << s << "\n";
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (lease.cancelled) return;
      lease.unacked.insert(batch->seq());
      ++unacked_total_;
      // The window: probing waits while too much is unacknowledged.
      cv_.wait(lock, [&] {
        return unacked_total_ <= options_.max_unacked_batches || stopping_ || lease.cancelled;
      });
    }
    if (Send(message)) stats_.batches_sent.fetch_add(1);
  }

  const AgentClientOptions options_;
  const ShardRunner runner_;
  std::unique_ptr<Spool> spool_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<uint64_t, std::shared_ptr<Lease>> leases_ ABSL_GUARDED_BY(mutex_);
  std::deque<uint64_t> queue_ ABSL_GUARDED_BY(mutex_);
  std::set<uint64_t> releases_ ABSL_GUARDED_BY(mutex_);
  size_t unacked_total_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool session_broken_ ABSL_GUARDED_BY(mutex_) = false;  // Reading ended: the stream is over.
  bool welcomed_ ABSL_GUARDED_BY(mutex_) = false;
  bool lease_freed_ ABSL_GUARDED_BY(mutex_) = false;
  int64_t heartbeat_ms_ ABSL_GUARDED_BY(mutex_) = 10'000;

  std::mutex context_mutex_;
  std::unique_ptr<grpc::ClientContext> context_ ABSL_GUARDED_BY(context_mutex_);
  std::mutex write_mutex_;
  std::unique_ptr<Stream> stream_ ABSL_GUARDED_BY(write_mutex_);
  bool stream_ok_ ABSL_GUARDED_BY(write_mutex_) = false;
};

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::Create(AgentClientOptions options,
                                                                 ShardRunner runner) {
  if (options.agent_id.empty() || options.region.empty() || options.coordinator.empty()) {
    return absl::InvalidArgumentError("an agent needs an id, a region and a coordinator");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials({.insecure = options.insecure,
                              .ca_file = options.ca_file,
                              .cert_file = options.cert_file,
                              .key_file = options.key_file});
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<std::unique_ptr<Spool>> spool =
      Spool::Open(options.spool_path.empty() ? ":memory:" : options.spool_path);
  if (!spool.ok()) return spool.status();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(runner), *std::move(spool),
                                     *std::move(credentials));
  if (absl::Status s = impl->Restore(); !s.ok()) return s;
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(impl)));
}

AgentClient::AgentClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AgentClient::~AgentClient() { Stop(); }
void AgentClient::Run() { impl_->Run(); }
void AgentClient::Stop() { impl_->Stop(); }
const AgentClientStats& AgentClient::stats() const { return impl_->stats_; }

}  // namespace tlsweep::agent
