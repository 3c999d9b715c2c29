#include "agent/enumerate/enumerator.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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

bool IsEcdheSuite(uint16_t code) {
  const backends::CipherSuiteInfo* info = backends::FindCipherSuite(code);
  return info != nullptr && info->key_exchange == "ECDH";
}

bool IsFiniteFieldDheSuite(uint16_t code) {
  const backends::CipherSuiteInfo* info = backends::FindCipherSuite(code);
  return info != nullptr && info->key_exchange == "DH";
}

bool IsEcGroup(uint16_t id) { return id < 256; }

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
                    const EnumeratorOptions& options, uint32_t& handshakes, uint32_t& complete)
      : plan_(plan),
        channel_(channel),
        options_(options),
        handshakes_(handshakes),
        complete_(complete) {}

  asio::awaitable<VersionEnumeration> Run() {
    absl::flat_hash_set<uint16_t> covered;  // Offered by an earlier backend.
    for (const BackendOffer& offer : plan_.offers) {
      std::vector<uint16_t> target;
      for (const backends::OfferedSuite& suite : offer.suites) {
        if (!covered.contains(suite.code_point)) target.push_back(suite.code_point);
      }
      for (const backends::OfferedSuite& suite : offer.suites) covered.insert(suite.code_point);
      if (target.empty()) continue;
      if (offer.language == OfferLanguage::kGnutls) {
        co_await EliminateProducts(offer, std::move(target));
      } else {
        co_await EliminateExact(offer, std::move(target));
      }
      if (stop_ != Stop::kNone) break;
    }
    suites_cut_short_ = stop_ == Stop::kError || stop_ == Stop::kAborted;
    if (!found_.empty() && stop_ != Stop::kAborted && options_.confirm) co_await Confirm();
    const bool completes = confirmation_ != VersionEnumeration::HELLO_ONLY &&
                           confirmation_ != VersionEnumeration::UNCONFIRMABLE;
    if (stop_ != Stop::kAborted && stop_ != Stop::kError && options_.enumerate_groups &&
        !found_.empty() && completes) {
      if (plan_.version == TlsVersion::kTls1_3) {
        co_await EnumerateGroups();
      } else {
        co_await EnumerateLegacyGroups();
      }
    }
    co_return Result();
  }

  bool aborted() const { return stop_ == Stop::kAborted; }
  const std::string& abort_detail() const { return abort_detail_; }
  bool hello_only() const { return confirmation_ == VersionEnumeration::HELLO_ONLY; }
  bool confirmed() const {
    return confirmation_ == VersionEnumeration::CONFIRMED ||
           confirmation_ == VersionEnumeration::PARTLY_CONFIRMED;
  }

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
        abort_detail_ = attempt.detail;
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

  // An OpenSSL- or raw-language backend: any subset in any order.
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
        if (attempt.kind == Attempt::Kind::kNoConnection) {
          stop_ = Stop::kAborted;
          abort_detail_ = attempt.detail;
        }
        Note(absl::StrCat("groups: ", attempt.detail));
        co_return;
      }
      if (!Contains(groups, attempt.group)) {
        Note(absl::StrCat("groups: the server chose ", backends::GroupName(attempt.group),
                          ", which was not offered"));
        co_return;
      }
      group_steps_.push_back({groups, attempt.group});
      found_groups_.push_back(attempt.group);
      Erase(groups, attempt.group);
    }
    groups_tested_ = true;
    if (GroupPreferenceShown() || found_groups_.size() < 2) co_return;
    // The elimination offered the groups rarest first, so a server that takes the client's key
    // share found them in the offer's order. Offer them reversed: the key share is then for the
    // last-found group; a server with its own order asks for the first-found one instead.
    std::vector<uint16_t> reversed(found_groups_.rbegin(), found_groups_.rend());
    absl::StatusOr<Prepared> prepared = Prepare(*offer, suites, reversed);
    if (!prepared.ok()) co_return;
    const Attempt attempt = co_await Send(*prepared);
    if (attempt.kind == Attempt::Kind::kNoConnection) {
      stop_ = Stop::kAborted;
      abort_detail_ = attempt.detail;
      co_return;
    }
    if (attempt.kind == Attempt::Kind::kPicked) group_steps_.push_back({reversed, attempt.group});
    GroupPreferenceShown();
  }

  // Whose order the group choices so far follow (as Infer() does for suites); true once known.
  bool GroupPreferenceShown() {
    bool client_refuted = false;
    bool server_refuted = false;
    absl::flat_hash_set<uint16_t> accepted(found_groups_.begin(), found_groups_.end());
    for (const Step& step : group_steps_) {
      for (uint16_t group : step.order) {
        if (group == step.pick) break;
        if (accepted.contains(group)) client_refuted = true;
      }
    }
    for (size_t i = 0; i < group_steps_.size(); ++i) {
      for (size_t j = i + 1; j < group_steps_.size(); ++j) {
        const Step& a = group_steps_[i];
        const Step& b = group_steps_[j];
        if (a.pick != b.pick && Contains(a.order, b.pick) && Contains(b.order, a.pick)) {
          server_refuted = true;
        }
      }
    }
    group_preference_tested_ = client_refuted != server_refuted;
    group_server_preference_ = client_refuted && !server_refuted;
    return group_preference_tested_;
  }

  asio::awaitable<CompletedHandshake> CompleteWith(const BackendOffer& offer,
                                                   absl::Span<const uint16_t> suites,
                                                   absl::Span<const uint16_t> groups) {
    absl::StatusOr<backends::ClientConfig> config = ConfigFor(offer, plan_.version, suites, groups);
    if (!config.ok()) {
      CompletedHandshake failed;
      failed.connected = true;
      failed.outcome.failure = backends::FailureClass::kInternalError;
      failed.outcome.library_error = std::string(config.status().message());
      co_return failed;
    }
    config->sni = options_.sni;
    CompletedHandshake done = co_await channel_.Complete(*offer.backend, *config);
    if (done.connected) {
      ++complete_;
    } else {
      stop_ = Stop::kAborted;
      abort_detail_ = done.detail;
    }
    co_return done;
  }

  // Found by the raw backend: a library that could complete a handshake with it has none.
  static bool Unconfirmable(const Found& found) {
    return found.offer->language == OfferLanguage::kRawHello;
  }

  // One complete handshake offering every accepted suite; when it fails, one per suite. Suites
  // only the raw backend could offer stay ServerHello evidence (unconfirmable_).
  asio::awaitable<void> Confirm() {
    std::vector<Found> library_found;
    for (const Found& found : found_) {
      (Unconfirmable(found) ? unconfirmable_ : library_found).push_back(found);
    }
    if (library_found.empty()) {
      confirmation_ = VersionEnumeration::UNCONFIRMABLE;
      confirmation_detail_ = absl::StrCat(
          "every accepted suite is one no local library can offer: the server chose it in a "
          "ServerHello, and no complete handshake can show that it works");
      co_return;
    }
    const BackendOffer& offer = *library_found.front().offer;
    std::vector<uint16_t> suites;
    for (const Found& found : library_found) {
      if (found.offer == &offer) suites.push_back(found.code);
    }
    const CompletedHandshake all = co_await CompleteWith(offer, suites, {});
    if (!all.connected) {
      confirmation_ = VersionEnumeration::NOT_CONFIRMED;
      confirmation_detail_ = absl::StrCat("no connection for a complete handshake: ", all.detail);
      co_return;
    }
    if (all.outcome.success) {
      confirmation_ = VersionEnumeration::CONFIRMED;
      confirmation_detail_ = absl::StrCat("a complete handshake negotiated ",
                                          backends::CipherSuiteName(all.outcome.suite_code));
      RecordKeyExchange(all.outcome);
      co_return;
    }
    int confirmed = 0;
    std::string failure = DescribeFailure(all.outcome);
    for (const Found& found : library_found) {
      const CompletedHandshake one = co_await CompleteWith(*found.offer, {&found.code, 1}, {});
      if (!one.connected) {
        confirmation_ = VersionEnumeration::NOT_CONFIRMED;
        confirmation_detail_ = absl::StrCat("a complete handshake failed (", failure,
                                            "), and the suite checks were cut short: ", one.detail);
        co_return;
      }
      if (one.outcome.success) {
        ++confirmed;
        RecordKeyExchange(one.outcome);
      } else {
        hello_only_.push_back(found.code);
        hello_only_failure_ = one.outcome.failure;
        failure = DescribeFailure(one.outcome);
      }
    }
    confirmation_ =
        confirmed == 0 ? VersionEnumeration::HELLO_ONLY : VersionEnumeration::PARTLY_CONFIRMED;
    confirmation_detail_ =
        confirmed == 0 ? absl::StrCat(
                             "the server answers ServerHello and then fails every complete "
                             "handshake: ",
                             failure)
                       : absl::StrCat(hello_only_.size(), " of ", library_found.size(),
                                      " accepted suites fail after the ServerHello: ", failure);
  }

  static std::string DescribeFailure(const backends::HandshakeOutcome& outcome) {
    std::string text(backends::FailureClassName(outcome.failure));
    if (outcome.alert_code >= 0)
      absl::StrAppend(&text, " (", backends::AlertName(outcome.alert_code), ")");
    if (!outcome.library_error.empty()) absl::StrAppend(&text, ": ", outcome.library_error);
    return text;
  }

  void RecordKeyExchange(const backends::HandshakeOutcome& outcome) {
    if (outcome.dh_bits != 0) dh_bits_ = outcome.dh_bits;
  }

  // TLS <= 1.2: the curves, with complete handshakes that offer only the accepted ECDHE suites;
  // then one handshake with only the DHE suites for the size of the server's prime.
  asio::awaitable<void> EnumerateLegacyGroups() {
    const BackendOffer* offer = nullptr;
    std::vector<uint16_t> ecdhe;
    for (const BackendOffer& candidate : plan_.offers) {
      if (candidate.language == OfferLanguage::kRawHello) continue;  // Needs complete handshakes.
      ecdhe.clear();
      for (const Found& found : found_) {
        if (IsEcdheSuite(found.code) && !Contains(hello_only_, found.code) &&
            candidate.Offers(found.code)) {
          ecdhe.push_back(found.code);
        }
      }
      if (!ecdhe.empty()) {
        offer = &candidate;
        break;
      }
    }
    if (offer != nullptr) {
      std::vector<uint16_t> groups;
      for (uint16_t group : offer->groups) {
        if (IsEcGroup(group)) groups.push_back(group);
      }
      std::stable_sort(groups.begin(), groups.end(),
                       [](uint16_t a, uint16_t b) { return GroupRarity(a) < GroupRarity(b); });
      while (!groups.empty()) {
        const CompletedHandshake done = co_await CompleteWith(*offer, ecdhe, groups);
        if (!done.connected) {
          Note(absl::StrCat("groups: no connection: ", done.detail));
          co_return;
        }
        if (!done.outcome.success) break;  // None of the remaining curves.
        const uint16_t group = done.outcome.group;
        if (!Contains(groups, group)) {
          Note(absl::StrCat("groups: the server used ", backends::GroupName(group),
                            ", which was not offered"));
          co_return;
        }
        group_steps_.push_back({groups, group});
        found_groups_.push_back(group);
        Erase(groups, group);
      }
      groups_tested_ = true;
      if (!GroupPreferenceShown() && found_groups_.size() >= 2) {
        std::vector<uint16_t> reversed(found_groups_.rbegin(), found_groups_.rend());
        const CompletedHandshake done = co_await CompleteWith(*offer, ecdhe, reversed);
        if (!done.connected) co_return;
        if (done.outcome.success) group_steps_.push_back({reversed, done.outcome.group});
        GroupPreferenceShown();
      }
    }
    if (dh_bits_ != 0) co_return;
    for (const BackendOffer& candidate : plan_.offers) {
      if (candidate.language == OfferLanguage::kRawHello) continue;
      std::vector<uint16_t> dhe;
      for (const Found& found : found_) {
        if (IsFiniteFieldDheSuite(found.code) && !Contains(hello_only_, found.code) &&
            candidate.Offers(found.code)) {
          dhe.push_back(found.code);
        }
      }
      if (dhe.empty()) continue;
      const CompletedHandshake done = co_await CompleteWith(candidate, dhe, {});
      if (done.connected && done.outcome.success) RecordKeyExchange(done.outcome);
      co_return;
    }
  }

  VersionEnumeration Result() const {
    VersionEnumeration result;
    result.set_version(backends::VersionToProto(plan_.version));
    if (!found_.empty()) {
      result.set_status(suites_cut_short_ ? VersionEnumeration::INCOMPLETE
                                          : VersionEnumeration::SUPPORTED);
    } else if (stop_ == Stop::kAborted) {
      // The server stopped letting us in before this version was finished.
      result.set_status(VersionEnumeration::INCOMPLETE);
    } else if (stop_ == Stop::kError) {
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
    // Found in the order the elimination offered them (rarest first): that is the server's
    // order only when it imposes one; otherwise list the most common first and claim no order.
    std::vector<uint16_t> groups = found_groups_;
    if (!group_server_preference_) {
      std::stable_sort(groups.begin(), groups.end(),
                       [](uint16_t a, uint16_t b) { return GroupRarity(a) > GroupRarity(b); });
    }
    for (uint16_t group : groups) result.add_groups(backends::GroupName(group));
    result.set_groups_tested(groups_tested_);
    result.set_group_preference_tested(group_preference_tested_);
    result.set_group_server_preference(group_server_preference_);
    result.set_confirmation(confirmation_);
    for (uint16_t code : hello_only_) result.add_hello_only_suites(code);
    for (const Found& found : unconfirmable_) result.add_unconfirmable_suites(found.code);
    if (!hello_only_.empty()) {
      result.set_hello_only_failure(backends::FailureToProto(hello_only_failure_));
    }
    result.set_confirmation_detail(confirmation_detail_);
    result.set_dh_bits(dh_bits_);
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
    if (!found_.empty() && suites_cut_short_) {
      notes.push_back("incomplete: the enumeration stopped before it had tried every suite");
    }
    result.set_detail(absl::StrJoin(notes, "; "));
    return result;
  }

  const VersionPlan& plan_;
  HelloChannel& channel_;
  const EnumeratorOptions& options_;
  uint32_t& handshakes_;
  uint32_t& complete_;

  Stop stop_ = Stop::kNone;
  bool suites_cut_short_ = false;
  std::string abort_detail_;
  VersionEnumeration::Confirmation confirmation_ = VersionEnumeration::CONFIRMATION_UNSPECIFIED;
  std::string confirmation_detail_;
  std::vector<uint16_t> hello_only_;
  std::vector<Found> unconfirmable_;
  backends::FailureClass hello_only_failure_ = backends::FailureClass::kNone;
  uint32_t dh_bits_ = 0;
  std::vector<Step> group_steps_;
  bool group_preference_tested_ = false;
  bool group_server_preference_ = false;
  std::vector<Found> found_;
  absl::flat_hash_set<uint16_t> found_set_;
  absl::flat_hash_set<uint16_t> rejected_;
  std::vector<uint16_t> unoffered_;
  std::vector<Step> steps_;
  std::vector<uint16_t> found_groups_;
  bool groups_tested_ = false;
  std::vector<std::string> notes_;
};

