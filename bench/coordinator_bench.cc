// Coordinator scale harness (not a test; prints figures), real gRPC over loopback TCP and a real
// SQLite store in a temporary directory:
//  1. Ingest: a coordinator in this process (--dev), one scan of N domains x R regions, then K
//     synthetic agents per region (each its own channel and Connect stream, following the
//     delivery contract: lease, batches with a window of unacknowledged ones, ShardComplete)
//     answering every target with a realistic STARTTLS result. Prints results and batches
//     ingested per second, wall time and the store's size, for each K.
//  2. Upload: the tlsweep-coordinator binary as a child process, and a list of L lines
//     (default 10,000,000; generated on the fly, ~2% duplicates, a few bad lines) streamed
//     through CreateScan. Prints the time until the Scan comes back (stored and sharded) and
//     the coordinator's resident memory (VmRSS, VmHWM) before the upload and as it goes, with
//     the targets it has committed by then.
//
//   coordinator_bench [--only ingest|upload] [--domains 200000] [--regions 2] [--agents 1,2,4]
//                     [--batch 250] [--window 16] [--capacity 2] [--shard-size 1000]
//                     [--lines 10000000] [--coordinator PATH] [--dir DIR] [--keep]
//                     [--two-phase]   (agents answer with routes, then endpoint results)
//                     [--candidates 1] (candidates in the profile: endpoint results each)
//  Two-phase runs also index the closed store and build its report (the time a report takes
//  at that size), and print bytes stored per domain and the process's peak RSS.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/coordinator_process.h"
#include "bench/synthetic_agent.h"
#include "bench/synthetic_result.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/result_index.h"
#include "coordinator/server.h"
#include "coordinator/store/sqlite_db.h"
#include "tests/testing/cert_factory.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace {

namespace v1 = ::tlsweep::v1;
using ::tlsweep::bench::CoordinatorProcess;
using ::tlsweep::bench::SyntheticAgent;
using ::tlsweep::bench::SyntheticAgentOptions;
using ::tlsweep::bench::SyntheticAgentStats;
using ::tlsweep::bench::SyntheticResults;
using ::tlsweep::coordinator::SqliteDb;
using ::tlsweep::coordinator::SqliteStatement;
using Clock = std::chrono::steady_clock;

constexpr size_t kChunkBytes = 256 * 1024;  // As `tlsweep scan` sends them.
constexpr int64_t kScanTimeoutS = 3600;

struct Flags {
  std::string only;
  uint64_t domains = 200'000;
  int regions = 2;
  std::vector<int> agents = {1, 2, 4};
  size_t batch = 250;
  size_t window = 16;
  int capacity = 2;
  uint32_t shard_size = 1000;
  uint64_t lines = 10'000'000;
  std::string coordinator = TLSWEEP_COORDINATOR_BINARY;
  std::string dir;
  bool keep = false;
  bool two_phase = false;
  int candidates = 1;
};

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

uint64_t FileBytes(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
}

// The database, its WAL and its shared-memory index.
uint64_t StoreBytes(const std::string& path) {
  return FileBytes(path) + FileBytes(path + "-wal") + FileBytes(path + "-shm");
}

[[noreturn]] void Die(const std::string& what) {
  fprintf(stderr, "coordinator_bench: %s\n", what.c_str());
  exit(1);
}

// Line `n` (1-based) of a generated list. Clean: "d<n>.example,<weight>". Dirty, as lists are:
// a comment first, every 50th line a duplicate (other case) of an earlier one, and one line in
// a million not a target.
void AppendLine(uint64_t n, bool dirty, std::string& out) {
  const uint64_t weight = 1 + (n * 7919) % 1000;
  if (dirty && n == 1) {
    out.append("# coordinator_bench list\n");
  } else if (dirty && n % 1'000'000 == 777'777) {
    absl::StrAppend(&out, "d", n, "..example\n");
  } else if (dirty && n % 50 == 0) {
    absl::StrAppend(&out, "D", n - 25, ".Example,", weight, "\n");
  } else {
    absl::StrAppend(&out, "d", n, ".example,", weight, "\n");
  }
}

