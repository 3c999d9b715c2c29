#include "coordinator/report/stored_whatif.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "backends/negotiation/negotiation_model.h"
#include "backends/negotiation/whatif_evaluator.h"
#include "backends/probe_kind.h"
#include "coordinator/report/verdict.h"
#include "coordinator/store/scan_reader.h"

namespace tlsweep::coordinator::report {
namespace {

using tlsweep::v1::ProbeResult;

constexpr size_t kWhatIfExamples = 5;

// Where one prediction holds: an address the agent found to answer every name alike (shared,
// or unchecked and so treated as shared) costs one prediction for all its hosted names, not one
// each; SNI-dependent and per-name probes keep their MX name in the key.
std::string PredictionKey(const ProbeResult& result) {
  const tlsweep::v1::SniSharing::Status sni = result.sni().status();
  if (sni == tlsweep::v1::SniSharing::SNI_SHARED || sni == tlsweep::v1::SniSharing::SNI_UNCHECKED) {
    return absl::StrCat(result.address(), "|", result.port());
  }
  return backends::WhatIfEndpointKey(result);
}

// A domain passes when one of its MX names surely negotiates, fails when every one surely
// fails, and is uncertain otherwise (IsSure: a caveat is never counted as a sure answer).
struct DomainState {
  bool any_endpoint = false;
  bool all_fail = true;        // Every endpoint fails (sure or not).
  bool any_unsure = false;     // Some endpoint's prediction carries a caveat.
  bool any_sure_pass = false;  // Some endpoint surely negotiates.

