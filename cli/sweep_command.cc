#include "cli/sweep_command.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/str_format.h"
#include "agent/flags/probe_flags.h"
#include "agent/sweep/sweeper.h"
#include "backends/target/target_list_reader.h"
#include "cli/exit_codes.h"
#include "cli/proto_json.h"
#include "cli/remote_client.h"
#include "cli/report_output.h"
#include "cli/result_printer.h"

namespace tlsweep::cli {
namespace {

struct SweepCommandOptions {
  std::string targets_file;
  std::string out_file;
  int threads = 0;
  agent::PolitenessFlags politeness;
  agent::ProbeFlags flags;
};

// Prints a one-line progress report on stderr every half second until stopped.
class ProgressLine {
 public:
  ProgressLine(const agent::SweepCounters& counters, bool enabled)
      : counters_(counters), start_(std::chrono::steady_clock::now()) {
    if (enabled) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressLine() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
      std::cerr << "\n";
    }
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; })) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const int64_t done = counters_.targets_done.load();
      std::cerr << absl::StrFormat(
          "\r[%6.1fs] targets %d done, %d in flight | results %d, handshakes ok %d, probes %d "
          "(%.1f/s), reused %d   ",
          seconds, done, counters_.targets_started.load() - done, counters_.results.load(),
          counters_.handshakes_ok.load(), counters_.probes_run.load(),
          seconds > 0 ? counters_.probes_run.load() / seconds : 0.0,
          counters_.results_reused.load());
    }
  }

  const agent::SweepCounters& counters_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

int RunSweep(const GlobalOptions& global, const SweepCommandOptions& options) {
  std::optional<backends::BackendRegistry> registry = LoadRegistry(global);
  if (!registry) return 1;
  std::optional<agent::PreparedSweep> prepared =
      agent::PrepareSweepOrReport(options.flags, *registry);
  if (!prepared) return 2;
  if (prepared->opt_out != nullptr) {
    for (const backends::BadLine& bad : prepared->opt_out->bad_lines()) {
      std::cerr << "tlsweep: warning: " << backends::FormatBadLine(bad, options.flags.opt_out_file)
                << "\n";
    }
  }
  if (absl::Status list = CheckListFile(options.targets_file); !list.ok()) {
    std::cerr << "tlsweep: " << list.message() << "\n";
    return 2;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.targets_file != "-") {
    file.open(options.targets_file);
    if (!file) {
      std::cerr << "tlsweep: cannot read target list '" << options.targets_file << "'\n";
      return 2;
    }
    in = &file;
  }
  if (absl::Status input =
          CheckNotAnInput(options.out_file, {options.targets_file, options.flags.opt_out_file});
      !input.ok()) {
    std::cerr << "tlsweep: " << input.message() << "\n";
    return kExitUsage;
  }
  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (!options.out_file.empty() && options.out_file != "-") {
    out_file.open(options.out_file, std::ios::trunc);
    if (!out_file) {
      std::cerr << "tlsweep: cannot write '" << options.out_file << "'\n";
      return 2;
    }
    out = &out_file;
  }

  agent::SweepOptions sweep_options = std::move(prepared->options);
  agent::ApplyPoliteness(options.politeness, sweep_options);
  sweep_options.threads = options.threads;

  backends::TargetListReader reader(*in, options.flags.port);
  const std::string list_name = options.targets_file == "-" ? "<stdin>" : options.targets_file;
  size_t bad_lines_reported = 0;
  auto report_bad_lines = [&] {
    for (; bad_lines_reported < reader.bad_lines().size(); ++bad_lines_reported) {
      std::cerr << "tlsweep: "
                << backends::FormatBadLine(reader.bad_lines()[bad_lines_reported], list_name)
                << "\n";
    }
  };
  agent::TargetSource source = [&]() -> std::optional<backends::TargetLine> {
    std::optional<backends::TargetLine> line = reader.Next();
    report_bad_lines();
    return line;
  };
  std::map<std::string, int64_t> by_class;
  agent::ResultSink sink = [&](tlsweep::v1::ProbeResult result) {
    ++by_class[FailureName(result.failure())];
    // One line per result, flushed: an interrupted sweep keeps everything written so far.
    *out << ToJson(result) << "\n" << std::flush;
  };

  agent::Sweeper sweeper(std::move(sweep_options));
  const auto start = std::chrono::steady_clock::now();
  absl::Status status;
  {
    ProgressLine progress(sweeper.counters(), isatty(STDERR_FILENO) == 1);
    status = sweeper.Run(source, sink);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) {
    std::cerr << "tlsweep: " << status.message() << "\n";
    return 2;
  }
  const absl::Status read = reader.status();
  if (!read.ok()) std::cerr << "tlsweep: " << read.message() << "\n";
  const agent::SweepCounters& counters = sweeper.counters();
  std::cerr << absl::StrFormat(
      "sweep: %d targets (%d bad lines, %d duplicates skipped), %d results, %d probes in "
      "%.1fs (%.1f probes/s), %d results reused from shared endpoints\n",
      reader.target_count(), reader.bad_line_count(), reader.duplicate_count(),
      counters.results.load(), counters.probes_run.load(), seconds,
      seconds > 0 ? counters.probes_run.load() / seconds : 0.0, counters.results_reused.load());
  for (const auto& [name, count] : by_class) {
    std::cerr << absl::StrFormat("  %-24s %d\n", name, count);
  }
  return read.ok() ? 0 : 2;  // A list cut short by a read error is not a finished sweep.
}

}  // namespace

void AddSweepCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<SweepCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "sweep",
      "Probe every target of a list (one a line: domain, host:port or [ip]:port, optional "
      "',weight'; '#' comments). Results go out as JSON Lines (one ProbeResult each); bad lines "
      "are reported with their line number and skipped; a summary ends the run.");
  command->add_option("--targets", options->targets_file, "Target list file, or - for stdin")
      ->required();
  command->add_option("--out", options->out_file, "JSON Lines output file (default: stdout)");
  command->add_option("--threads", options->threads, "Event loops (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  agent::AddPolitenessFlags(*command, options->politeness);
  agent::AddProbeFlags(*command, options->flags);
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunSweep(global, *options); };
  });
}

}  // namespace tlsweep::cli
