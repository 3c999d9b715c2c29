// The compatibility report of one scan, as plain data: what the builder computes from the
// report tables (result_index.h) and what every renderer (text, JSON, HTML) prints. The JSON
// field names are documented in docs/report-schema.md and only ever added to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlsweep::coordinator::report {

// Domains and the mail volume they carry (the sum of their list weights; 1 each without
// weights).
struct Count {
  int64_t domains = 0;
  double weight = 0;
};

struct CandidateInfo {
  std::string name;
  std::string backend;
  bool tls_required = false;
  std::string config;  // The cipher string / priority string, for people.
};

struct RegionProgressInfo {
  std::string region;
  uint64_t shards = 0;
  uint64_t shards_done = 0;     // Done or lost.
  uint64_t shards_indexed = 0;  // Part of this report.
  uint64_t targets_done = 0;
};

// What the scan cost the servers it probed, per region: the figures an operator checks before
// and after a scan (one probe per shared address, politeness per provider).
struct ProviderLoad {
  std::string provider;  // Registrable domain of the MX names.
  int64_t addresses = 0;
  int64_t names = 0;
  int64_t connections = 0;
};

// An endpoint whose enumeration a scan did not make: it answered a handshake as it did when
// the region last enumerated it (coordinator/store/known_enumerations.h).
struct ReusedEnumeration {
  std::string endpoint;   // "address|port".
  std::string from_scan;  // The scan that made it.
  int64_t age_s = 0;      // At the start of this scan.
};

struct RegionLoad {
  std::string region;
  int64_t domains = 0;                  // Targets of the region's resolved shards.
  int64_t names = 0;                    // Distinct (MX name, address, port).
  int64_t addresses = 0;                // Distinct (address, port): what is probed.
  int64_t sni_dependent = 0;            // Addresses probed per name: their answer depends on SNI.
  int64_t probes = 0;                   // Probe and enumeration results the agents sent.
  int64_t connections = 0;              // SMTP connections those probes made, retries included.
  std::vector<ProviderLoad> providers;  // Most connections first, capped.
  // Scans with --enumerate: enumerations made, and reused because the endpoint still answered
  // as before (each saving the enumeration's connections), with the oldest reused one's age.
  int64_t enumerations_made = 0;
  int64_t enumerations_reused = 0;
  int64_t oldest_reused_age_s = 0;
  std::vector<ReusedEnumeration> reused;  // Oldest first, capped.
};

struct ScanInfo {
  std::string scan_id;
  std::string name;
  std::string state;  // running, done, cancelled...
  int64_t created_unix_ms = 0;
  int64_t finished_unix_ms = 0;
  uint64_t targets = 0;
  std::vector<std::string> regions;
  std::vector<RegionProgressInfo> progress;
  std::vector<RegionLoad> load;
};

// The first screen: one per (candidate, region).
struct Headline {
  std::string candidate;
  std::string region;
  bool tls_required = false;  // The candidate's own policy: which reading applies.
  Count total;
  // TLS required (Momentum tls = required, Postfix encrypt).
  Count ok;
  Count degraded;     // The primary MX fails, a backup works.
  Count fails;        // Every reachable MX fails: 451 4.7.5, the mail defers then bounces.
  Count unreachable;  // No MX reached SMTP at all (DNS, TCP...): fails whatever the config.
  // Opportunistic TLS: the first MX reached fails the handshake or has no STARTTLS.
  Count cleartext;
  int64_t endpoints = 0;          // Distinct (MX host, address, port) probed.
  int64_t failing_endpoints = 0;  // Of those, reached but STARTTLS or TLS failed.
  // Failure class of the domains that fail (TLS required), largest volume first.
  std::vector<std::pair<std::string, Count>> fail_classes;
};

struct FailingDomain {
  std::string candidate;
  std::string region;
  std::string domain;
  uint64_t line_number = 0;
  double weight = 0;
  std::string required;       // fails | degraded
  std::string opportunistic;  // tls | cleartext | unreachable
  std::string failure;        // What the domain sees (the first failing MX reached).
  std::string cause;          // Root cause in words: "no shared suite", "protocol version"...
  // The structured cause (backends/negotiation/failure_cause.h): a code and a sentence an
  // engineer acts on, from the negotiation model where the MX was enumerated.
  std::string cause_code;
  std::string cause_text;
  std::string mx_host;   // The MX that failure came from.
  std::string provider;  // Registrable domain of that MX.
  int64_t endpoints = 0;
  int64_t failing_endpoints = 0;
};

