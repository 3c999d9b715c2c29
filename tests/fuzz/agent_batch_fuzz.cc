// What an agent sends the coordinator: the input is parsed as a tlsweep.v1.ResultBatch in the
// binary wire format (what AgentService.Connect receives) and as protobuf JSON (the text form
// of the same message), and whatever parses goes through the coordinator's ingest exactly as
// agent_service.cc hands it on: agent_service.cc itself validates nothing in a batch; all of
// it is Store::IngestBatch (coordinator/store: the lease check, then the endpoint phase's
// AddResolveBatch / AddProbeBatch), CompleteLease (cutting probe units, FinishProbeUnit,
// JoinTargetShards) and Results.
//
// One SQLite store (a file in a private temporary directory; ":memory:" cannot be used because
// each submission writes through a connection of its own) lives for the whole run. Each input
// gets a fresh scan of four targets, is ingested as the resolve unit's batch (under its own
// lease id first: an unknown lease must be refused), then as the batch of every probe unit the
// routes it holds produced, and the scan is deleted afterwards so that inputs do not pile up.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/probe_kind.h"
#include "coordinator/store/endpoint_phase.h"
#include "coordinator/store/store.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_check.h"
#include "tlsweep/v1/agent_stream.pb.h"

namespace {

using tlsweep::coordinator::BatchOutcome;
using tlsweep::coordinator::Store;
using tlsweep::v1::ResultBatch;
using tlsweep::v1::ShardAssignment;

constexpr char kAgent[] = "fuzz-agent";
constexpr char kRegion[] = "eu";
constexpr int64_t kLeaseMs = 60'000;

std::string g_dir;
bool g_verbose = false;

// A store error on a batch (not a refusal: the agent sees its stream fail). Printed with
// TLSWEEP_FUZZ_VERBOSE=1.
void Note(const char* what, const absl::Status& status) {
  if (g_verbose && !status.ok()) std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
}

void RemoveDirectory() {
  std::error_code ignored;
  if (!g_dir.empty()) std::filesystem::remove_all(g_dir, ignored);
}

Store& TheStore() {
  static Store* store = [] {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : P_tmpdir;
    std::string pattern = absl::StrCat(base, "/tlsweep-fuzz-XXXXXX");
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    g_dir = pattern;
    atexit(RemoveDirectory);
    absl::StatusOr<std::unique_ptr<Store>> opened =
        tlsweep::coordinator::OpenSqliteStore(g_dir + "/store.db");
    if (!opened.ok()) std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    FUZZ_CHECK(opened.ok());
    tlsweep::v1::AgentHello hello;
    hello.set_agent_id(kAgent);
    hello.set_region(kRegion);
    hello.set_capacity(8);
    hello.set_runs_endpoint_units(true);
    FUZZ_CHECK((*opened)->RecordAgent(hello, "ipv4:127.0.0.1:1", true, 1000).ok());
    return opened->release();
  }();
  return *store;
}

// Errors from the store are allowed (a hostile batch may be refused), crashes and broken
// invariants are not. A refused batch must leave the store usable.
void Ingest(const ResultBatch& input) {
  Store& store = TheStore();
  // Endpoint key and probe kind, the two things the endpoint phase reads off every result.
  for (const tlsweep::v1::ProbeResult& result : input.results()) {
    FUZZ_CHECK(!tlsweep::coordinator::endpoint_phase::EndpointKey(result).empty());
    (void)(tlsweep::backends::ProbeKindOf(result) == tlsweep::v1::PROBE_KIND_ROUTE);
  }

  tlsweep::coordinator::ScanSpec spec;
  spec.name = "fuzz";
  spec.regions = {kRegion};
  spec.shard_size = 2;           // Two target shards: routes of one may wait for the other.
  spec.endpoint_shard_size = 2;  // Several probe units when the batch names many endpoints.
  absl::StatusOr<std::unique_ptr<tlsweep::coordinator::SubmissionWriter>> writer =
      store.BeginScan(spec, 1000);
  FUZZ_CHECK(writer.ok());
  for (uint64_t line = 1; line <= 4; ++line) {
    const std::string domain = absl::StrCat("t", line, ".example");
    tlsweep::coordinator::TargetRow row{line, domain, absl::StrCat("domain ", domain, ":25"),
                                        domain, 1.0};
    FUZZ_CHECK((*writer)->AddTarget(row).value_or(false));
  }
  tlsweep::coordinator::SubmissionStats stats;
  stats.lines = 4;
  FUZZ_CHECK((*writer)->Finish(stats, 1000).ok());
  const std::string scan_id = (*writer)->scan_id();

  int64_t now = 2000;
  absl::StatusOr<std::vector<ShardAssignment>> resolve =
      store.LeaseShards(kAgent, kRegion, 8, now, kLeaseMs, true);
  FUZZ_CHECK(resolve.ok() && resolve->size() == 2);

  // Under the lease id the agent wrote: no lease of this scan has it yet... unless it guessed.
  bool guessed = false;
  for (const ShardAssignment& a : *resolve) guessed = guessed || a.lease_id() == input.lease_id();
  if (!guessed) {
    absl::StatusOr<BatchOutcome> stale = store.IngestBatch(kAgent, input);
    FUZZ_CHECK(!stale.ok() || *stale != BatchOutcome::kAccepted);
  }

  // As the first resolve unit's batch, then complete both resolve units.
  for (size_t u = 0; u < resolve->size(); ++u) {
    const ShardAssignment& assignment = (*resolve)[u];
    uint64_t batches = 0;
    if (u == 0) {
      ResultBatch batch = input;
      batch.set_lease_id(assignment.lease_id());
      absl::StatusOr<BatchOutcome> outcome = store.IngestBatch(kAgent, batch);
      Note("IngestBatch(resolve)", outcome.status());
      if (outcome.ok()) {
        FUZZ_CHECK(*outcome == BatchOutcome::kAccepted);
        absl::StatusOr<BatchOutcome> again = store.IngestBatch(kAgent, batch);
        FUZZ_CHECK(again.ok() && *again == BatchOutcome::kDuplicate);
        batches = 1;
        // The completion counts batches 0..n-1; a seq elsewhere is still one batch.
      }
    }
    std::string detail;
    absl::StatusOr<bool> complete =
        store.CompleteLease(kAgent, assignment.lease_id(), batches, ++now, &detail);
    Note("CompleteLease(resolve)", complete.status());
  }

  // Every probe unit the routes produced gets the same batch (agents answer per endpoint).
  for (int round = 0; round < 8; ++round) {
    absl::StatusOr<std::vector<ShardAssignment>> probes =
        store.LeaseShards(kAgent, kRegion, 8, ++now, kLeaseMs, true);
    Note("LeaseShards(probe)", probes.status());
    if (!probes.ok() || probes->empty()) break;
    for (const ShardAssignment& assignment : *probes) {
      FUZZ_CHECK(assignment.kind() == tlsweep::v1::UNIT_PROBE_ENDPOINTS);
      ResultBatch batch = input;
      batch.set_lease_id(assignment.lease_id());
      absl::StatusOr<BatchOutcome> outcome = store.IngestBatch(kAgent, batch);
      Note("IngestBatch(probe)", outcome.status());
      const uint64_t batches = outcome.ok() && *outcome == BatchOutcome::kAccepted ? 1 : 0;
      std::string detail;
      Note("CompleteLease(probe)",
           store.CompleteLease(kAgent, assignment.lease_id(), batches, ++now, &detail).status());
    }
  }

  absl::StatusOr<std::vector<tlsweep::v1::ProbeResult>> results = store.Results(scan_id, kRegion);
  Note("Results", results.status());
  if (g_verbose && results.ok()) {
    std::fprintf(stderr, "results stored: %zu; lines:", results->size());
    for (const tlsweep::v1::ProbeResult& r : *results)
      std::fprintf(stderr, " %llu", static_cast<unsigned long long>(r.line_number()));
    std::fprintf(stderr, "\n");
  }
  absl::StatusOr<tlsweep::v1::Scan> scan = store.GetScan(scan_id, true);
  FUZZ_CHECK(scan.ok());
  FUZZ_CHECK(store.DeleteScan(scan_id).ok());
  // Nothing of the scan may survive its deletion, whatever the batch held.
  FUZZ_CHECK(!store.GetScan(scan_id, false).ok());
  absl::StatusOr<std::vector<tlsweep::v1::ProbeResult>> gone = store.Results(scan_id, kRegion);
  FUZZ_CHECK(!gone.ok() || gone->empty());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in a string field makes protobuf log an error per parse: noise, not a finding.
  google::protobuf::SetLogHandler(nullptr);
  (void)TheStore();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // TLSWEEP_FUZZ_VERBOSE=1: say which form parsed (to check that a new seed reaches the store).
  static const bool verbose = g_verbose = getenv("TLSWEEP_FUZZ_VERBOSE") != nullptr;
  ResultBatch binary;
  const bool is_binary = binary.ParseFromArray(data, static_cast<int>(size));
  if (verbose) std::fprintf(stderr, "binary: %s\n", is_binary ? "parsed" : "no");
  if (is_binary) {
    // Re-encoding is stable: what the store keeps as a blob parses back to the same message.
    ResultBatch again;
    FUZZ_CHECK(again.ParseFromString(binary.SerializeAsString()));
    Ingest(binary);
  }
  ResultBatch json;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &json, options);
  if (verbose) std::fprintf(stderr, "json: %s\n", parsed.ToString().c_str());
  if (parsed.ok()) {
    std::string printed;
    FUZZ_CHECK(google::protobuf::util::MessageToJsonString(json, &printed).ok());
    Ingest(json);
  }
  return 0;
}
