#include "agent/flags/probe_flags.h"

#include <iostream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/candidate/candidate_file.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/profile_file.h"
#include "backends/candidate/settings_from_flags.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/outcome_proto.h"

namespace tlsweep::agent {

void AddProbeFlags(CLI::App& command, ProbeFlags& flags) {
  command.add_option("--backend", flags.backend, "TLS backend: openssl or gnutls")
      ->capture_default_str()
      ->group("TLS");
  command.add_option("--ciphers", flags.ciphers, "OpenSSL cipher string (openssl backend)")
      ->group("TLS");
  command.add_option("--ciphersuites", flags.ciphersuites, "OpenSSL TLS 1.3 ciphersuites")
      ->group("TLS");
  command.add_option("--priority", flags.priority, "GnuTLS priority string (gnutls backend)")
      ->group("TLS");
  command.add_option("--min-version", flags.min_version, "Lowest TLS version: TLSv1 ... TLSv1.3")
      ->group("TLS");
  command.add_option("--max-version", flags.max_version, "Highest TLS version")->group("TLS");
  command.add_option("--groups", flags.groups, "Key-exchange groups, e.g. x25519:secp256r1")
      ->group("TLS");
  command
      .add_flag("--legacy", flags.legacy,
                "Offer everything the library can still negotiate (security level 0)")
      ->group("TLS");
  command
      .add_option("--ca-file", flags.ca_file,
                  "CA bundle for certificate verification (default: the system bundle)")
      ->group("TLS");
  command
      .add_option("--candidate", flags.candidate_specs,
                  "A candidate config, one handshake each per endpoint (repeatable): e.g. "
                  "\"name=proposed ciphers='DEFAULT:!AES256-SHA' min=TLSv1.2 tls=required\"; "
                  "keys: name backend ciphers ciphersuites priority min max groups legacy tls "
                  "hello (a file "
                  "of `tlsweep capture`)")
      ->allow_extra_args(false)  // One value per occurrence: a positional target may follow.
      ->group("Candidates");
  command
      .add_option("--candidate-from", flags.candidate_files,
                  "Read candidates, with their per-domain overrides, from an MTA config: "
                  "ecelerity.conf or Postfix main.cf (with master.cf and policy tables); "
                  "NAME=FILE names them (NAME, and NAME/BINDING for Momentum bindings); "
                  "repeatable; see `tlsweep candidate --from`")
      ->allow_extra_args(false)
      ->group("Candidates");
  command
      .add_option("--profile", flags.profile_file,
                  "Probe profile file (tlsweep.v1.ProbeProfile, protobuf text format or JSON)")
      ->group("Candidates");
  command
      .add_flag("--enumerate", flags.enumerate,
                "Also enumerate the suites, versions and groups each endpoint accepts")
      ->group("Candidates");
  command.add_option("--port", flags.port, "SMTP port for domains and hosts without one")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str()
      ->group("SMTP and DNS");
  command
      .add_option("--resolver", flags.resolver,
                  "DNS server(s), IP[:port], comma-separated (default: /etc/resolv.conf)")
      ->group("SMTP and DNS");
  command.add_option("--ehlo", flags.ehlo, "EHLO name (default: this machine's host name)")
      ->group("SMTP and DNS");
  command.add_option("--connect-timeout", flags.connect_timeout_ms, "TCP connect timeout, ms")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str()
      ->group("SMTP and DNS");
  command.add_option("--banner-timeout", flags.banner_timeout_ms, "220 banner timeout, ms")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str()
      ->group("SMTP and DNS");
  command
      .add_option("--command-timeout", flags.command_timeout_ms, "EHLO/STARTTLS reply timeout, ms")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str()
      ->group("SMTP and DNS");
  command
      .add_option("--handshake-timeout", flags.handshake_timeout_ms, "TLS handshake timeout, ms")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str()
      ->group("SMTP and DNS");
  command.add_option("--dns-timeout", flags.dns_timeout_ms, "DNS timeout per try, ms")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str()
      ->group("SMTP and DNS");
  command.add_option("--mx", flags.mx, "Which MX hosts: all (up to --max-mx) or primary")
      ->check(CLI::IsMember({"all", "primary"}))
      ->capture_default_str()
      ->group("Endpoints");
  command.add_option("--max-mx", flags.max_mx, "At most this many MX hosts per domain")
      ->check(CLI::Range(1, 100))
      ->capture_default_str()
      ->group("Endpoints");
  command
      .add_flag("--all-addresses", flags.all_addresses,
                "Probe every address of a host, not just the first")
      ->group("Endpoints");
  command.add_flag("--no-ipv6", flags.no_ipv6, "Resolve and probe IPv4 only")->group("Endpoints");
  command
      .add_flag("--allow-private", flags.allow_private,
                "Allow private, loopback and link-local addresses (labs and tests)")
      ->group("Safety");
  command
      .add_option("--opt-out", flags.opt_out_file,
                  "File of domains, hosts and CIDRs never to contact")
      ->group("Safety");
  command.add_flag("--json", flags.json, "Print results as JSON (the ProbeResult message)");
}

absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> CollectCandidates(
    const ProbeFlags& flags, bool* enumerate, std::vector<std::string>* warnings) {
  std::vector<tlsweep::v1::TlsClientSettings> candidates;
  std::set<std::string> names;
  std::map<std::string, std::string> taken;  // name -> what gave it, for the files' errors
  if (!flags.profile_file.empty()) {
    absl::StatusOr<tlsweep::v1::ProbeProfile> profile =
        backends::ReadProbeProfile(flags.profile_file);
    if (!profile.ok()) return profile.status();
    if (profile->enumerate()) *enumerate = true;
    for (const tlsweep::v1::TlsClientSettings& settings : profile->candidates()) {
      names.insert(settings.name());
      taken.try_emplace(settings.name(), absl::StrCat("--profile ", flags.profile_file));
      candidates.push_back(settings);
    }
  }
  // Two files that would give the same name are an error that says to use NAME=FILE: a
  // candidate silently renamed "postfix-2" could not be told apart in a report.
  absl::StatusOr<backends::CandidateSet> set =
      backends::LoadCandidateFiles(flags.candidate_files, taken);
  if (!set.ok()) return set.status();
  warnings->insert(warnings->end(), set->warnings.begin(), set->warnings.end());
  for (tlsweep::v1::TlsClientSettings& settings : set->candidates) {
    names.insert(settings.name());
    candidates.push_back(std::move(settings));
  }
  for (const std::string& spec : flags.candidate_specs) {
    absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = backends::ParseCandidateSpec(spec);
    if (!settings.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--candidate \"", spec, "\": ", settings.status().message()));
    }
    if (settings->name().empty()) {
      settings->set_name(absl::StrCat("candidate", candidates.size() + 1));
    }
    if (!names.insert(settings->name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("--candidate \"", spec, "\": the name '",
                                                     settings->name(), "' is already used"));
    }
    candidates.push_back(*std::move(settings));
  }
  return candidates;
}

