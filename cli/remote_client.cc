#include "cli/remote_client.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "agent/client/channel_credentials.h"
#include "agent/flags/probe_flags.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/file_contents.h"
#include "cli/exit_codes.h"

namespace tlsweep::cli {
namespace {

// The host part of HOST:PORT, [V6]:PORT.
std::string HostOf(absl::string_view target) {
  if (absl::StartsWith(target, "[")) {
    const size_t end = target.find(']');
    return std::string(target.substr(1, end == absl::string_view::npos ? 0 : end - 1));
  }
  const size_t colon = target.rfind(':');
  return std::string(colon == absl::string_view::npos ? target : target.substr(0, colon));
}

bool IsLoopbackHost(absl::string_view host) {
  return absl::StartsWith(host, "127.") || host == "::1" || host == "localhost";
}

}  // namespace

void AddRemoteFlags(CLI::App& command, RemoteFlags& flags) {
  command.add_option("--coordinator", flags.coordinator,
                     "Coordinator HOST:PORT (default: $TLSWEEP_COORDINATOR, else 127.0.0.1:7443)");
  command.add_option("--token-file", flags.token_file,
                     "File holding the API bearer token (first line not starting with '#'); "
                     "without it, the token itself is read from $TLSWEEP_TOKEN");
  command.add_option("--tls-ca", flags.ca_file,
                     "CA certificate(s) that signed the coordinator's certificate (PEM), as for "
                     "tlsweep-agent (default: the system roots)");
  // --ca-file is the probe's CA everywhere (scan, probe, sweep, agent); said so, not guessed.
  command.add_option("--ca-file", flags.misused_ca_file)->group("");
  command.add_option("--tls-cert", flags.tls_cert, "Client certificate chain (PEM), optional");
  command.add_option("--tls-key", flags.tls_key, "Client certificate key (PEM)");
  command.add_option("--tls-server-name", flags.tls_server_name,
                     "Name in the coordinator's certificate, when it differs from HOST");
  command.add_flag("--dev", flags.insecure_dev,
                   "Plain text, no authentication: a --dev coordinator on a loopback address");
  command.add_flag("--insecure-dev", flags.insecure_dev)->group("");  // The old name.
  command.add_option("--timeout-ms", flags.timeout_ms, "Deadline of each call")
      ->check(CLI::Range(1, 86400000))
      ->capture_default_str();
}

absl::StatusOr<RemoteConnection> RemoteConnection::Open(const RemoteFlags& flags) {
  if (!flags.misused_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--ca-file is the CA for the probed servers' certificates; the coordinator's CA is "
        "--tls-ca");
  }
  RemoteConnection connection;
  connection.timeout_ms_ = flags.timeout_ms;
  std::string target = flags.coordinator;
  if (target.empty()) {
    const char* env = std::getenv("TLSWEEP_COORDINATOR");
    target = env != nullptr && *env != '\0' ? env : "127.0.0.1:7443";
  }
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> text = backends::ReadFileContents(flags.token_file);
    if (!text.ok()) return text.status();
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || absl::StartsWith(line, "#")) continue;
      connection.token_ = std::string(line);
      break;
    }
    if (connection.token_.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("no token in '", flags.token_file, "'"));
    }
  } else if (const char* env = std::getenv("TLSWEEP_TOKEN"); env != nullptr) {
    connection.token_ = std::string(absl::StripAsciiWhitespace(env));
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  if (flags.insecure_dev && !IsLoopbackHost(HostOf(target))) {
    return absl::InvalidArgumentError(
        "--dev (no TLS) only talks to a loopback address (127.0.0.0/8, ::1)");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      agent::MakeChannelCredentials({.insecure = flags.insecure_dev,
                                     .ca_file = flags.ca_file,
                                     .cert_file = flags.tls_cert,
                                     .key_file = flags.tls_key});
  if (!credentials.ok()) return credentials.status();
  if (!flags.insecure_dev) {
    if (connection.token_.empty() && flags.tls_cert.empty()) {
      return absl::InvalidArgumentError(
          "the coordinator's API needs a token (--token-file or $TLSWEEP_TOKEN) or a client "
          "certificate (--tls-cert/--tls-key)");
    }
    if (!flags.tls_server_name.empty()) args.SetSslTargetNameOverride(flags.tls_server_name);
  }
  connection.channel_ = grpc::CreateCustomChannel(target, *credentials, args);
  return connection;
}

void RemoteConnection::Prepare(grpc::ClientContext& context, bool streaming) const {
  if (!token_.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  if (!streaming && timeout_ms_ > 0) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms_));
  }
}

