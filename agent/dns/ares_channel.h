// One c-ares channel driven by an Asio executor: c-ares' sockets are watched with non-owning
// stream_descriptors and its retry/timeout clock with a steady_timer, so queries cost no thread
// and never block the event loop.
//
// Not thread-safe: a channel belongs to one executor, which must not run handlers concurrently
// (an io_context run by one thread, or a strand). Internal to agent/dns.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/dns/resolver_options.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "asio/posix/stream_descriptor.hpp"
#include "asio/steady_timer.hpp"

typedef struct ares_channeldata* ares_channel;

namespace tlsweep::agent::dns_internal {

// A raw DNS answer as c-ares delivered it.
struct DnsAnswer {
  int status = 0;                      // ARES_SUCCESS or an ARES_E* code.
  std::vector<unsigned char> message;  // The whole DNS message when one was received.
};

class AresChannel : public std::enable_shared_from_this<AresChannel> {
 public:
  static absl::StatusOr<std::shared_ptr<AresChannel>> Create(asio::any_io_executor executor,
                                                             const ResolverOptions& options);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // Sends one class IN query for `name` (taken literally: no search domains, no hosts file) and
  // completes on this channel's executor. At most options.max_queries_in_flight are sent at
  // once; later ones wait in FIFO order. After Shutdown() it completes with ARES_EDESTRUCTION.
  asio::awaitable<DnsAnswer> Query(std::string name, int dns_type);

  // Ends every pending query with ARES_EDESTRUCTION and lets go of c-ares' sockets.
  void Shutdown();

  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct FdWatch;
  struct WaitingQuery;
  enum class Direction { kRead, kWrite };

  AresChannel(asio::any_io_executor executor, size_t max_in_flight);

  void Submit(std::string name, int dns_type, void* query);
  static void OnAnswer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void SubmitWaiting();

  static void OnSocketState(void* data, int fd, int readable, int writable);
  void SetSocketState(int fd, bool readable, bool writable);
  void Arm(const std::shared_ptr<FdWatch>& watch, Direction direction);
  void OnReady(const std::shared_ptr<FdWatch>& watch, Direction direction);
  void ReleaseWatch(FdWatch& watch);
  void UpdateTimer();

  asio::any_io_executor executor_;
  ares_channel channel_ = nullptr;
  const size_t max_in_flight_;
  size_t in_flight_ = 0;
  std::deque<WaitingQuery> waiting_;
  bool submitting_ = false;
  std::unordered_map<int, std::shared_ptr<FdWatch>> watches_;
  asio::steady_timer timer_;
  bool timer_pending_ = false;
  uint64_t timer_generation_ = 0;
};

}  // namespace tlsweep::agent::dns_internal