struct DistributionRow {
  std::string key;
  Count count;
};

// One distribution over domains, read at the endpoint mail would go to (the first MX that
// negotiated TLS, else the first reached).
struct Distribution {
  std::string dimension;  // starttls, version, suite, group, trusted, hostname_match, expiry,
                          // key, failure_group, failure.
  std::string candidate;
  std::string region;
  std::vector<DistributionRow> rows;  // Largest first.
};

struct EndpointRef {
  std::string mx_host;
  std::string address;
  uint32_t port = 0;
};

struct BackendDifference {
  std::string region;
  EndpointRef endpoint;
  std::string candidate_a, backend_a, verdict_a;  // verdict: "ok" or the failure name.
  std::string candidate_b, backend_b, verdict_b;
  std::string cause;  // Root cause of the failing side.
  Count count;        // Domains using the endpoint.
};

struct BackendDifferential {
  std::string candidate_a, backend_a, candidate_b, backend_b;
  int64_t endpoints = 0;  // Compared (reached TLS with both).
  int64_t differing = 0;
  std::vector<std::pair<std::string, int64_t>> causes;  // Cause -> differing endpoints.
};

struct RegionDifference {
  std::string candidate;
  EndpointRef endpoint;
  std::string region_a, verdict_a, region_b, verdict_b;
  Count count;
};

struct DiffRow {
  std::string kind;  // newly_failing | newly_fixed | downgraded
  std::string candidate;
  std::string region;
  std::string domain;
  double weight = 0;
  std::string before;  // Verdict, or version + suite for a downgrade.
  std::string after;
};

struct DiffSummary {
  std::string candidate;
  std::string region;
  Count newly_failing, newly_fixed, downgraded;
};

struct DiffSection {
  std::string against_scan_id;
  std::vector<DiffSummary> summaries;
  std::vector<DiffRow> rows;  // Worst first by volume, capped.
};

// The question behind a config change: against the baseline (the candidate the team runs
// today), what each other candidate newly breaks or fixes, per region, in domains and volume.
struct DeltaSummary {
  std::string candidate;
  std::string region;
  bool tls_required = false;  // The candidate's own policy: which reading applies to it.
  Count compared;             // Domains reached under the baseline (not unreachable).
  Count newly_failing;        // TLS required: ok or degraded under the baseline, fails now.
  Count newly_degraded;       // TLS required: ok under the baseline, degraded now.
  Count newly_cleartext;      // Opportunistic: TLS under the baseline, clear text now.
  Count newly_fixed;          // Either reading better than under the baseline.
};

struct DeltaRow {
  std::string change;  // newly_failing | newly_degraded | newly_cleartext | newly_fixed
  std::string candidate;
  std::string region;
  std::string domain;
  uint64_t line_number = 0;
  double weight = 0;
  std::string before;  // The verdict under the baseline (the reading of `change`).
  std::string after;
  std::string cause_code;  // Why it fails now (for a fix: why it failed before).
  std::string cause_text;
  std::string mx_host;
  std::string provider;
};

// Newly failing mail by provider (the registrable domain of the MX): what teams escalate.
struct ProviderDelta {
  std::string candidate;
  std::string region;
  std::string provider;
  Count newly_failing;    // TLS required reading.
  Count newly_cleartext;  // Opportunistic reading.
};

struct DeltaSection {
  std::string baseline;
  std::vector<DeltaSummary> summaries;   // Candidate order, then region.
  std::vector<DeltaRow> rows;            // Largest volume first, capped.
  int64_t rows_total = 0;                // Before the cap.
  std::vector<ProviderDelta> providers;  // Largest newly failing volume first, capped.
};