  bool fails() const { return any_endpoint && all_fail && !any_unsure; }
  bool uncertain() const { return any_endpoint && !any_sure_pass && !fails(); }
};

}  // namespace

WhatIfProvider StoredWhatIf(std::vector<backends::TlsCandidate> candidates) {
  return [candidates = std::move(candidates)](
             SqliteDb& db, const Report& report) -> absl::StatusOr<std::optional<WhatIfSection>> {
    if (candidates.empty()) return std::nullopt;
    // Weights by domain (mail volume from the list).
    absl::flat_hash_map<std::string, double> weights;
    {
      absl::StatusOr<SqliteStatement> query =
          db.Prepare("SELECT domain, weight FROM targets WHERE scan_id = ?");
      if (!query.ok()) return query.status();
      query->Bind(1, report.scan.scan_id);
      while (true) {
        absl::StatusOr<bool> row = query->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        weights[query->Text(0)] = query->Double(1);
      }
    }
    absl::StatusOr<std::unique_ptr<ScanReader>> reader = OpenSqliteScanReader(db);
    if (!reader.ok()) return reader.status();
    WhatIfSection section;
    int64_t total_checked = 0;
    int64_t total_agreed = 0;
    for (const std::string& region : report.scan.regions) {
      // One prediction per endpoint (PredictionKey) and candidate; results name the same
      // endpoint once per domain that uses it.
      std::map<std::pair<std::string, size_t>, backends::Prediction> predictions;
      std::vector<std::map<std::string, DomainState>> domains(candidates.size());
      std::vector<int64_t> checked(candidates.size()), agreed(candidates.size());
      // Enumerations first: each predicts for its endpoint.
      absl::Status read =
          (*reader)->ReadRegion(report.scan.scan_id, region, [&](ShardResult& row) -> absl::Status {
            const ProbeResult& result = row.result;
            if (!row.readable ||
                backends::ProbeKindOf(result) != tlsweep::v1::PROBE_KIND_ENUMERATE ||
                result.domain().empty()) {
              return absl::OkStatus();
            }
            if (!backends::HasUsableEnumeration(result)) {
              // No enumeration: a server without (working) STARTTLS fails whatever the
              // candidate, as in the live reading; an unreachable one does not count either way.
              if (result.failure() == tlsweep::v1::STARTTLS_NOT_OFFERED ||
                  result.failure() == tlsweep::v1::STARTTLS_REFUSED) {
                for (size_t c = 0; c < candidates.size(); ++c) {
                  domains[c][result.domain()].any_endpoint = true;
                }
              }
              return absl::OkStatus();
            }
            for (size_t c = 0; c < candidates.size(); ++c) {
              auto [it, inserted] = predictions.try_emplace({PredictionKey(result), c});
              if (inserted) {
                it->second =
                    backends::PredictNegotiation(result.enumeration(), candidates[c].offer);
              }
              DomainState& state = domains[c][result.domain()];
              const bool sure = backends::IsSure(it->second);
              state.any_endpoint = true;
              state.all_fail &= it->second.verdict == backends::Prediction::Verdict::kFails;
              state.any_unsure |= !sure;
              state.any_sure_pass |=
                  sure && it->second.verdict == backends::Prediction::Verdict::kNegotiates;
            }
            return absl::OkStatus();
          });
      if (!read.ok()) return read;
      // Then the live probes: each checks the prediction for its endpoint, once per endpoint.
      std::set<std::string> live_checked_endpoints;
      read =
          (*reader)->ReadRegion(report.scan.scan_id, region, [&](ShardResult& row) -> absl::Status {
            const ProbeResult& result = row.result;
            if (!row.readable ||
                backends::ProbeKindOf(result) == tlsweep::v1::PROBE_KIND_ENUMERATE) {
              return absl::OkStatus();
            }
            for (size_t c = 0; c < candidates.size(); ++c) {
              if (!backends::IsLiveProbeOf(result, candidates[c].settings)) continue;
              auto it = predictions.find({PredictionKey(result), c});
              if (it == predictions.end()) continue;
              if (!live_checked_endpoints.insert(absl::StrCat(c, "|", it->first.first)).second) {
                continue;
              }
              ++checked[c];
              agreed[c] += backends::LiveAgrees(it->second, result) ? 1 : 0;
            }
            return absl::OkStatus();
          });
      if (!read.ok()) return read;
      // The baseline's live TLS-required verdicts in this region, for the delta.
      absl::flat_hash_map<std::string, int64_t> baseline;  // domain -> Required
      if (!report.baseline.empty()) {
        absl::StatusOr<SqliteStatement> verdicts = db.Prepare(
            "SELECT domain, required FROM report_domains WHERE scan_id = ? AND "
            "candidate = ? AND region = ?");
        if (!verdicts.ok()) return verdicts.status();
        verdicts->Bind(1, report.scan.scan_id).Bind(2, report.baseline).Bind(3, region);
        while (true) {
          absl::StatusOr<bool> row = verdicts->Step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          baseline[verdicts->Text(0)] = verdicts->Int(1);
        }
      }
      for (size_t c = 0; c < candidates.size(); ++c) {
        WhatIfRow row;
        row.candidate = candidates[c].name;
        row.region = region;
        if (!baseline.empty()) row.baseline = report.baseline;
        std::vector<std::pair<double, std::string>> newly_failing;
        int64_t uncertain = 0;
        for (const auto& [domain, state] : domains[c]) {
          if (!state.any_endpoint) continue;
          const auto weight = weights.find(domain);
          const double w = weight == weights.end() ? 1 : weight->second;
          row.evaluated.domains += 1;
          row.evaluated.weight += w;
          if (state.fails()) {
            row.fails.domains += 1;
            row.fails.weight += w;
          }
          uncertain += state.uncertain() ? 1 : 0;
          const auto before = baseline.find(domain);
          if (before == baseline.end()) continue;
          const Required was = static_cast<Required>(before->second);
          if (state.fails() && (was == Required::kOk || was == Required::kDegraded)) {
            row.newly_failing.domains += 1;
            row.newly_failing.weight += w;
            newly_failing.emplace_back(w, domain);
          } else if (state.any_sure_pass && was == Required::kFails) {
            row.newly_fixed.domains += 1;
            row.newly_fixed.weight += w;
          }
        }
        std::sort(newly_failing.begin(), newly_failing.end(),
                  [](const auto& a, const auto& b) { return a.first > b.first; });
        for (size_t i = 0; i < newly_failing.size() && i < kWhatIfExamples; ++i) {
          row.newly_failing_examples.push_back(newly_failing[i].second);
        }
        row.confidence = absl::StrCat(
            checked[c] > 0 ? absl::StrCat(agreed[c], "/", checked[c], " live endpoint checks agree")
                           : "no live check of these settings",
            uncertain > 0 ? absl::StrCat("; ", uncertain, " domains uncertain") : "");
        total_checked += checked[c];
        total_agreed += agreed[c];
        section.rows.push_back(std::move(row));
      }
    }
    section.note = absl::StrCat(
        "Predicted from the enumerations stored in this scan, without scanning again: a domain "
        "fails when every MX it reached would fail (an MX without working STARTTLS fails "
        "whatever the candidate). Live checks: ",
        total_agreed, "/", total_checked, " agree.");
    return section;
  };
}

}  // namespace tlsweep::coordinator::report
