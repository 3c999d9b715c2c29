#include "agent/dns/ares_channel.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asio/associated_executor.hpp"
#include "asio/async_result.hpp"
#include "asio/execution/outstanding_work.hpp"
#include "asio/post.hpp"
#include "asio/prefer.hpp"
#include "asio/use_awaitable.hpp"

namespace tlsweep::agent::dns_internal {
namespace {

// EDNS0 buffer size of the DNS Flag Day 2020: large MX sets fit without a TCP retry, yet
// fragmentation stays unlikely.
constexpr int kEdnsPayloadSize = 1232;

// One query from Query() to its answer; owned by the waiting queue, then by c-ares (as the
// callback argument) until OnAnswer runs.
class PendingQueryBase {
 public:
  virtual ~PendingQueryBase() = default;
  virtual void Complete(DnsAnswer answer) = 0;

  AresChannel* channel = nullptr;  // Set while the query counts towards the in-flight limit.
};

template <typename Handler>
class PendingQuery : public PendingQueryBase {
 public:
  PendingQuery(Handler handler, const asio::any_io_executor& executor)
      : handler_(std::move(handler)),
        // Keeps the io_context's run() from returning while the query waits on c-ares.
        work_(asio::prefer(executor, asio::execution::outstanding_work.tracked)) {}

  void Complete(DnsAnswer answer) override {
    // Posted, never run inline: c-ares is mid-ares_process_fd() here, and the resumed coroutine
    // may start queries or destroy the resolver.
    asio::any_io_executor target = asio::get_associated_executor(handler_, work_);
    asio::post(target, [handler = std::move(handler_), answer = std::move(answer)]() mutable {
      std::move(handler)(std::move(answer));
    });
    work_ = asio::any_io_executor();
  }

 private:
  Handler handler_;
  asio::any_io_executor work_;
};

// True if `fd` is ready now. Asio's epoll reactor is edge-triggered and c-ares may leave data
// unread (one TCP read per call), so a fresh async_wait alone could sleep on a ready socket.
bool ReadyNow(int fd, short events) {
  pollfd entry{fd, events, 0};
  return ::poll(&entry, 1, 0) > 0 && (entry.revents & (events | POLLERR | POLLHUP)) != 0;
}

}  // namespace

struct AresChannel::FdWatch {
  FdWatch(const asio::any_io_executor& executor, int fd) : descriptor(executor), fd(fd) {}