std::shared_ptr<grpc::Channel> Channel(int port) {
  grpc::ChannelArguments args;
  // A connection of its own, not a subchannel shared with the other agents' channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

v1::ScanHeader Header(const std::string& name, int regions, uint32_t shard_size,
                      int candidates = 1) {
  v1::ScanHeader header;
  header.set_name(name);
  for (int c = 0; c < std::max(candidates, 1); ++c) {
    v1::TlsClientSettings* candidate = header.mutable_profile()->add_candidates();
    candidate->set_name(c == 0 ? "default" : absl::StrCat("candidate", c));
    candidate->set_backend("openssl");
  }
  for (int r = 0; r < regions; ++r) header.add_regions(absl::StrCat("region", r));
  header.set_shard_size(shard_size);
  return header;
}

// Streams `lines` generated lines through CreateScan; `progress` is called after each chunk
// with the lines sent so far. Returns the Scan the coordinator answers with.
absl::StatusOr<v1::Scan> Submit(grpc::Channel& channel, const v1::ScanHeader& header,
                                uint64_t lines, bool dirty,
                                const std::function<void(uint64_t)>& progress) {
  auto stub = v1::ScanService::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](auto*) {}));
  grpc::ClientContext context;
  v1::Scan scan;
  auto writer = stub->CreateScan(&context, &scan);
  v1::CreateScanRequest request;
  *request.mutable_header() = header;
  bool ok = writer->Write(request);
  std::string* chunk = request.mutable_chunk()->mutable_data();
  uint64_t n = 1;
  while (ok && n <= lines) {
    chunk->clear();
    while (n <= lines && chunk->size() < kChunkBytes) AppendLine(n++, dirty, *chunk);
    ok = writer->Write(request);
    if (progress) progress(n - 1);
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return scan;
}

absl::StatusOr<v1::Scan> GetScan(grpc::Channel& channel, const std::string& scan_id) {
  auto stub = v1::ScanService::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](auto*) {}));
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetScanRequest request;
  request.set_scan_id(scan_id);
  v1::Scan scan;
  const grpc::Status status = stub->GetScan(&context, request, &scan);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return scan;
}

// Targets committed so far by the one submission in the store (its writer commits every few
// thousand); the read transaction ends with the statement.
uint64_t StoredTargets(SqliteDb& db) {
  absl::StatusOr<SqliteStatement> select = db.Prepare(
      "SELECT COALESCE(MAX(ordinal) + 1, 0) FROM targets WHERE scan_id = "
      "(SELECT scan_id FROM scans ORDER BY created_ms DESC LIMIT 1)");
  if (!select.ok()) return 0;
  absl::StatusOr<bool> row = select->Step();
  return row.ok() && *row ? static_cast<uint64_t>(select->Int(0)) : 0;
}

