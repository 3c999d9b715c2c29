#include "cli/capture_command.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/candidate/captured_hello.h"
#include "cli/capture/hello_capture_server.h"
#include "cli/exit_codes.h"

namespace tlsweep::cli {
namespace {

struct CaptureFlags {
  std::string listen = "127.0.0.1:2525";
  std::string out;
  int count = 1;
  int timeout_s = 0;
  int session_timeout_s = 60;
};

// "ADDR:PORT" or "[v6]:PORT".
bool SplitListen(const std::string& text, CaptureOptions& options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) return false;
  options.listen_address = host;
  options.listen_port = static_cast<uint16_t>(port);
  return true;
}

int RunCapture(const CaptureFlags& flags) {
  CaptureOptions options;
  if (!SplitListen(flags.listen, options)) {
    std::cerr << "tlsweep capture: --listen wants ADDR:PORT (e.g. 127.0.0.1:2525), not '"
              << flags.listen << "'\n";
    return kExitUsage;
  }
  options.count = flags.count;
  options.total_timeout = std::chrono::seconds(flags.timeout_s);
  options.session_timeout = std::chrono::seconds(flags.session_timeout_s);
  std::ofstream file;
  if (!flags.out.empty()) {
    file.open(flags.out, std::ios::app);
    if (!file) {
      std::cerr << "tlsweep capture: cannot write " << flags.out << "\n";
      return kExitError;
    }
  }
  std::ostream& out = flags.out.empty() ? std::cout : file;
  CaptureEvents events;
  events.listening = [&](uint16_t port) {
    std::cerr << "tlsweep capture: listening on " << options.listen_address << ":" << port
              << "; point an MTA at it (e.g. Postfix: relayhost = [" << options.listen_address
              << "]:" << port << ")\n";
  };
  events.captured = [&](const CapturedHello& captured) {
    out << backends::FormatCapture(captured.hello, captured.origin) << std::flush;
    std::cerr << "tlsweep capture: ClientHello from " << captured.origin.peer
              << (captured.origin.ehlo.empty() ? "" : absl::StrCat(" (", captured.origin.ehlo, ")"))
              << ": " << captured.hello.cipher_suites.size() << " suites"
              << (flags.out.empty() ? "" : absl::StrCat(", written to ", flags.out)) << "\n";
  };
  events.missed = [](const std::string& peer, const std::string& why) {
    std::cerr << "tlsweep capture: " << peer << ": no hello (" << why << ")\n";
  };
  const absl::Status status = RunHelloCapture(options, events);
  if (!status.ok()) {
    std::cerr << "tlsweep capture: " << status.message() << "\n";
    return absl::IsInvalidArgument(status) ? kExitUsage : kExitError;
  }
  return kExitOk;
}

}  // namespace

void AddCaptureCommand(CLI::App& app, const GlobalOptions&, Action& action) {
  auto flags = std::make_shared<CaptureFlags>();
  CLI::App* command = app.add_subcommand(
      "capture",
      "Record the ClientHello a real MTA sends, as a candidate: a small SMTP server that offers "
      "STARTTLS, reads the client's hello, refuses the handshake and takes no mail (451). Use "
      "the file with --candidate 'hello=FILE'; the raw backend replays that exact offer.");
  command
      ->add_option("--listen", flags->listen,
                   "Address and port to listen on, ADDR:PORT (point the MTA's relayhost or "
                   "transport there)")
      ->capture_default_str();
  command->add_option("-o,--out", flags->out,
                      "Append each capture (comments and one candidate spec line) to FILE; "
                      "default: standard output");
  command->add_option("--count", flags->count, "Stop after N hellos; 0: run until interrupted")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--timeout", flags->timeout_s,
                   "Give up after SECONDS (exit 1 when fewer than --count were captured); 0: "
                   "no limit")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--session-timeout", flags->session_timeout_s,
                   "End a client's session after SECONDS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->callback([&action, flags] { action = [flags] { return RunCapture(*flags); }; });
}

}  // namespace tlsweep::cli