void AddPolitenessFlags(CLI::App& command, PolitenessFlags& flags) {
  command.add_option("--concurrency", flags.concurrency, "Targets in flight")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str()
      ->group("Politeness");
  command.add_option("--rate", flags.rate, "New connections per second, all hosts (0: no cap)")
      ->check(CLI::Range(0.0, 1000000.0))
      ->capture_default_str()
      ->group("Politeness");
  command.add_option("--per-ip", flags.per_ip, "Concurrent connections per IP")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str()
      ->group("Politeness");
  command
      .add_option("--per-ip-spacing", flags.per_ip_spacing_ms,
                  "Minimum ms between connections to one IP")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str()
      ->group("Politeness");
  command
      .add_option("--per-provider", flags.per_provider,
                  "Concurrent connections per provider (registrable domain of the MX)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->group("Politeness");
  command
      .add_option("--max-attempts", flags.max_attempts,
                  "Connections per handshake when the server says 'not now' (421, 451 or another "
                  "4xx, a dropped connection); still refused after the last: rate_limited")
      ->check(CLI::Range(1, 20))
      ->capture_default_str()
      ->group("Politeness");
  command
      .add_option("--backoff", flags.backoff_ms,
                  "Milliseconds an IP is left alone after such a refusal (doubling each time)")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str()
      ->group("Politeness");
}

void ApplyPoliteness(const PolitenessFlags& flags, SweepOptions& options) {
  options.max_in_flight_targets = flags.concurrency;
  options.politeness.connections_per_second = flags.rate;
  options.politeness.per_ip_concurrency = flags.per_ip;
  options.politeness.per_ip_spacing = std::chrono::milliseconds(flags.per_ip_spacing_ms);
  options.politeness.per_provider_concurrency = flags.per_provider;
  options.max_attempts = flags.max_attempts;
  options.rate_limit_backoff = std::chrono::milliseconds(flags.backoff_ms);
}

absl::StatusOr<PreparedSweep> PrepareSweep(const ProbeFlags& flags,
                                           const backends::BackendRegistry& registry) {
  PreparedSweep prepared;
  SweepOptions& options = prepared.options;
  prepared.enumerate = flags.enumerate;

  absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> candidates =
      CollectCandidates(flags, &prepared.enumerate, &prepared.warnings);
  if (!candidates.ok()) return candidates.status();
  if (!candidates->empty()) {
    if (!flags.ciphers.empty() || !flags.ciphersuites.empty() || !flags.priority.empty() ||
        !flags.min_version.empty() || !flags.max_version.empty() || !flags.groups.empty() ||
        flags.legacy) {
      return absl::InvalidArgumentError(
          "--ciphers, --ciphersuites, --priority, --min-version, --max-version, --groups and "
          "--legacy describe the single default candidate: with --candidate, --candidate-from "
          "or --profile, write them into a candidate instead");
    }
    for (const tlsweep::v1::TlsClientSettings& settings : *candidates) {
      absl::StatusOr<backends::TlsCandidate> candidate =
          backends::BuildCandidate(settings, registry, flags.ca_file);
      if (!candidate.ok()) {
        const absl::string_view message = candidate.status().message();
        return absl::Status(candidate.status().code(),
                            absl::StrCat(settings.source(), ": ",
                                         absl::StrContains(message, "candidate '")
                                             ? ""
                                             : absl::StrCat("candidate '", settings.name(), "': "),
                                         message));
      }
      options.candidates.push_back(*std::move(candidate));
    }
  }

  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings =
      backends::SettingsFromFlagValues({.backend = flags.backend,
                                        .openssl_ciphers = flags.ciphers,
                                        .openssl_ciphersuites = flags.ciphersuites,
                                        .gnutls_priority = flags.priority,
                                        .min_version = flags.min_version,
                                        .max_version = flags.max_version,
                                        .groups = flags.groups,
                                        .legacy = flags.legacy});
  if (!settings.ok()) return settings.status();
  settings->set_name("default");
  if (options.candidates.empty()) {
    absl::StatusOr<backends::TlsCandidate> candidate =
        backends::BuildCandidate(*settings, registry, flags.ca_file);
    if (!candidate.ok()) return candidate.status();
    options.candidates.push_back(*std::move(candidate));
  }

  options.probe.ehlo_name = flags.ehlo;
  options.probe.connect_timeout = std::chrono::milliseconds(flags.connect_timeout_ms);
  options.probe.banner_timeout = std::chrono::milliseconds(flags.banner_timeout_ms);
  options.probe.command_timeout = std::chrono::milliseconds(flags.command_timeout_ms);
  options.probe.handshake_timeout = std::chrono::milliseconds(flags.handshake_timeout_ms);
  if (!flags.resolver.empty()) {
    options.resolver.servers = absl::StrSplit(flags.resolver, ',', absl::SkipWhitespace());
  }
  options.resolver.timeout = std::chrono::milliseconds(flags.dns_timeout_ms);
  options.resolver.ipv6 = !flags.no_ipv6;
  options.selection.max_mx_hosts = flags.max_mx;
  options.selection.primary_only = flags.mx == "primary";
  options.selection.all_addresses = flags.all_addresses;
  options.allow_private = flags.allow_private;
  if (!flags.opt_out_file.empty()) {
    absl::StatusOr<OptOutList> opt_out = OptOutList::LoadFile(flags.opt_out_file);
    if (!opt_out.ok()) return opt_out.status();
    prepared.opt_out = std::make_unique<OptOutList>(*std::move(opt_out));
    options.opt_out = prepared.opt_out.get();
  }
  options.enumerate = prepared.enumerate;
  if (options.enumerate) {
    // Enumeration offers through every loaded backend: each can offer suites the other lost.
    for (const backends::LoadedBackend& loaded : registry.backends()) {
      options.enumeration_backends.push_back(loaded.backend.get());
    }
  }
  return prepared;
}

std::optional<PreparedSweep> PrepareSweepOrReport(const ProbeFlags& flags,
                                                  const backends::BackendRegistry& registry) {
  absl::StatusOr<PreparedSweep> prepared = PrepareSweep(flags, registry);
  if (!prepared.ok()) {
    std::cerr << "tlsweep: " << prepared.status().message() << "\n";
    return std::nullopt;
  }
  for (const std::string& warning : prepared->warnings) {
    std::cerr << "tlsweep: warning: " << warning << "\n";
  }
  return *std::move(prepared);
}

}  // namespace tlsweep::agent
