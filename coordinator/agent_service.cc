#include "coordinator/agent_service.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/event_log.h"
#include "coordinator/peer_roles.h"
#include "coordinator/reply_queue.h"

namespace tlsweep::coordinator {
namespace {

constexpr int kMaxBatchResults = 10'000;

using ::tlsweep::v1::AgentMessage;
using ::tlsweep::v1::CoordinatorMessage;

// Replies (acks, assignments of up to max_shard_size targets) queued for one agent before its
// stream stops reading from it.
constexpr size_t kMaxQueuedReplyBytes = 8 << 20;

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Finishes at once with `status` (an unauthenticated peer).
class RefusingReactor final : public grpc::ServerBidiReactor<AgentMessage, CoordinatorMessage> {
 public:
  explicit RefusingReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

class AgentStreamReactor final : public grpc::ServerBidiReactor<AgentMessage, CoordinatorMessage>,
                                 public AgentConnection {
 public:
  // `roles`: what the client certificate allows; nullopt under --dev (no certificates).
  AgentStreamReactor(Coordinator& coordinator, std::string peer, std::optional<PeerRoles> roles)
      : coordinator_(coordinator), peer_(std::move(peer)), roles_(std::move(roles)) {
    std::lock_guard<std::mutex> lock(mutex_);
    StartRead(&incoming_);
  }

  void Send(CoordinatorMessage message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finish_requested_) return;
    if (outgoing_.Push(std::move(message))) StartWrite(&outgoing_.front());
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // The agent closed its side, or the stream broke.
      RequestFinish(grpc::Status::OK);
      return;
    }
    refs_.fetch_add(1);
    coordinator_.workers().Post([this, message = std::move(incoming_)] {
      absl::Status status = Handle(message);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (status.ok() && !finish_requested_) {
          // An agent that does not read its replies stops being read (OnWriteDone resumes).
          if (outgoing_.full()) {
            reads_paused_ = true;
          } else {
            StartRead(&incoming_);
          }
        }
      }
      if (!status.ok()) RequestFinish(ToGrpc(status));
      Unref();
    });
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    bool more = outgoing_.PopWritten();
    if (!ok) {
      outgoing_.Clear();
      more = false;
      finish_requested_ = true;
    }
    if (reads_paused_ && outgoing_.drained() && !finish_requested_) {
      reads_paused_ = false;
      StartRead(&incoming_);
    }
    if (more) {
      StartWrite(&outgoing_.front());
      return;
    }
    if (finish_requested_ && !finished_) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  void OnCancel() override { RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "")); }

  void OnDone() override { Unref(); }

 private:
  // The last reference (the stream is done and no message is being handled) unregisters the
  // agent and deletes the reactor, on a worker: the store is not touched from a reaction.
  void Unref() {
    if (refs_.fetch_sub(1) != 1) return;
    coordinator_.workers().Post([this] {
      if (!agent_id_.empty()) {
        coordinator_.Unregister(agent_id_, this);
        (void)coordinator_.store().RecordAgent(hello_, peer_, false, NowUnixMs());
        LogEvent("tlsweep-coordinator", "agent_disconnected",
                 {{"agent", agent_id_},
                  {"region", hello_.region()},
                  {"peer", peer_},
                  {"status", final_status_.ok() ? "ok" : final_status_.error_message()}});
      }
      delete this;
    });
  }

  // Finishes once the write queue has drained.
  void RequestFinish(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finish_requested_) {
      if (!outgoing_.writing() && !finished_) {
        finished_ = true;
        Finish(final_status_);
      }
      return;
    }
    finish_requested_ = true;
    final_status_ = std::move(status);
    if (!outgoing_.writing()) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  // Runs on a worker thread, one message of this stream at a time.
  absl::Status Handle(const AgentMessage& message) {
    Store& store = coordinator_.store();
    const CoordinatorOptions& options = coordinator_.options();
    const int64_t now = NowUnixMs();
    if (message.has_hello()) {
      if (!agent_id_.empty()) return absl::FailedPreconditionError("hello sent twice");
      const v1::AgentHello& hello = message.hello();
      if (hello.agent_id().empty() || hello.region().empty()) {
        return absl::InvalidArgumentError("hello needs an agent id and a region");
      }
      if (roles_.has_value()) {
        if (absl::Status s = AuthorizeAgent(*roles_, hello.region(), hello.agent_id()); !s.ok()) {
          return s;
        }
      }
      if (!hello.runs_endpoint_units()) {
        // Probe units would wait for ever in a region served only by such agents.
        return absl::FailedPreconditionError(
            "this coordinator needs agents that run endpoint units (resolve, then probe "
            "unique endpoints); upgrade tlsweep-agent");
      }
      if (!hello.shares_addresses()) {
        return absl::FailedPreconditionError(
            "this coordinator probes each shared address once for all its MX names, which this "
            "agent does not know how to do; upgrade tlsweep-agent");
      }
      hello_ = hello;
      hello_.clear_held_leases();
      if (absl::Status s = store.RecordAgent(hello_, peer_, true, now); !s.ok()) return s;
      agent_id_ = hello.agent_id();
      coordinator_.Register(agent_id_, this);
      coordinator_.metrics().agent_connects.fetch_add(1);
      LogEvent("tlsweep-coordinator", "agent_connected",
               {{"agent", agent_id_},
                {"region", hello_.region()},
                {"peer", peer_},
                {"capacity", std::to_string(hello_.capacity())},
                {"held_leases", std::to_string(hello.held_leases_size())}});
      CoordinatorMessage welcome;
      welcome.mutable_welcome()->set_coordinator_id(options.coordinator_id);
      welcome.mutable_welcome()->set_heartbeat_interval_ms(options.heartbeat_ms);
      welcome.mutable_welcome()->set_lease_duration_ms(options.lease_ms);
      Send(std::move(welcome));
      if (hello.held_leases_size() > 0) {
        std::vector<uint64_t> held(hello.held_leases().begin(), hello.held_leases().end());
        absl::StatusOr<std::vector<uint64_t>> stale =
            store.ExtendLeases(agent_id_, held, now, options.lease_ms);
        if (!stale.ok()) return stale.status();
        for (uint64_t lease_id : *stale) {
          CoordinatorMessage cancelled;
          cancelled.mutable_cancelled()->set_lease_id(lease_id);
          cancelled.mutable_cancelled()->set_reason("lease no longer held");
          Send(std::move(cancelled));
        }
      }
      return absl::OkStatus();
    }
    if (agent_id_.empty()) return absl::FailedPreconditionError("the first message must be hello");
    switch (message.body_case()) {
      case AgentMessage::kLeaseRequest: {
        // An agent starts its next unit while the last one's results are still being
        // acknowledged, so it may hold up to twice its capacity; never more, whatever it asks.
        const int64_t capacity = std::max(hello_.capacity(), 1u);
        absl::StatusOr<int64_t> held = store.HeldLeases(agent_id_);
        if (!held.ok()) return held.status();
        const int want = static_cast<int>(std::max<int64_t>(
            0,
            std::min<int64_t>({message.lease_request().shards(), capacity, 2 * capacity - *held})));
        absl::StatusOr<std::vector<v1::ShardAssignment>> assignments = store.LeaseShards(
            agent_id_, hello_.region(), want, now, options.lease_ms, hello_.runs_endpoint_units());
        if (!assignments.ok()) return assignments.status();
        coordinator_.metrics().leases_granted.fetch_add(assignments->size());
        for (v1::ShardAssignment& assignment : *assignments) {
          LogEvent("tlsweep-coordinator", "lease_granted",
                   {{"agent", agent_id_},
                    {"region", assignment.region()},
                    {"scan", assignment.scan_id()},
                    {"shard", std::to_string(assignment.shard())},
                    {"unit", assignment.kind() == v1::UNIT_PROBE_ENDPOINTS ? "probe"
                             : assignment.kind() == v1::UNIT_RESOLVE       ? "resolve"
                                                                           : "targets"},
                    {"lease", std::to_string(assignment.lease_id())},
                    {"attempt", std::to_string(assignment.attempt())}});
          CoordinatorMessage out;
          *out.mutable_assignment() = std::move(assignment);
          Send(std::move(out));
        }
        if (!assignments->empty()) coordinator_.NotifyChanged();
        return absl::OkStatus();
      }
      case AgentMessage::kResults: {
        // One batch is one store transaction under the store's mutex: a huge one would stall
        // every other agent's leases and heartbeats. Agents flush long before this.
        if (message.results().results_size() > kMaxBatchResults) {
          return absl::InvalidArgumentError(
              absl::StrCat("a batch of ", message.results().results_size(),
                           " results is above the coordinator's ", kMaxBatchResults,
                           "; lower tlsweep-agent --batch-size"));
        }
        const auto ingest_start = std::chrono::steady_clock::now();
        absl::StatusOr<BatchOutcome> outcome = store.IngestBatch(agent_id_, message.results());
        coordinator_.metrics().batch_ingest_seconds.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - ingest_start).count());
        if (outcome.ok() && *outcome == BatchOutcome::kAccepted) {
          coordinator_.metrics().batches_ingested.fetch_add(1);
          coordinator_.metrics().results_ingested.fetch_add(message.results().results_size());
        }
        if (absl::IsPermissionDenied(outcome.status())) {
          // Results that are not the lease's: the unit goes to another agent, and this one is
          // told to drop the lease (a stale ack), not to resend the batch for ever.
          std::cerr << "tlsweep-coordinator: agent " << agent_id_ << ": "
                    << outcome.status().message() << "; lease taken back\n";
          if (absl::Status s = store.ReleaseLease(agent_id_, message.results().lease_id(), now);
              !s.ok()) {
            return s;
          }
          coordinator_.NotifyChanged();
          outcome = BatchOutcome::kStale;
        }
        if (!outcome.ok()) return outcome.status();
        CoordinatorMessage out;
        v1::BatchAck* ack = out.mutable_ack();
        ack->set_lease_id(message.results().lease_id());
        ack->set_seq(message.results().seq());
        ack->set_status(*outcome == BatchOutcome::kAccepted    ? v1::BatchAck::ACCEPTED
                        : *outcome == BatchOutcome::kDuplicate ? v1::BatchAck::DUPLICATE
                                                               : v1::BatchAck::STALE);
        Send(std::move(out));
        if (*outcome == BatchOutcome::kAccepted) coordinator_.NotifyChanged();
        return absl::OkStatus();
      }
      case AgentMessage::kShardComplete: {
        std::string detail;
        absl::StatusOr<bool> accepted =
            store.CompleteLease(agent_id_, message.shard_complete().lease_id(),
                                message.shard_complete().batches(), now, &detail);
        if (!accepted.ok()) return accepted.status();
        CoordinatorMessage out;
        out.mutable_complete_ack()->set_lease_id(message.shard_complete().lease_id());
        out.mutable_complete_ack()->set_accepted(*accepted);
        out.mutable_complete_ack()->set_detail(detail);
        Send(std::move(out));
        coordinator_.NotifyChanged();
        return absl::OkStatus();
      }
      case AgentMessage::kHeartbeat: {
        std::vector<uint64_t> leases(message.heartbeat().lease_ids().begin(),
                                     message.heartbeat().lease_ids().end());
        absl::StatusOr<std::vector<uint64_t>> stale =
            store.ExtendLeases(agent_id_, leases, now, options.lease_ms);
        if (!stale.ok()) return stale.status();
        CoordinatorMessage out;
        out.mutable_heartbeat_ack()->set_lease_expiry_unix_ms(now + options.lease_ms);
        for (uint64_t lease_id : *stale) out.mutable_heartbeat_ack()->add_stale_leases(lease_id);
        Send(std::move(out));
        return absl::OkStatus();
      }
      case AgentMessage::kRelease: {
        absl::Status s = store.ReleaseLease(agent_id_, message.release().lease_id(), now);
        if (s.ok()) coordinator_.NotifyChanged();
        return s;
      }
      default:
        return absl::InvalidArgumentError("unknown agent message");
    }
  }

  Coordinator& coordinator_;
  const std::string peer_;
  const std::optional<PeerRoles> roles_;
  std::atomic<int> refs_{1};  // The stream itself (dropped in OnDone) and posted work.
  // Touched only by the worker handling this stream's current message (one at a time).
  std::string agent_id_;
  v1::AgentHello hello_;

  std::mutex mutex_;
  AgentMessage incoming_;
  ReplyQueue outgoing_{kMaxQueuedReplyBytes};
  bool reads_paused_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

std::string PeerIdentity(grpc::CallbackServerContext* context) {
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  std::string identity = context->peer();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<std::string> names;
    for (const grpc::string_ref& name : auth->GetPeerIdentity()) {
      names.emplace_back(name.data(), name.size());
    }
    identity = absl::StrCat(absl::StrJoin(names, ","), "@", identity);
  }
  return identity;
}

}  // namespace

grpc::ServerBidiReactor<AgentMessage, CoordinatorMessage>* AgentServiceImpl::Connect(
    grpc::CallbackServerContext* context) {
  std::optional<PeerRoles> roles;
  if (require_client_certificate_) {
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      return new RefusingReactor(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                              "agents need a client certificate from the CA"));
    }
    roles = PeerRolesOf(*auth);
    if (roles->agents.empty()) {  // Refused before any hello, with the hello's explanation.
      return new RefusingReactor(ToGrpc(AuthorizeAgent(*roles, "", "")));
    }
  }
  return new AgentStreamReactor(coordinator_, PeerIdentity(context), std::move(roles));
}

}  // namespace tlsweep::coordinator