// What one version's enumeration gives back to Enumerate.
struct VersionRun {
  VersionEnumeration result;
  bool aborted = false;
  std::string abort_detail;
  bool hello_only = false;
  bool confirmed = false;
};

asio::awaitable<void> RunVersion(const VersionPlan& plan, HelloChannel& channel,
                                 const EnumeratorOptions& options, uint32_t& handshakes,
                                 uint32_t& complete, VersionRun& out) {
  VersionEnumerator enumerator(plan, channel, options, handshakes, complete);
  out.result = co_await enumerator.Run();
  out.aborted = enumerator.aborted();
  if (out.aborted) out.abort_detail = enumerator.abort_detail();
  out.hello_only = enumerator.hello_only();
  out.confirmed = enumerator.confirmed();
}

// Runs the versions `batch` names at once, on the calling coroutine's executor (one thread:
// the enumerators share the channel and the counters), and returns when all have finished.
asio::awaitable<void> RunVersionsAtOnce(const std::vector<const VersionPlan*>& batch,
                                        HelloChannel& channel, const EnumeratorOptions& options,
                                        uint32_t& handshakes, uint32_t& complete,
                                        std::vector<VersionRun>& out) {
  if (batch.size() == 1) {
    co_await RunVersion(*batch[0], channel, options, handshakes, complete, out[0]);
    co_return;
  }
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  size_t pending = batch.size();
  for (size_t i = 0; i < batch.size(); ++i) {
    asio::co_spawn(
        executor,
        [&, i]() -> asio::awaitable<void> {
          co_await RunVersion(*batch[i], channel, options, handshakes, complete, out[i]);
          if (--pending == 0) all_done.cancel();
        },
        asio::detached);
  }
  while (pending > 0) {
    asio::error_code ignored;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

// SSL 2.0 has no version in the plan (TlsVersion starts at SSLv3): one pure SSLv2 CLIENT-HELLO
// with every cipher spec, written by the raw backend, shows whether the server still speaks it.
asio::awaitable<void> EnumerateSslv2(const OfferPlan& plan, HelloChannel& channel,
                                     const EnumeratorOptions& options,
                                     tlsweep::v1::Enumeration& enumeration, uint32_t& handshakes) {
  backends::Backend* raw = nullptr;
  for (const VersionPlan& version : plan.versions) {
    for (const BackendOffer& offer : version.offers) {
      if (offer.language == OfferLanguage::kRawHello) raw = offer.backend;
    }
  }
  if (raw == nullptr) {
    enumeration.set_sslv2_status(VersionEnumeration::NOT_TESTED);
    co_return;
  }
  backends::ClientConfig config;
  config.ciphers.openssl_ciphers = "SSLv2";
  config.legacy = true;
  config.sni = options.sni;
  const CompletedHandshake done = co_await channel.Complete(*raw, config);
  if (!done.connected) {
    enumeration.set_sslv2_status(VersionEnumeration::INCOMPLETE);
    co_return;
  }
  ++handshakes;
  const backends::HandshakeOutcome& outcome = done.outcome;
  constexpr absl::string_view kSpecs = "sslv2_cipher_specs=";
  const size_t at = absl::string_view(outcome.library_error).find(kSpecs);
  if (!outcome.success || static_cast<uint16_t>(outcome.version) != 0x0002 ||
      at == std::string::npos) {
    enumeration.set_sslv2_status(VersionEnumeration::NOT_SUPPORTED);
    co_return;
  }
  enumeration.set_sslv2_status(VersionEnumeration::SUPPORTED);
  const absl::string_view specs =
      absl::string_view(outcome.library_error).substr(at + kSpecs.size());
  for (absl::string_view spec : absl::StrSplit(specs.substr(0, specs.find(';')), ',')) {
    if (!spec.empty()) enumeration.add_sslv2_cipher_specs(std::string(spec));
  }
}

}  // namespace

asio::awaitable<EnumerationRun> Enumerate(const OfferPlan& plan, HelloChannel& channel,
                                          const EnumeratorOptions& options) {
  EnumerationRun run;
  tlsweep::v1::Enumeration& enumeration = run.enumeration;
  for (const std::string& backend : plan.backends) enumeration.add_backends(backend);
  uint32_t handshakes = 0;
  uint32_t complete = 0;
  uint32_t floor = 0;
  bool any_hello_only = false;
  bool any_confirmed = false;
  // Each version's slot in the result, in the plan's order; the ones to enumerate are run
  // first one alone (it shows whether the server takes our connections at all), then the rest
  // options.parallel_versions at a time.
  std::vector<std::pair<const VersionPlan*, VersionEnumeration*>> todo;
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
    todo.emplace_back(&version_plan, result);
  }
  const size_t width = static_cast<size_t>(std::max(1, options.parallel_versions));
  for (size_t next = 0; next < todo.size();) {
    const size_t count = next == 0 ? 1 : std::min(width, todo.size() - next);
    if (run.aborted) {
      for (size_t i = next; i < todo.size(); ++i) {
        VersionEnumeration* result = todo[i].second;
        result->set_version(backends::VersionToProto(todo[i].first->version));
        result->set_status(VersionEnumeration::INCOMPLETE);
        result->set_detail(absl::StrCat("not tried: ", run.abort_detail));
      }
      break;
    }
    std::vector<const VersionPlan*> batch;
    for (size_t i = next; i < next + count; ++i) batch.push_back(todo[i].first);
    std::vector<VersionRun> runs(count);
    co_await RunVersionsAtOnce(batch, channel, options, handshakes, complete, runs);
    for (size_t i = 0; i < count; ++i) {
      VersionEnumeration* result = todo[next + i].second;
      *result = std::move(runs[i].result);
      if (runs[i].aborted && !run.aborted) {
        run.aborted = true;
        run.abort_detail = runs[i].abort_detail;
      }
      any_hello_only |= runs[i].hello_only;
      any_confirmed |= runs[i].confirmed;
      if (result->status() == VersionEnumeration::SUPPORTED) floor += result->suites_size() + 1;
    }
    next += count;
  }
  if (!run.aborted && (options.versions.empty() || options.include_sslv2)) {
    co_await EnumerateSslv2(plan, channel, options, enumeration, handshakes);
  }
  enumeration.set_handshakes(handshakes);
  enumeration.set_confirmation_handshakes(complete);
  enumeration.set_floor_handshakes(floor);
  enumeration.set_broken_server(any_hello_only && !any_confirmed);
  co_return run;
}

}  // namespace tlsweep::agent
