#include "bench/synthetic_agent.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

namespace tlsweep::bench {
namespace {

namespace v1 = ::tlsweep::v1;
using Clock = std::chrono::steady_clock;

// An unanswered lease request is taken as "nothing to lease" after this long.
constexpr auto kRequestTimeout = std::chrono::milliseconds(500);
// How long the writer sleeps when it has nothing to do.
constexpr auto kIdleWait = std::chrono::milliseconds(20);

double ThreadCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// A lease whose batches are all sent, waiting for their acknowledgements.
struct Finishing {
  uint64_t lease_id = 0;
  uint64_t batches = 0;
};

}  // namespace

SyntheticAgent::SyntheticAgent(std::shared_ptr<grpc::Channel> channel,
                               SyntheticAgentOptions options, const SyntheticResults& results)
    : channel_(std::move(channel)),
      options_(std::move(options)),
      results_(results),
      stub_(v1::AgentService::NewStub(channel_)) {}

SyntheticAgent::~SyntheticAgent() { Stop(); }

void SyntheticAgent::Start() {
  stream_ = stub_->Connect(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
  writer_ = std::thread([this] { Run(); });
}

void SyntheticAgent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (writer_.joinable()) writer_.join();
}

SyntheticAgentStats SyntheticAgent::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

bool SyntheticAgent::Write(const v1::AgentMessage& message) { return stream_->Write(message); }

void SyntheticAgent::Run() {
  v1::AgentMessage hello;
  hello.mutable_hello()->set_agent_id(options_.agent_id);
  hello.mutable_hello()->set_region(options_.region);
  hello.mutable_hello()->set_capacity(static_cast<uint32_t>(options_.capacity));
  hello.mutable_hello()->set_version("coordinator_bench");
  hello.mutable_hello()->add_backends()->set_name("openssl");
  // Its results are final (no routes), so no probe unit ever exists; one would be completed
  // empty.
  hello.mutable_hello()->set_runs_endpoint_units(true);
  hello.mutable_hello()->set_shares_addresses(true);
  bool ok = Write(hello);
  if (ok) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return welcomed_ || Over(); });
  }
  std::vector<Finishing> finishing;
  Clock::time_point last_request;
  while (ok) {
    std::vector<Finishing> complete;
    std::optional<v1::ShardAssignment> next;
    uint64_t want = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto acknowledged = [this](const Finishing& lease) {
        auto it = unacked_per_lease_.find(lease.lease_id);
        return it == unacked_per_lease_.end() || it->second == 0;
      };
      changed_.wait_for(lock, kIdleWait, [&] {
        return Over() || !assignments_.empty() ||
               std::any_of(finishing.begin(), finishing.end(), acknowledged);
      });
      if (Over()) break;
      auto done =
          std::stable_partition(finishing.begin(), finishing.end(),
                                [&](const Finishing& lease) { return !acknowledged(lease); });
      complete.assign(done, finishing.end());
      finishing.erase(done, finishing.end());
      for (const Finishing& lease : complete) unacked_per_lease_.erase(lease.lease_id);
      held_ -= complete.size();
      if (!assignments_.empty()) {
        next = std::move(assignments_.front());
        assignments_.pop_front();
      }
      if (Clock::now() - last_request >= kRequestTimeout) asked_ = 0;
      const uint64_t capacity = static_cast<uint64_t>(std::max(options_.capacity, 1));
      if (held_ + asked_ < capacity) want = capacity - held_ - asked_;
      asked_ += want;
    }
    for (const Finishing& lease : complete) {
      v1::AgentMessage message;
      message.mutable_shard_complete()->set_lease_id(lease.lease_id);
      message.mutable_shard_complete()->set_batches(lease.batches);
      ok = ok && Write(message);
    }
    if (ok && want > 0) {
      v1::AgentMessage message;
      message.mutable_lease_request()->set_shards(static_cast<uint32_t>(want));
      ok = Write(message);
      last_request = Clock::now();
    }
    if (ok && next.has_value()) {
      const int64_t batches = SendResults(*next);
      ok = batches >= 0;
      if (ok) finishing.push_back({next->lease_id(), static_cast<uint64_t>(batches)});
    }
  }
  stream_->WritesDone();
  reader_.join();
  const grpc::Status status = stream_->Finish();
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.cpu_s += ThreadCpuSeconds();
  if (!status.ok() || (!ok && !stopping_)) {
    stats_.error = status.ok() ? "the stream broke" : status.error_message();
  }
}

int64_t SyntheticAgent::SendResults(const v1::ShardAssignment& assignment) {
  const bool probe_unit = assignment.kind() == v1::UNIT_PROBE_ENDPOINTS;
  // A probe unit answers each endpoint once per candidate.
  const int candidates = std::max(1, assignment.profile().candidates_size());
  const int total =
      probe_unit ? assignment.endpoints_size() * candidates : assignment.targets_size();
  const int batch_size = static_cast<int>(std::max<size_t>(options_.batch_size, 1));
  uint64_t seq = 0;
  for (int first = 0; first < total; first += batch_size) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return Over() || unacked_.size() < options_.window; });
      if (Over()) return -1;
    }
    v1::AgentMessage message;
    v1::ResultBatch* batch = message.mutable_results();
    batch->set_lease_id(assignment.lease_id());
    batch->set_seq(seq);
    const int last = std::min(total, first + batch_size);
    for (int i = first; i < last; ++i) {
      if (probe_unit) {
        *batch->add_results() =
            results_.ForEndpoint(assignment, assignment.endpoints(i / candidates), i % candidates);
      } else if (options_.two_phase) {
        *batch->add_results() = results_.RouteFor(assignment.targets(i));
      } else {
        *batch->add_results() = results_.For(assignment, assignment.targets(i));
      }
    }
    {
      // Recorded before the write: the acknowledgement may beat Write() back.
      std::lock_guard<std::mutex> lock(mutex_);
      unacked_[{assignment.lease_id(), seq}] = static_cast<uint32_t>(last - first);
      ++unacked_per_lease_[assignment.lease_id()];
      stats_.bytes += message.ByteSizeLong();
    }
    if (!Write(message)) return -1;
    ++seq;
  }
  return static_cast<int64_t>(seq);
}

void SyntheticAgent::ReadLoop() {
  v1::CoordinatorMessage message;
  while (stream_->Read(&message)) {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (message.body_case()) {
      case v1::CoordinatorMessage::kWelcome:
        welcomed_ = true;
        break;
      case v1::CoordinatorMessage::kAssignment:
        ++stats_.leases;
        ++held_;
        if (asked_ > 0) --asked_;
        assignments_.push_back(std::move(*message.mutable_assignment()));
        break;
      case v1::CoordinatorMessage::kAck: {
        const v1::BatchAck& ack = message.ack();
        auto it = unacked_.find({ack.lease_id(), ack.seq()});
        if (it == unacked_.end()) break;
        if (ack.status() == v1::BatchAck::ACCEPTED) {
          ++stats_.batches;
          stats_.results += it->second;
        } else {
          ++stats_.refused;
        }
        unacked_.erase(it);
        --unacked_per_lease_[ack.lease_id()];
        break;
      }
      case v1::CoordinatorMessage::kCompleteAck:
        if (message.complete_ack().accepted()) {
          ++stats_.completed;
        } else {
          ++stats_.refused;
        }
        break;
      default:  // Cancellations and heartbeat acks: a bench run has neither.
        break;
    }
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.cpu_s += ThreadCpuSeconds();
  ended_ = true;
  changed_.notify_all();
}

}  // namespace tlsweep::bench