// One step of advice for a candidate (advice.h): what to add, what it rescues (cumulative with
// the steps before it), and the advised config as each MTA reads it.
struct AdviceStep {
  std::string candidate;
  int step = 0;                    // 1, 2, 3.
  std::string addition;            // "add AES256-SHA", "allow TLSv1.1", "security level 0".
  Count rescued;                   // Newly failing domains (all regions) that negotiate with it.
  Count newly_failing;             // Of how many newly failing domains with an enumeration.
  std::string spec;                // tlsweep candidate spec of the advised config.
  std::vector<std::string> paste;  // "ciphers: ...", "main.cf: ...", "ecelerity.conf: ...".
};

// A scan that measured too little to answer: most domains were not reached (DNS, TCP, refused
// by policy such as private addresses without --allow-private). Reports never look green then.
struct Inconclusive {
  std::string region;
  Count unreached;
  Count total;
  std::string why;  // The largest classes, e.g. "address_not_allowed 40, tcp_timeout 3".
};

// What an enumeration found wrong with a server itself (enumeration_findings.h), per region and
// endpoint, with the domains that use it.
struct EndpointFinding {
  std::string region;
  EndpointRef endpoint;
  std::string kind;  // broken_server | hello_only_suites | sslv2 | enumeration_incomplete
  std::string detail;
  Count count;
};

// Domains that still depend on weak suites or old versions (weak_dependence.h): every MX they
// have accepts nothing stronger, so a sender that drops that class or version cuts them off.
// Per region, from the enumerations; only what is weak is listed.
struct WeakDependence {
  std::string region;
  Count known;    // Domains whose every MX enumeration can say (the denominator).
  Count unknown;  // Some MX's enumeration was cut short, in error, or accepted nothing.
  std::vector<std::pair<std::string, Count>> by_class;    // Weakest first; "strong" left out.
  std::vector<std::pair<std::string, Count>> by_version;  // Oldest first; TLS 1.2+ left out.
};

// Filled by the what-if evaluator (backends/negotiation/): a candidate config judged from the
// stored enumerations without scanning again. The builder leaves it empty; renderers print it
// when present.
struct WhatIfRow {
  std::string candidate;
  std::string region;
  Count evaluated;
  Count fails;
  std::string confidence;  // e.g. "42/42 live samples agree".
  // Against the baseline's live verdicts (TLS required) in this region: domains the baseline
  // reaches (ok or degraded) that this candidate would surely fail, and the reverse. Empty
  // `baseline` when the scan has no baseline verdicts to compare with.
  std::string baseline;
  Count newly_failing;
  Count newly_fixed;
  std::vector<std::string> newly_failing_examples;  // The largest by volume, a few.
};

struct WhatIfSection {
  std::string note;
  std::vector<WhatIfRow> rows;
};

struct Report {
  static constexpr int kSchemaVersion = 1;
  ScanInfo scan;
  int64_t generated_unix_ms = 0;
  bool weighted = false;  // The list carried weights (some weight other than 1).
  bool complete = false;  // Every (shard, region) of the scan is final and indexed.
  // Stored result rows that did not parse (damaged store): left out of every table, counted
  // and named ("region/shard/seq/idx", the first few) so that the rest is still read.
  int64_t unreadable_rows = 0;
  std::vector<std::string> unreadable_examples;
  std::vector<CandidateInfo> candidates;
  std::string baseline;  // The candidate every other one is compared with (the delta).
  std::vector<Headline> headlines;
  std::vector<FailingDomain> failing_domains;  // Worst first by volume, capped.
  int64_t failing_domains_total = 0;           // Before the cap.
  std::vector<Distribution> distributions;
  std::vector<BackendDifferential> backend_differentials;
  std::vector<BackendDifference> backend_differences;  // Capped, by volume.
  int64_t region_differences_total = 0;
  std::vector<RegionDifference> region_differences;  // Capped, by volume.
  std::optional<DiffSection> diff;
  std::optional<WhatIfSection> what_if;
  std::optional<DeltaSection> delta;  // With two or more candidates: each against the baseline.
  std::vector<Inconclusive> inconclusive;  // Regions where most domains were not reached.
  std::vector<AdviceStep> advice;          // Per candidate, in steps; empty without enumerations.
  std::vector<EndpointFinding> endpoint_findings;  // Largest volume first, capped.
  std::vector<WeakDependence> weak_dependence;     // Per region; empty without enumerations.
  int64_t endpoint_findings_total = 0;             // Before the cap.
};

}  // namespace tlsweep::coordinator::report
