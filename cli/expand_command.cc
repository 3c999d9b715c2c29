#include "cli/expand_command.h"

#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/settings_from_flags.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/outcome_proto.h"
#include "backends/plugin_loader.h"
#include "backends/tls_version.h"
#include "backends/tls_version_proto.h"
#include "cli/proto_json.h"

namespace tlsweep::cli {
namespace {

struct ExpandOptions {
  std::string backend = "openssl";
  std::string spec;
  std::string ciphersuites;
  std::string min_version;
  std::string max_version;
  std::string groups;
  bool legacy = false;
  bool json = false;
};

int RunExpand(const GlobalOptions& global, const ExpandOptions& options) {
  std::optional<backends::BackendRegistry> registry = LoadRegistry(global);
  if (!registry) return 1;
  absl::StatusOr<backends::Backend*> backend = registry->Get(options.backend);
  // The same settings -> ClientConfig path as every other command.
  const bool gnutls = options.backend == "gnutls";
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings =
      backends::SettingsFromFlagValues({.backend = options.backend,
                                        .openssl_ciphers = gnutls ? "" : options.spec,
                                        .openssl_ciphersuites = gnutls ? "" : options.ciphersuites,
                                        .gnutls_priority = gnutls ? options.spec : "",
                                        .min_version = options.min_version,
                                        .max_version = options.max_version,
                                        .groups = options.groups,
                                        .legacy = options.legacy});
  absl::StatusOr<backends::ClientConfig> config =
      settings.ok() ? backends::ClientConfigFromSettings(*settings, /*ca_file=*/"")
                    : absl::StatusOr<backends::ClientConfig>(settings.status());
  if (!backend.ok() || !config.ok()) {
    std::cerr << "tlsweep: " << (!backend.ok() ? backend.status() : config.status()).message()
              << "\n";
    return 2;
  }
  absl::StatusOr<backends::Offer> offer = (*backend)->Expand(*config);
  if (!offer.ok()) {
    std::cerr << "tlsweep: " << offer.status().message() << "\n";
    return 2;
  }
  const tlsweep::v1::Offer proto = backends::OfferToProto(*offer, options.backend);
  if (options.json) {
    std::vector<std::string> items;
    for (const tlsweep::v1::OfferedSuite& suite : proto.suites()) items.push_back(ToJson(suite));
    std::cout << "[" << absl::StrJoin(items, ",\n") << "]\n";
    return 0;
  }
  std::vector<std::string> never_completing;
  bool any = false;
  for (const tlsweep::v1::OfferedSuite& suite : proto.suites()) {
    if (suite.never_completes()) {
      never_completing.push_back(
          absl::StrCat(backends::TlsVersionName(backends::VersionFromProto(suite.version())), " ",
                       suite.library_name()));
      continue;
    }
    any = true;
    std::cout << absl::StrFormat(
        "%-8s 0x%04X  %-45s %-32s Kx=%-6s Au=%-6s Enc=%s\n",
        backends::TlsVersionName(backends::VersionFromProto(suite.version())), suite.code_point(),
        suite.iana_name(), suite.library_name(), suite.key_exchange(), suite.authentication(),
        suite.encryption());
  }
  std::cout << "groups: " << absl::StrJoin(proto.groups(), " ") << "\n";
  if (!never_completing.empty()) {
    std::cout << "also offered, but the client aborts the handshake if the server picks one "
                 "(its key exchange needs a SHA-1 signature; --legacy allows it): "
              << absl::StrJoin(never_completing, ", ") << "\n";
  }
  if (!any) {
    std::cerr << "tlsweep: this configuration offers nothing: every handshake would fail\n";
  }
  return 0;
}

}  // namespace

void AddExpandCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<ExpandOptions>();
  CLI::App* command = app.add_subcommand(
      "expand",
      "Show what a client TLS configuration would offer: one line per (version, suite), then "
      "the key-exchange groups. No network access.");
  command->add_option("--backend", options->backend, "TLS backend: openssl or gnutls")
      ->capture_default_str();
  command->add_option("spec", options->spec,
                      "OpenSSL cipher string (openssl) or GnuTLS priority string (gnutls); "
                      "empty: the library default");
  command->add_option("--ciphersuites", options->ciphersuites,
                      "OpenSSL TLS 1.3 ciphersuites (e.g. TLS_AES_128_GCM_SHA256)");
  command->add_option("--min-version", options->min_version,
                      "Lowest version: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (or 1.0 ... 1.3)");
  command->add_option("--max-version", options->max_version, "Highest version, same spelling");
  command->add_option("--groups", options->groups,
                      "Key-exchange groups, colon-separated (x25519:secp256r1:ffdhe2048)");
  command->add_flag("--legacy", options->legacy,
                    "OpenSSL security level 0 and the legacy provider: offer everything the "
                    "library can still negotiate (TLS 1.0/1.1, SHA-1, anonymous suites)");
  command->add_flag(
      "--json", options->json,
      "Print a JSON array of OfferedSuite objects (version, iana_name, code_point...)");
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunExpand(global, *options); };
  });
}

}  // namespace tlsweep::cli