std::string TempDirectory(const Flags& flags) {
  if (flags.dir.empty()) return tlsweep::testing::MakeTempDirectory("tlsweep-coordinator-bench");
  const std::string dir = absl::StrCat(flags.dir, "/tlsweep-coordinator-bench-", getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

void RemoveDirectory(const Flags& flags, const std::string& dir) {
  if (flags.keep) {
    printf("kept %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
}

// Set when a run's scan did not end as it should: main exits 1, so that the tiny CI run of
// this harness fails rather than printing figures of a broken run.
bool incomplete_runs = false;

// One ingest run with `per_region` agents in each region.
void IngestRun(const Flags& flags, const SyntheticResults& results, int per_region) {
  const std::string dir = TempDirectory(flags);
  const std::string store = dir + "/coordinator.db";
  tlsweep::coordinator::ServerOptions options;
  options.dev = true;
  options.listen = "127.0.0.1:0";
  options.store_path = store;
  options.coordinator.lease_ms = 600'000;  // Nothing here should expire.
  options.coordinator.run_scheduler = false;
  auto server = tlsweep::coordinator::CoordinatorServer::Start(options);
  if (!server.ok()) Die(absl::StrCat("coordinator: ", server.status().message()));
  std::shared_ptr<grpc::Channel> api = Channel((*server)->port());

  Clock::time_point start = Clock::now();
  absl::StatusOr<v1::Scan> scan =
      Submit(*api, Header("ingest", flags.regions, flags.shard_size, flags.candidates),
             flags.domains, false, {});
  if (!scan.ok()) Die(absl::StrCat("submit: ", scan.status().message()));
  const double submit_s = Seconds(start);

  std::vector<std::unique_ptr<SyntheticAgent>> agents;
  for (int r = 0; r < flags.regions; ++r) {
    for (int k = 0; k < per_region; ++k) {
      SyntheticAgentOptions agent;
      agent.agent_id = absl::StrCat("bench-", r, "-", k);
      agent.region = absl::StrCat("region", r);
      agent.capacity = flags.capacity;
      agent.batch_size = flags.batch;
      agent.window = flags.window;
      agent.two_phase = flags.two_phase;
      agents.push_back(
          std::make_unique<SyntheticAgent>(Channel((*server)->port()), agent, results));
    }
  }
  start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  for (auto& agent : agents) agent->Start();
  v1::Scan now;
  for (;;) {
    absl::StatusOr<v1::Scan> polled = GetScan(*api, scan->scan_id());
    if (!polled.ok()) Die(absl::StrCat("get scan: ", polled.status().message()));
    now = *std::move(polled);
    if (now.state() != v1::SCAN_RUNNING || Seconds(start) > kScanTimeoutS) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double wall_s = Seconds(start);
  SyntheticAgentStats total;
  const double cpu_s = ProcessCpuSeconds() - cpu_start;
  for (auto& agent : agents) {
    agent->Stop();
    const SyntheticAgentStats stats = agent->stats();
    total.leases += stats.leases;
    total.completed += stats.completed;
    total.batches += stats.batches;
    total.results += stats.results;
    total.refused += stats.refused;
    total.bytes += stats.bytes;
    total.cpu_s += stats.cpu_s;
    if (!stats.error.empty()) fprintf(stderr, "agent: %s\n", stats.error.c_str());
  }
  uint64_t stored_results = 0;
  uint64_t endpoints = 0;
  uint64_t endpoint_results = 0;
  for (const v1::RegionProgress& progress : now.progress()) {
    stored_results += progress.results();
    endpoints += progress.endpoints();
    endpoint_results += progress.endpoint_results();
  }
  // Two-phase: routes and endpoint results go in; one result per target and candidate is read.
  const uint64_t expected_stored =
      flags.two_phase
          ? flags.domains * static_cast<uint64_t>(flags.regions) * std::max(flags.candidates, 1)
          : total.results;
  const size_t streams = agents.size();
  agents.clear();
  server->reset();  // Closes the store: the WAL is checkpointed into the database.
  const uint64_t closed_bytes = StoreBytes(store);
  double index_s = 0, build_s = 0;
  if (flags.two_phase) {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(store);
    if (!db.ok()) Die(absl::StrCat("open store: ", db.status().message()));
    Clock::time_point indexing = Clock::now();
    absl::StatusOr<tlsweep::coordinator::report::IndexStats> indexed =
        tlsweep::coordinator::report::CatchUp(**db, scan->scan_id());
    if (!indexed.ok()) Die(absl::StrCat("index: ", indexed.status().message()));
    index_s = Seconds(indexing);
    tlsweep::coordinator::report::ReportOptions report;
    report.scan_id = scan->scan_id();
    Clock::time_point building = Clock::now();
    absl::StatusOr<tlsweep::coordinator::report::Report> built =
        tlsweep::coordinator::report::BuildReport(**db, report);
    if (!built.ok()) Die(absl::StrCat("report: ", built.status().message()));
    build_s = Seconds(building);
  }
  printf("%8d %7zu %9llu %7llu %7.2f %9.0f %9.0f %7.1f %7.1f %7.1f %9.0f %7.0f %7.1f\n", per_region,
         streams, static_cast<unsigned long long>(total.results),
         static_cast<unsigned long long>(total.batches), wall_s, total.results / wall_s,
         total.batches / wall_s, MiB(total.bytes) / wall_s, cpu_s, total.cpu_s, MiB(closed_bytes),
         total.results > 0 ? static_cast<double>(closed_bytes) / total.results : 0.0, submit_s);
  if (flags.two_phase) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    printf(
        "         (two-phase: %llu unique endpoints, %llu endpoint results (%.0f/s); %llu target "
        "results as read, %.0f targets/s end to end; store %.0f B/domain; index %.2f s, "
        "report build %.3f s; peak RSS %.0f MiB, coordinator and agents)\n",
        static_cast<unsigned long long>(endpoints),
        static_cast<unsigned long long>(endpoint_results), endpoint_results / wall_s,
        static_cast<unsigned long long>(stored_results), stored_results / wall_s,
        static_cast<double>(closed_bytes) / static_cast<double>(flags.domains), index_s, build_s,
        usage.ru_maxrss / 1024.0);
  }
  if (now.state() != v1::SCAN_DONE || stored_results != expected_stored || total.refused != 0 ||
      total.completed != total.leases) {
    printf("         (%s; stored %llu results; %llu refused; %llu of %llu leases completed)\n",
           v1::ScanState_Name(now.state()).c_str(), static_cast<unsigned long long>(stored_results),
           static_cast<unsigned long long>(total.refused),
           static_cast<unsigned long long>(total.completed),
           static_cast<unsigned long long>(total.leases));
    incomplete_runs = true;  // The figures above do not describe a finished scan.
  }
  fflush(stdout);
  RemoveDirectory(flags, dir);
}

void Ingest(const Flags& flags) {
  const std::string pki = tlsweep::testing::MakeTempDirectory("tlsweep-coordinator-bench-pki");
  absl::StatusOr<SyntheticResults> results = SyntheticResults::Create(pki);
  std::filesystem::remove_all(pki);
  if (!results.ok()) Die(absl::StrCat("certificates: ", results.status().message()));
  printf(
      "ingest%s: %llu domains x %d regions, shard size %u, %zu results a batch, window %zu, "
      "capacity %d; a result is ~%zu bytes (2-certificate chain, DER included)\n",
      flags.two_phase
          ? " (two-phase: routes, then one result per endpoint and candidate, joined when read)"
          : "",
      static_cast<unsigned long long>(flags.domains), flags.regions, flags.shard_size, flags.batch,
      flags.window, flags.capacity, results->typical_bytes());
  printf(
      "  (wall s: agents started to scan done; MiB/s: result batches, serialized; cpu s: this\n"
      "   whole process; agents: their own threads, the rest is the coordinator and gRPC on both\n"
      "   sides; store: the database file once closed; B/res: its bytes per result; submit: s\n"
      "   for CreateScan of the domains)\n");
  printf("%8s %7s %9s %7s %7s %9s %9s %7s %7s %7s %9s %7s %7s\n", "K/region", "streams", "results",
         "batches", "wall s", "results/s", "batches/s", "MiB/s", "cpu s", "agents", "store MiB",
         "B/res", "submit");
  for (int per_region : flags.agents) IngestRun(flags, *results, per_region);
}

void Upload(const Flags& flags) {
  const std::string dir = TempDirectory(flags);
  const std::string store = dir + "/coordinator.db";
  absl::StatusOr<std::unique_ptr<CoordinatorProcess>> process =
      CoordinatorProcess::Start(flags.coordinator, store);
  if (!process.ok()) Die(absl::StrCat("coordinator: ", process.status().message()));
  CoordinatorProcess& coordinator = **process;
  // exit() skips destructors: the child is stopped first.
  const auto fail = [&](const std::string& what) {
    coordinator.Stop();
    Die(what);
  };
  std::shared_ptr<grpc::Channel> channel = Channel(coordinator.port());
  // Serving once an unknown scan is NOT_FOUND.
  if (GetScan(*channel, "none").status().code() != absl::StatusCode::kNotFound) {
    fail("the coordinator does not answer");
  }
  printf("upload: %llu lines through CreateScan (%zu KiB chunks) to %s (pid %d), store %s\n",
         static_cast<unsigned long long>(flags.lines), kChunkBytes / 1024,
         flags.coordinator.c_str(), coordinator.pid(), store.c_str());
  printf(
      "  (sent: lines written by this client; stored: targets the coordinator has committed (a\n"
      "   reader on the store; 2%% of lines are duplicates); the difference is in gRPC buffers.\n"
      "   RSS: the coordinator's VmRSS now; max RSS: the highest sampled every 10 ms; VmHWM: the\n"
      "   kernel's peak; store: db + WAL + shm)\n");
  printf("%10s %10s %7s %9s %8s %8s %9s %9s\n", "sent", "stored", "s", "lines/s", "RSS MiB",
         "max RSS", "VmHWM MiB", "store MiB");
  absl::StatusOr<std::unique_ptr<SqliteDb>> reader = SqliteDb::Open(store);
  if (!reader.ok()) fail(absl::StrCat("store: ", reader.status().message()));
  // VmRSS sampled every 10 ms in between the milestones (VmHWM covers what sampling misses).
  std::atomic<bool> sampling{true};
  std::atomic<long> max_rss_kb{coordinator.StatusKb("VmRSS:")};
  std::thread sampler([&] {
    while (sampling) {
      const long rss = coordinator.StatusKb("VmRSS:");
      if (rss > max_rss_kb) max_rss_kb = rss;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const Clock::time_point start = Clock::now();
  auto row = [&](const std::string& label, uint64_t sent) {
    const double s = Seconds(start);
    const long rss = coordinator.StatusKb("VmRSS:");
    if (rss > max_rss_kb) max_rss_kb = rss;
    printf("%10s %10llu %7.1f %9.0f %8.1f %8.1f %9.1f %9.1f\n", label.c_str(),
           static_cast<unsigned long long>(StoredTargets(**reader)), s, s > 0 ? sent / s : 0.0,
           rss / 1024.0, max_rss_kb / 1024.0, coordinator.StatusKb("VmHWM:") / 1024.0,
           MiB(StoreBytes(store)));
    fflush(stdout);
  };
  row("before", 0);
  const uint64_t step = std::max<uint64_t>(flags.lines / 10, 1);
  uint64_t next = std::min<uint64_t>(step, 1'000'000);
  absl::StatusOr<v1::Scan> scan =
      Submit(*channel, Header("upload", 2, 0), flags.lines, true, [&](uint64_t sent) {
        if (sent < next) return;
        row(absl::StrCat(sent), sent);
        next = next < step ? step : next + step;
      });
  const double submit_s = Seconds(start);
  row("scan back", flags.lines);
  sampling = false;
  sampler.join();
  reader->reset();  // The coordinator's last close then folds the WAL into the database.
  if (!scan.ok()) fail(absl::StrCat("submit: ", scan.status().message()));
  printf(
      "scan %s: %s in %.1f s (%.0f lines/s): %llu lines, %llu targets, %llu duplicates, %llu "
      "bad lines, %llu shards x %d regions\n",
      scan->scan_id().c_str(), v1::ScanState_Name(scan->state()).c_str(), submit_s,
      flags.lines / submit_s, static_cast<unsigned long long>(scan->lines()),
      static_cast<unsigned long long>(scan->targets()),
      static_cast<unsigned long long>(scan->duplicate_count()),
      static_cast<unsigned long long>(scan->bad_line_count()),
      static_cast<unsigned long long>(scan->shards()), scan->regions_size());
  printf("coordinator peak RSS (VmHWM) %.1f MiB; store while open %.1f MiB",
         coordinator.StatusKb("VmHWM:") / 1024.0, MiB(StoreBytes(store)));
  coordinator.Stop();
  printf(", after shutdown %.1f MiB (%s)\n", MiB(StoreBytes(store)), store.c_str());
  RemoveDirectory(flags, dir);
}

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--keep") {
      flags.keep = true;
      continue;
    }
    if (flag == "--two-phase") {
      flags.two_phase = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    bool ok = true;
    if (flag == "--only") {
      flags.only = value;
      ok = value == "ingest" || value == "upload";
    } else if (flag == "--domains") {
      ok = absl::SimpleAtoi(value, &flags.domains);
    } else if (flag == "--candidates") {
      ok = absl::SimpleAtoi(value, &flags.candidates) && flags.candidates > 0;
    } else if (flag == "--regions") {
      ok = absl::SimpleAtoi(value, &flags.regions) && flags.regions > 0;
    } else if (flag == "--agents") {
      flags.agents.clear();
      for (absl::string_view k : absl::StrSplit(value, ',')) {
        int per_region = 0;
        ok = ok && absl::SimpleAtoi(k, &per_region) && per_region > 0;
        flags.agents.push_back(per_region);
      }
    } else if (flag == "--batch") {
      ok = absl::SimpleAtoi(value, &flags.batch) && flags.batch > 0;
    } else if (flag == "--window") {
      ok = absl::SimpleAtoi(value, &flags.window) && flags.window > 0;
    } else if (flag == "--capacity") {
      ok = absl::SimpleAtoi(value, &flags.capacity) && flags.capacity > 0;
    } else if (flag == "--shard-size") {
      ok = absl::SimpleAtoi(value, &flags.shard_size) && flags.shard_size > 0;
    } else if (flag == "--lines") {
      ok = absl::SimpleAtoi(value, &flags.lines) && flags.lines > 0;
    } else if (flag == "--coordinator") {
      flags.coordinator = value;
    } else if (flag == "--dir") {
      flags.dir = value;
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Output piped into `head` must not kill the harness before it stops its coordinator.
  signal(SIGPIPE, SIG_IGN);
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) {
    fprintf(stderr,
            "usage: coordinator_bench [--only ingest|upload] [--domains N] [--regions R] "
            "[--agents 1,2,4] [--batch N] [--window N] [--capacity N] [--shard-size N] "
            "[--lines N] [--coordinator PATH] [--dir DIR] [--keep] [--two-phase] "
            "[--candidates N]\n");
    return 2;
  }
  if (flags.only.empty() || flags.only == "ingest") Ingest(flags);
  if (flags.only.empty() || flags.only == "upload") Upload(flags);
  return incomplete_runs ? 1 : 0;
}
