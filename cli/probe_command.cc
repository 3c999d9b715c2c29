#include "cli/probe_command.h"

#include <iostream>
#include <memory>
#include <optional>

#include "agent/flags/probe_flags.h"
#include "agent/sweep/sweeper.h"
#include "backends/target/target.h"
#include "cli/proto_json.h"
#include "cli/result_printer.h"

namespace tlsweep::cli {
namespace {

struct ProbeCommandOptions {
  std::string target;
  agent::ProbeFlags flags;
};

int RunProbe(const GlobalOptions& global, const ProbeCommandOptions& options) {
  std::optional<backends::BackendRegistry> registry = LoadRegistry(global);
  if (!registry) return 1;
  absl::StatusOr<backends::Target> target =
      backends::ParseTarget(options.target, options.flags.port);
  if (!target.ok()) {
    std::cerr << "tlsweep: bad target '" << options.target << "': " << target.status().message()
              << "\n";
    return 2;
  }
  std::optional<agent::PreparedSweep> prepared =
      agent::PrepareSweepOrReport(options.flags, *registry);
  if (!prepared) return 2;
  prepared->options.threads = 1;
  agent::Sweeper sweeper(std::move(prepared->options));
  bool delivered = false;
  agent::TargetSource source = [&]() -> std::optional<backends::TargetLine> {
    if (delivered) return std::nullopt;
    delivered = true;
    return backends::TargetLine{0, *target};
  };
  bool all_ok = true;
  const bool json = options.flags.json;
  agent::ResultSink sink = [&](tlsweep::v1::ProbeResult result) {
    all_ok &= result.failure() == tlsweep::v1::PROBE_OK;
    std::cout << (json ? ToJson(result) + "\n" : FormatResult(result)) << std::flush;
  };
  if (absl::Status status = sweeper.Run(source, sink); !status.ok()) {
    std::cerr << "tlsweep: " << status.message() << "\n";
    return 2;
  }
  return all_ok ? 0 : 3;
}

}  // namespace

void AddProbeCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<ProbeCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "probe",
      "Probe one target the way an MTA delivers to it: MX lookup, SMTP, STARTTLS, TLS handshake.\n"
      "TARGET is a mail domain (example.com), a host with port (mx.example.com:25, "
      "[mx.example.com]) or an address ([192.0.2.1]:25).\n"
      "Exit status: 0 every handshake succeeded, 3 some probe failed, 1/2 could not run.");
  command->add_option("target", options->target, "Domain, host[:port] or [ip]:port")->required();
  agent::AddProbeFlags(*command, options->flags);
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunProbe(global, *options); };
  });
}

}  // namespace tlsweep::cli
