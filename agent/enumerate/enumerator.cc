#include "agent/enumerate/enumerator.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"
#include "backends/group_table.h"
#include "backends/outcome_proto.h"

namespace tlsweep::agent {
namespace {

using backends::TlsVersion;
using tlsweep::v1::VersionEnumeration;

bool Contains(const std::vector<uint16_t>& list, uint16_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void Erase(std::vector<uint16_t>& list, uint16_t value) {
  list.erase(std::remove(list.begin(), list.end(), value), list.end());
}

// Groups a server is least likely to accept come first: the OpenSSL client sends its one key
// share for the first group, and when the server does not take it, its HelloRetryRequest names
// the group the server itself prefers among the rest.
int GroupRarity(uint16_t id) {
  static constexpr uint16_t kCommonLast[] = {260, 259, 258, 257, 256, 25, 30, 24, 23, 29};
  const auto* it = std::find(std::begin(kCommonLast), std::end(kCommonLast), id);
  return it == std::end(kCommonLast) ? -1 : static_cast<int>(it - std::begin(kCommonLast));
}

enum class Preference { kUnknown, kClient, kServer, kNeither };

// One handshake's result, as the elimination reads it.
struct Attempt {
  enum class Kind { kPicked, kRefused, kVersionRefused, kFailed, kNoConnection };
  Kind kind = Kind::kFailed;
  uint16_t suite = 0;
  uint16_t group = 0;
  std::string detail;
};

struct Prepared {
  PreparedHello hello;
  std::vector<uint16_t> offered;  // Suites on the wire that are defined at the version.
};

// A handshake that picked a suite: what was offered, in order, and what was chosen.
struct Step {
  std::vector<uint16_t> order;
  uint16_t pick = 0;
};

class VersionEnumerator {
 public:
  VersionEnumerator(const VersionPlan& plan, HelloChannel& channel,
                    const EnumeratorOptions& options, uint32_t& handshakes)
      : plan_(plan), channel_(channel), options_(options), handshakes_(handshakes) {}

  asio::awaitable<VersionEnumeration> Run() {
    absl::flat_hash_set<uint16_t> covered;  // Offered by an earlier backend.
    for (const BackendOffer& offer : plan_.offers) {
      std::vector<uint16_t> target;
      for (const backends::OfferedSuite& suite : offer.suites) {
        if (!covered.contains(suite.code_point)) target.push_back(suite.code_point);
      }
      for (const backends::OfferedSuite& suite : offer.suites) covered.insert(suite.code_point);
      if (target.empty()) continue;
      if (offer.language == OfferLanguage::kOpenssl) {
        co_await EliminateExact(offer, std::move(target));
      } else {
        co_await EliminateProducts(offer, std::move(target));
      }
      if (stop_ != Stop::kNone) break;
    }
    if (stop_ == Stop::kNone && options_.enumerate_groups && !found_.empty() &&
        plan_.version == TlsVersion::kTls1_3) {
      co_await EnumerateGroups();
    }
    co_return Result();
  }

  bool aborted() const { return stop_ == Stop::kAborted; }

 private:
  enum class Stop { kNone, kVersionRefused, kError, kAborted };
  struct Found {
    uint16_t code;
    const BackendOffer* offer;
  };

  absl::StatusOr<Prepared> Prepare(const BackendOffer& offer, absl::Span<const uint16_t> suites,
                                   absl::Span<const uint16_t> groups) {
    absl::StatusOr<backends::ClientConfig> config = ConfigFor(offer, plan_.version, suites, groups);
    if (!config.ok()) return config.status();
    config->sni = options_.sni;
    absl::StatusOr<PreparedHello> hello = PrepareHello(*offer.backend, *config);
    if (!hello.ok()) return hello.status();
    Prepared prepared{*std::move(hello), {}};
    for (uint16_t code : prepared.hello.parsed.cipher_suites) {
      if (DefinedAt(code, plan_.version)) prepared.offered.push_back(code);
    }
    return prepared;
  }

  asio::awaitable<Attempt> Send(const Prepared& prepared) {
    const ServerAnswer answer = co_await channel_.Exchange(prepared.hello);
    Attempt attempt;
    attempt.detail = answer.detail;
    switch (answer.kind) {
      case ServerAnswer::Kind::kNoConnection:
        attempt.kind = Attempt::Kind::kNoConnection;
        co_return attempt;
      case ServerAnswer::Kind::kServerHello:
        ++handshakes_;
        if (answer.hello.version != plan_.version) {
          attempt.kind = Attempt::Kind::kVersionRefused;
          attempt.detail = absl::StrCat("the server answered with ",
                                        backends::TlsVersionName(answer.hello.version));
        } else if (!Contains(prepared.offered, answer.hello.cipher_suite)) {
          attempt.kind = Attempt::Kind::kFailed;
          attempt.detail = absl::StrCat("the server chose ",
                                        backends::CipherSuiteName(answer.hello.cipher_suite),
                                        ", which was not offered");
        } else {
          attempt.kind = Attempt::Kind::kPicked;
          attempt.suite = answer.hello.cipher_suite;
          attempt.group = answer.hello.key_share_group;
        }
        co_return attempt;
      case ServerAnswer::Kind::kAlert:
        ++handshakes_;
        attempt.kind =
            answer.alert_code == 70 ? Attempt::Kind::kVersionRefused : Attempt::Kind::kRefused;
        co_return attempt;
      case ServerAnswer::Kind::kClosed:
        ++handshakes_;
        attempt.kind = Attempt::Kind::kRefused;
        co_return attempt;
      default:
        ++handshakes_;
        attempt.kind = Attempt::Kind::kFailed;
        co_return attempt;
    }
  }

  // Records why the elimination stopped early; true if it must stop.
  bool Stopped(const Attempt& attempt) {
    switch (attempt.kind) {
      case Attempt::Kind::kVersionRefused:
        stop_ = Stop::kVersionRefused;
        Note(found_.empty()
                 ? attempt.detail
                 : absl::StrCat("version refused after suites were accepted: ", attempt.detail));
        return true;
      case Attempt::Kind::kFailed:
        stop_ = Stop::kError;
        Note(attempt.detail);
        return true;
      case Attempt::Kind::kNoConnection:
        stop_ = Stop::kAborted;
        Note(absl::StrCat("no connection: ", attempt.detail));
        return true;
      default:
        return false;
    }
  }

  void Note(std::string text) {
    if (!text.empty()) notes_.push_back(std::move(text));
  }

  void AddFound(uint16_t code, const BackendOffer& offer) {
    if (found_set_.insert(code).second) found_.push_back({code, &offer});
  }

  // What the handshakes so far say about whose order the server follows.
  Preference Infer() const {
    bool client_refuted = false;  // The server skipped an accepted suite offered before its pick.
    bool server_refuted = false;  // It preferred X over Y once and Y over X another time.
    for (const Step& step : steps_) {
      for (uint16_t code : step.order) {
        if (code == step.pick) break;
        if (found_set_.contains(code)) client_refuted = true;
      }
    }
    for (size_t i = 0; i < steps_.size() && !server_refuted; ++i) {
      for (size_t j = i + 1; j < steps_.size(); ++j) {
        if (steps_[i].pick != steps_[j].pick && Contains(steps_[i].order, steps_[j].pick) &&
            Contains(steps_[j].order, steps_[i].pick)) {
          server_refuted = true;
          break;
        }
      }
    }
    if (client_refuted && server_refuted) return Preference::kNeither;
    if (client_refuted) return Preference::kServer;
    if (server_refuted) return Preference::kClient;
    return Preference::kUnknown;
  }

  // An OpenSSL-language backend: any subset in any order.
  asio::awaitable<void> EliminateExact(const BackendOffer& offer, std::vector<uint16_t> remaining) {
    // Weakest first: the reverse of the backend's own (strength) order.
    std::vector<uint16_t> order_of_offer;
    for (auto it = offer.suites.rbegin(); it != offer.suites.rend(); ++it) {
      if (Contains(remaining, it->code_point)) order_of_offer.push_back(it->code_point);
    }
    remaining = std::move(order_of_offer);
    std::vector<uint16_t> found_here;
    while (true) {
      std::vector<uint16_t> appended;
      if (Infer() == Preference::kUnknown && found_here.size() >= 2) {
        appended.assign(found_here.rbegin(), found_here.rend());
      }
      if (remaining.empty() && appended.empty()) co_return;
      std::vector<uint16_t> order = remaining;
      order.insert(order.end(), appended.begin(), appended.end());
      absl::StatusOr<Prepared> prepared = Prepare(offer, order, {});
      if (!prepared.ok()) {
        Note(absl::StrCat(offer.backend->Name(), ": ", prepared.status().message()));
        unoffered_.insert(unoffered_.end(), remaining.begin(), remaining.end());
        co_return;
      }
      // What is not on the wire cannot be tested this way.
      for (uint16_t code : remaining) {
        if (!Contains(prepared->offered, code)) unoffered_.push_back(code);
      }
      std::erase_if(remaining, [&](uint16_t code) { return !Contains(prepared->offered, code); });
      if (remaining.empty() && appended.empty()) co_return;
      const Attempt attempt = co_await Send(*prepared);
      if (Stopped(attempt)) co_return;
      if (attempt.kind == Attempt::Kind::kRefused) {
        rejected_.insert(remaining.begin(), remaining.end());
        if (!appended.empty()) Note("the server refused suites it had accepted before");
        co_return;
      }
      steps_.push_back({prepared->offered, attempt.suite});
      if (Contains(remaining, attempt.suite)) {
        Erase(remaining, attempt.suite);
        found_here.push_back(attempt.suite);
        AddFound(attempt.suite, offer);
        continue;
      }
      if (!Contains(appended, attempt.suite)) {
        Note(absl::StrCat("the server chose ", backends::CipherSuiteName(attempt.suite),
                          " outside the suites under test"));
        co_return;
      }
      // The preference check answered.
      switch (Infer()) {
        case Preference::kClient:
          // A server that follows the client took an accepted suite listed after every
          // remaining one: none of those is accepted.
          rejected_.insert(remaining.begin(), remaining.end());
          co_return;
        case Preference::kServer:
        case Preference::kNeither:
          break;  // The remaining suites are still to be tried, now without appending.
        case Preference::kUnknown:
          Note("the preference check was inconclusive");
          co_return;
      }
    }
  }

  // A GnuTLS-language backend: products of tokens, split around any accepted suite they hold.
  asio::awaitable<void> EliminateProducts(const BackendOffer& offer, std::vector<uint16_t> target) {
    absl::flat_hash_set<uint16_t> remaining(target.begin(), target.end());
    std::deque<std::vector<uint16_t>> work = {std::move(target)};
    while (!work.empty()) {
      std::vector<uint16_t> part = std::move(work.front());
      work.pop_front();
      std::erase_if(part, [&](uint16_t code) { return !remaining.contains(code); });
      if (part.empty()) continue;
      absl::StatusOr<Prepared> prepared = Prepare(offer, part, {});
      if (!prepared.ok()) {
        Note(absl::StrCat(offer.backend->Name(), ": ", prepared.status().message()));
        for (uint16_t code : part) {
          unoffered_.push_back(code);
          remaining.erase(code);
        }
        continue;
      }
      const auto accepted = std::find_if(prepared->offered.begin(), prepared->offered.end(),
                                         [&](uint16_t code) { return found_set_.contains(code); });
      if (accepted != prepared->offered.end()) {
        std::vector<uint16_t> inseparable;
        std::vector<std::vector<uint16_t>> parts = SplitAround(offer, part, *accepted, inseparable);
        if (parts.size() == 1 && parts.front().size() == part.size()) {
          inseparable.insert(inseparable.end(), part.begin(), part.end());
          parts.clear();
        }
        for (uint16_t code : inseparable) {
          unoffered_.push_back(code);
          remaining.erase(code);
        }
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) work.push_front(std::move(*it));
        continue;
      }
      const bool any = std::any_of(prepared->offered.begin(), prepared->offered.end(),
                                   [&](uint16_t code) { return remaining.contains(code); });
      if (!any) {
        for (uint16_t code : part) {
          unoffered_.push_back(code);
          remaining.erase(code);
        }
        continue;
      }
      const Attempt attempt = co_await Send(*prepared);
      if (Stopped(attempt)) co_return;
      if (attempt.kind == Attempt::Kind::kRefused) {
        for (uint16_t code : prepared->offered) {
          remaining.erase(code);
          if (!found_set_.contains(code)) rejected_.insert(code);
        }
        continue;
      }
      steps_.push_back({prepared->offered, attempt.suite});
      AddFound(attempt.suite, offer);
      remaining.erase(attempt.suite);
      work.push_front(std::move(part));
    }
  }

  // TLS 1.3: offer the accepted suites with every group, remove the group the server takes.
  asio::awaitable<void> EnumerateGroups() {
    const BackendOffer* offer = nullptr;
    std::vector<uint16_t> suites;
    for (const BackendOffer& candidate : plan_.offers) {
      suites.clear();
      for (const Found& found : found_) {
        if (candidate.Offers(found.code)) suites.push_back(found.code);
      }
      if (!suites.empty()) {
        offer = &candidate;
        break;
      }
    }
    if (offer == nullptr) co_return;
    std::vector<uint16_t> groups = offer->groups;
    std::stable_sort(groups.begin(), groups.end(),
                     [](uint16_t a, uint16_t b) { return GroupRarity(a) < GroupRarity(b); });
    while (!groups.empty()) {
      absl::StatusOr<Prepared> prepared = Prepare(*offer, suites, groups);
      if (!prepared.ok()) {
        Note(absl::StrCat("groups: ", prepared.status().message()));
        co_return;
      }
      const Attempt attempt = co_await Send(*prepared);
      if (attempt.kind == Attempt::Kind::kRefused) break;
      if (attempt.kind != Attempt::Kind::kPicked) {
        if (attempt.kind == Attempt::Kind::kNoConnection) stop_ = Stop::kAborted;
        Note(absl::StrCat("groups: ", attempt.detail));
        co_return;
      }
      if (!Contains(groups, attempt.group)) {
        Note(absl::StrCat("groups: the server chose ", backends::GroupName(attempt.group),
                          ", which was not offered"));
        co_return;
      }
      found_groups_.push_back(attempt.group);
      Erase(groups, attempt.group);
    }
    groups_tested_ = true;
  }

  VersionEnumeration Result() const {
    VersionEnumeration result;
    result.set_version(backends::VersionToProto(plan_.version));
    if (!found_.empty()) {
      result.set_status(VersionEnumeration::SUPPORTED);
    } else if (stop_ == Stop::kError || stop_ == Stop::kAborted) {
      result.set_status(VersionEnumeration::ERROR);
    } else {
      result.set_status(VersionEnumeration::NOT_SUPPORTED);
    }
    for (const Found& found : found_) {
      tlsweep::v1::CipherSuite* suite = result.add_suites();
      suite->set_code_point(found.code);
      suite->set_iana_name(backends::CipherSuiteName(found.code));
      suite->set_library_name(found.offer->LibraryName(found.code));
      result.add_found_by(std::string(found.offer->backend->Name()));
    }
    const Preference preference = Infer();
    result.set_preference_tested(preference != Preference::kUnknown);
    result.set_server_preference(preference == Preference::kServer);
    for (uint16_t group : found_groups_) result.add_groups(backends::GroupName(group));
    result.set_groups_tested(groups_tested_);
    absl::flat_hash_set<uint16_t> untested;
    for (uint16_t code : plan_.untested_suites) {
      if (untested.insert(code).second) result.add_untested_suites(code);
    }
    for (uint16_t code : unoffered_) {
      if (!found_set_.contains(code) && untested.insert(code).second) {
        result.add_untested_suites(code);
      }
    }
    std::vector<std::string> notes = notes_;
    if (preference == Preference::kNeither) {
      notes.push_back("the server's choices follow neither its own nor the client's order");
    }
    if (!found_.empty() && (stop_ == Stop::kError || stop_ == Stop::kAborted)) {
      notes.push_back("incomplete: the enumeration stopped early");
    }
    result.set_detail(absl::StrJoin(notes, "; "));
    return result;
  }

  const VersionPlan& plan_;
  HelloChannel& channel_;
  const EnumeratorOptions& options_;
  uint32_t& handshakes_;

  Stop stop_ = Stop::kNone;
  std::vector<Found> found_;
  absl::flat_hash_set<uint16_t> found_set_;
  absl::flat_hash_set<uint16_t> rejected_;
  std::vector<uint16_t> unoffered_;
  std::vector<Step> steps_;
  std::vector<uint16_t> found_groups_;
  bool groups_tested_ = false;
  std::vector<std::string> notes_;
};

}  // namespace

asio::awaitable<EnumerationRun> Enumerate(const OfferPlan& plan, HelloChannel& channel,
                                          const EnumeratorOptions& options) {
  EnumerationRun run;
  tlsweep::v1::Enumeration& enumeration = run.enumeration;
  for (const std::string& backend : plan.backends) enumeration.add_backends(backend);
  uint32_t handshakes = 0;
  uint32_t floor = 0;
  for (const VersionPlan& version_plan : plan.versions) {
    if (!options.versions.empty() && std::find(options.versions.begin(), options.versions.end(),
                                               version_plan.version) == options.versions.end()) {
      continue;
    }
    VersionEnumeration* result = enumeration.add_versions();
    if (version_plan.offers.empty()) {
      result->set_version(backends::VersionToProto(version_plan.version));
      result->set_status(VersionEnumeration::NOT_TESTED);
      for (uint16_t code : version_plan.untested_suites) result->add_untested_suites(code);
      result->set_detail(absl::StrCat("no loaded backend can offer ",
                                      backends::TlsVersionName(version_plan.version)));
      continue;
    }
    if (run.aborted) {
      result->set_version(backends::VersionToProto(version_plan.version));
      result->set_status(VersionEnumeration::ERROR);
      result->set_detail("not tried: the server stopped accepting connections");
      continue;
    }
    VersionEnumerator enumerator(version_plan, channel, options, handshakes);
    *result = co_await enumerator.Run();
    run.aborted = enumerator.aborted();
    if (result->status() == VersionEnumeration::SUPPORTED) floor += result->suites_size() + 1;
  }
  enumeration.set_handshakes(handshakes);
  enumeration.set_floor_handshakes(floor);
  co_return run;
}

}  // namespace tlsweep::agent
