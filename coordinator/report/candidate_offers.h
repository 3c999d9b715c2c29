// The expanded offers of a scan's candidates, for the parts of a report that ask the
// negotiation model why a candidate fails (failure causes, advice). Built once per distinct
// settings; the report works without it (causes then come from live failures only).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "backends/backend.h"
#include "backends/plugin_loader.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator::report {

class CandidateOffers {
 public:
  // `registry` must outlive this object.
  explicit CandidateOffers(const backends::BackendRegistry& registry) : registry_(registry) {}

  // What `settings` would offer; nullptr when its backend is not loaded or it does not build.
  // Thread-safe; the returned offer lives as long as this object.
  const backends::Offer* Get(const tlsweep::v1::TlsClientSettings& settings);

 private:
  const backends::BackendRegistry& registry_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<std::optional<backends::Offer>>> offers_;
};

}  // namespace tlsweep::coordinator::report
