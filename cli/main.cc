// tlsweep: will our MTAs still negotiate STARTTLS with the domains we send to if we change our
// TLS settings? This is the command-line front end; each subcommand lives in its own file.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/backends_command.h"
#include "cli/candidate_command.h"
#include "cli/capture_command.h"
#include "cli/exit_codes.h"
#include "cli/expand_command.h"
#include "cli/probe_command.h"
#include "cli/remote_command.h"
#include "cli/report_command.h"
#include "cli/scan_command.h"
#include "cli/schedule_command.h"
#include "cli/sweep_command.h"
#include "cli/whatif_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "tlsweep: batch STARTTLS compatibility scanner for mail domains.\n"
      "Answers which domains (and how much mail) would fail TLS under a candidate\n"
      "tls_ciphers / tls_protocols setting or GnuTLS priority string."};
  app.set_version_flag("--version", "tlsweep " TLSWEEP_VERSION);
  app.require_subcommand(1);
  app.footer(tlsweep::cli::kExitStatusHelp);
  tlsweep::cli::GlobalOptions global;
  app.add_option("--plugin-dir", global.plugin_dir,
                 "Directory of TLS backend plugins (tlsweep-backend-*.so); default: "
                 "$TLSWEEP_PLUGIN_DIR, else <binary dir>/../lib/tlsweep");
  tlsweep::cli::Action action;
  tlsweep::cli::AddBackendsCommand(app, global, action);
  tlsweep::cli::AddCandidateCommand(app, global, action);
  tlsweep::cli::AddCaptureCommand(app, global, action);
  tlsweep::cli::AddExpandCommand(app, global, action);
  tlsweep::cli::AddProbeCommand(app, global, action);
  tlsweep::cli::AddRemoteCommand(app, global, action);
  tlsweep::cli::AddReportCommand(app, global, action);
  tlsweep::cli::AddScanCommand(app, global, action);
  tlsweep::cli::AddScheduleCommand(app, global, action);
  tlsweep::cli::AddSweepCommand(app, global, action);
  tlsweep::cli::AddWhatIfCommand(app, global, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11's own codes (105, 106, 109...) are not ours: a usage error exits 2, --help 0.
    return app.exit(error) == 0 ? 0 : 2;
  }
  return action ? action() : 0;
}