void AddProfileFlags(CLI::App& command, ProfileFlags& flags) {
  command.add_option("--profile", flags.profile_file,
                     "Probe profile file (protobuf text or JSON): candidates and enumerate");
  command.add_option("--candidate-from", flags.candidate_files,
                     "Read candidates, with their per-domain overrides, from an MTA config: "
                     "ecelerity.conf or Postfix main.cf (with master.cf and policy tables); "
                     "NAME=FILE names them; repeatable; see `tlsweep candidate --from`");
  command.add_option("--candidate", flags.candidate_specs,
                     "Candidate config 'name=... backend=... ciphers=... min=...' (repeatable)");
  command.add_flag("--enumerate", flags.enumerate,
                   "Also enumerate what each endpoint accepts (versions, suites, groups)");
  AddEnumerationReuseFlags(command, flags.reuse);
}

absl::StatusOr<v1::ProbeProfile> BuildProfile(const ProfileFlags& flags) {
  agent::ProbeFlags probe;
  probe.profile_file = flags.profile_file;
  probe.candidate_files = flags.candidate_files;
  probe.candidate_specs = flags.candidate_specs;
  bool enumerate = flags.enumerate;
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<v1::TlsClientSettings>> candidates =
      agent::CollectCandidates(probe, &enumerate, &warnings);
  if (!candidates.ok()) return candidates.status();
  for (const std::string& warning : warnings) std::cerr << "warning: " << warning << "\n";
  v1::ProbeProfile profile;
  profile.set_enumerate(enumerate);
  if (absl::Status reuse = ApplyEnumerationReuse(flags.reuse, profile); !reuse.ok()) return reuse;
  for (v1::TlsClientSettings& settings : *candidates) {
    if (absl::Status status = backends::ValidateCandidate(settings); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("candidate '", settings.name(), "': ", status.message()));
    }
    *profile.add_candidates() = std::move(settings);
  }
  return profile;
}

absl::Status CheckListFile(const std::string& path) {
  if (path == "-") return absl::OkStatus();
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is a directory, not a list"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  return absl::OkStatus();
}

absl::Status StreamFile(const std::string& path, size_t chunk_bytes,
                        const std::function<bool(std::string)>& send) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
    in = &file;
  }
  std::string chunk(chunk_bytes, '\0');
  for (;;) {
    in->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize got = in->gcount();
    if (got > 0 && !send(chunk.substr(0, static_cast<size_t>(got)))) return absl::OkStatus();
    if (!*in) break;
  }
  if (in->bad()) return absl::DataLossError(absl::StrCat("error reading '", path, "'"));
  return absl::OkStatus();
}

std::vector<std::string> SplitRegions(const std::vector<std::string>& flags) {
  std::vector<std::string> regions;
  for (const std::string& flag : flags) {
    for (absl::string_view region : absl::StrSplit(flag, ',')) {
      region = absl::StripAsciiWhitespace(region);
      if (!region.empty()) regions.emplace_back(region);
    }
  }
  return regions;
}

int ReportRpcError(absl::string_view command, const grpc::Status& status) {
  std::cerr << "tlsweep " << command << ": " << status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) std::cerr << " (is it running?)";
  std::cerr << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitRefused;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::ALREADY_EXISTS:
      return kExitUsage;
    default:
      return kExitError;
  }
}

std::string FormatUnixMs(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

}  // namespace tlsweep::cli