  asio::posix::stream_descriptor descriptor;  // Never owns fd: released, never closed.
  int fd;
  bool active = true;  // False once c-ares stopped caring; late handlers then do nothing.
  bool want[2] = {false, false};
  bool pending[2] = {false, false};
};

struct AresChannel::WaitingQuery {
  std::string name;
  int dns_type;
  void* query;  // A PendingQueryBase.
};

AresChannel::AresChannel(asio::any_io_executor executor, size_t max_in_flight)
    : executor_(std::move(executor)), max_in_flight_(max_in_flight), timer_(executor_) {}

absl::StatusOr<std::shared_ptr<AresChannel>> AresChannel::Create(asio::any_io_executor executor,
                                                                 const ResolverOptions& options) {
  static std::once_flag library_init;
  static int library_status = ARES_SUCCESS;
  std::call_once(library_init, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (library_status != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_library_init: ", ares_strerror(library_status)));
  }

  std::vector<DnsServer> servers;
  for (const std::string& text : options.servers) {
    absl::StatusOr<DnsServer> server = ParseDnsServer(text);
    if (!server.ok()) return server.status();
    servers.push_back(*server);
  }

  std::shared_ptr<AresChannel> channel(
      new AresChannel(std::move(executor), options.max_queries_in_flight));
  ares_options ares{};
  int mask = 0;
  // NOCHECKRESP: c-ares 1.18 otherwise hides SERVFAIL/REFUSED behind "Could not contact DNS
  // servers" (ECONNREFUSED) after trying the other servers; the scanner reports the rcode.
  ares.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
  ares.ednspsz = kEdnsPayloadSize;
  mask |= ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
  ares.timeout = static_cast<int>(options.timeout.count());
  mask |= ARES_OPT_TIMEOUTMS;
  ares.tries = options.tries;
  mask |= ARES_OPT_TRIES;
  // DNS only: a scanner must see what the Internet says, not this machine's /etc/hosts.
  char lookups[] = "b";
  ares.lookups = lookups;
  mask |= ARES_OPT_LOOKUPS;
  // Names are absolute; resolv.conf's search list must never turn "example.com" into
  // "example.com.corp.internal".
  ares.domains = nullptr;
  ares.ndomains = 0;
  mask |= ARES_OPT_DOMAINS;
  ares.sock_state_cb = [](void* data, ares_socket_t fd, int readable, int writable) {
    OnSocketState(data, fd, readable, writable);
  };
  ares.sock_state_cb_data = channel.get();
  mask |= ARES_OPT_SOCK_STATE_CB;
  if (const int status = ares_init_options(&channel->channel_, &ares, mask);
      status != ARES_SUCCESS) {
    channel->channel_ = nullptr;
    return absl::InternalError(absl::StrCat("ares_init_options: ", ares_strerror(status)));
  }

  if (!servers.empty()) {
    std::vector<ares_addr_port_node> nodes(servers.size());
    for (size_t i = 0; i < servers.size(); ++i) {
      ares_addr_port_node& node = nodes[i];
      node.next = i + 1 < servers.size() ? &nodes[i + 1] : nullptr;
      node.udp_port = node.tcp_port = servers[i].port;
      if (servers[i].address.is_v4()) {
        node.family = AF_INET;
        const auto bytes = servers[i].address.to_v4().to_bytes();
        std::memcpy(&node.addr.addr4, bytes.data(), bytes.size());
      } else {
        node.family = AF_INET6;
        const auto bytes = servers[i].address.to_v6().to_bytes();
        std::memcpy(&node.addr.addr6, bytes.data(), bytes.size());
      }
    }
    if (const int status = ares_set_servers_ports(channel->channel_, nodes.data());
        status != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("ares_set_servers_ports: ", ares_strerror(status)));
    }
  }
  return channel;
}

AresChannel::~AresChannel() { Shutdown(); }

void AresChannel::Shutdown() {
  if (channel_ != nullptr) {
    ares_channel channel = channel_;
    channel_ = nullptr;
    // Runs every pending callback with ARES_EDESTRUCTION (they post) and closes the sockets.
    ares_destroy(channel);
  }
  while (!waiting_.empty()) {
    void* query = waiting_.front().query;
    waiting_.pop_front();
    OnAnswer(query, ARES_EDESTRUCTION, 0, nullptr, 0);
  }
  for (auto& [fd, watch] : watches_) ReleaseWatch(*watch);
  watches_.clear();
  ++timer_generation_;
  timer_pending_ = false;
  timer_.cancel();
}

asio::awaitable<DnsAnswer> AresChannel::Query(std::string name, int dns_type) {
  // Not a coroutine: async_initiate's awaitable runs the initiation when awaited. The
  // initiation keeps the channel alive until the answer arrives, even if the resolver goes.
  auto initiation = [self = shared_from_this(), name = std::move(name), dns_type](auto handler) {
    self->Submit(std::move(name), dns_type,
                 new PendingQuery<decltype(handler)>(std::move(handler), self->executor_));
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(DnsAnswer)>(
      std::move(initiation), asio::use_awaitable);
}

void AresChannel::Submit(std::string name, int dns_type, void* query) {
  if (channel_ == nullptr) {
    OnAnswer(query, ARES_EDESTRUCTION, 0, nullptr, 0);
    return;
  }
  if (in_flight_ >= max_in_flight_) {
    waiting_.push_back({std::move(name), dns_type, query});
    return;
  }
  ++in_flight_;
  static_cast<PendingQueryBase*>(query)->channel = this;
  ares_query(channel_, name.c_str(), ns_c_in, dns_type, &AresChannel::OnAnswer, query);
  UpdateTimer();
}

void AresChannel::OnAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<PendingQueryBase> query(static_cast<PendingQueryBase*>(arg));
  DnsAnswer answer;
  answer.status = status;
  if (abuf != nullptr && alen > 0) answer.message.assign(abuf, abuf + alen);
  query->Complete(std::move(answer));
  if (AresChannel* channel = query->channel; channel != nullptr) {
    --channel->in_flight_;
    // c-ares allows new queries from its callbacks (its own ares_search does so).
    channel->SubmitWaiting();
  }
}

void AresChannel::SubmitWaiting() {
  // A query that fails synchronously re-enters through OnAnswer; the outer loop goes on.
  if (submitting_) return;
  submitting_ = true;
  while (channel_ != nullptr && in_flight_ < max_in_flight_ && !waiting_.empty()) {
    WaitingQuery next = std::move(waiting_.front());
    waiting_.pop_front();
    Submit(std::move(next.name), next.dns_type, next.query);
  }
  submitting_ = false;
}

void AresChannel::OnSocketState(void* data, int fd, int readable, int writable) {
  static_cast<AresChannel*>(data)->SetSocketState(fd, readable != 0, writable != 0);
}

void AresChannel::SetSocketState(int fd, bool readable, bool writable) {
  auto it = watches_.find(fd);
  if (!readable && !writable) {
    // c-ares is about to close fd: stop watching first so a reused fd number starts clean.
    if (it != watches_.end()) {
      ReleaseWatch(*it->second);
      watches_.erase(it);
    }
    return;
  }
  if (it == watches_.end()) {
    auto watch = std::make_shared<FdWatch>(executor_, fd);
    asio::error_code error;
    watch->descriptor.assign(fd, error);
    // On failure the socket is simply not watched and c-ares' timeout ends its queries.
    if (error) return;
    it = watches_.emplace(fd, std::move(watch)).first;
  }
  std::shared_ptr<FdWatch> watch = it->second;
  watch->want[static_cast<int>(Direction::kRead)] = readable;
  watch->want[static_cast<int>(Direction::kWrite)] = writable;
  Arm(watch, Direction::kRead);
  Arm(watch, Direction::kWrite);
}

void AresChannel::Arm(const std::shared_ptr<FdWatch>& watch, Direction direction) {
  const int index = static_cast<int>(direction);
  if (!watch->active || !watch->want[index] || watch->pending[index]) return;
  watch->pending[index] = true;
  std::weak_ptr<AresChannel> weak = weak_from_this();
  auto on_ready = [weak, watch, direction](const asio::error_code& error) {
    std::shared_ptr<AresChannel> self = weak.lock();
    if (self == nullptr) return;
    watch->pending[static_cast<int>(direction)] = false;
    if (error == asio::error::operation_aborted) return;
    self->OnReady(watch, direction);
  };
  if (ReadyNow(watch->fd, direction == Direction::kRead ? POLLIN : POLLOUT)) {
    asio::post(executor_, [on_ready] { on_ready(asio::error_code()); });
  } else {
    watch->descriptor.async_wait(direction == Direction::kRead
                                     ? asio::posix::stream_descriptor::wait_read
                                     : asio::posix::stream_descriptor::wait_write,
                                 std::move(on_ready));
  }
}

void AresChannel::OnReady(const std::shared_ptr<FdWatch>& watch, Direction direction) {
  if (!watch->active || channel_ == nullptr) return;
  if (watch->want[static_cast<int>(direction)]) {
    const int fd = watch->fd;
    ares_process_fd(channel_, direction == Direction::kRead ? fd : ARES_SOCKET_BAD,
                    direction == Direction::kWrite ? fd : ARES_SOCKET_BAD);
  }
  Arm(watch, direction);  // No-op if c-ares closed the socket meanwhile.
  UpdateTimer();
}

void AresChannel::ReleaseWatch(FdWatch& watch) {
  watch.active = false;
  // release() cancels pending waits and deregisters fd without closing it: fd is c-ares'.
  watch.descriptor.release();
}

void AresChannel::UpdateTimer() {
  if (channel_ == nullptr) return;
  timeval wait{};
  if (ares_timeout(channel_, nullptr, &wait) == nullptr) {
    // No query pending: nothing to time out.
    if (timer_pending_) {
      ++timer_generation_;
      timer_pending_ = false;
      timer_.cancel();
    }
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait.tv_sec) +
                        std::chrono::microseconds(wait.tv_usec);
  // A later deadline keeps the current wait: it fires early and re-arms, which is cheaper than
  // cancelling a timer on every packet.
  if (timer_pending_ && timer_.expiry() <= deadline) return;
  timer_.expires_at(deadline);
  timer_pending_ = true;
  const uint64_t generation = ++timer_generation_;
  std::weak_ptr<AresChannel> weak = weak_from_this();
  timer_.async_wait([weak, generation](const asio::error_code& error) {
    std::shared_ptr<AresChannel> self = weak.lock();
    if (self == nullptr || error == asio::error::operation_aborted ||
        generation != self->timer_generation_) {
      return;
    }
    self->timer_pending_ = false;
    if (self->channel_ == nullptr) return;
    // With no fd, c-ares only handles expired tries: retries or ARES_ETIMEOUT.
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self->UpdateTimer();
  });
}

}  // namespace tlsweep::agent::dns_internal
