#include "coordinator/report/candidate_offers.h"

#include "backends/candidate/tls_candidate.h"

namespace tlsweep::coordinator::report {

const backends::Offer* CandidateOffers::Get(const tlsweep::v1::TlsClientSettings& settings) {
  tlsweep::v1::TlsClientSettings key_settings = settings;
  key_settings.clear_name();  // The offer depends on the settings, not on what they are called.
  key_settings.clear_source();
  const std::string key = key_settings.SerializeAsString();
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = offers_.try_emplace(key);
  if (inserted) {
    it->second = std::make_unique<std::optional<backends::Offer>>();
    absl::StatusOr<backends::TlsCandidate> candidate =
        backends::BuildCandidate(settings, registry_, /*ca_file=*/"");
    if (candidate.ok()) *it->second = std::move(candidate->offer);
  }
  return it->second->has_value() ? &**it->second : nullptr;
}

}  // namespace tlsweep::coordinator::report
