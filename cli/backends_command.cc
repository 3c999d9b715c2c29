#include "cli/backends_command.h"

#include <cstdio>
#include <iostream>
#include <memory>

#include "absl/strings/str_join.h"
#include "backends/backend_info.h"
#include "backends/plugin_loader.h"
#include "backends/tls_version_proto.h"
#include "cli/proto_json.h"

namespace tlsweep::cli {
namespace {

struct BackendsOptions {
  bool json = false;
};

int RunBackends(const GlobalOptions& global, const BackendsOptions& options) {
  const std::string directory = backends::ResolvePluginDirectory(global.plugin_dir);
  absl::StatusOr<backends::BackendRegistry> registry =
      backends::BackendRegistry::LoadDirectory(directory);
  if (!registry.ok()) {
    std::cerr << "tlsweep: " << registry.status().message() << "\n";
    return 1;
  }
  for (const std::string& error : registry->load_errors()) {
    std::cerr << "tlsweep: warning: " << error << "\n";
  }
  std::vector<std::string> json_items;
  for (const tlsweep::v1::BackendInfo& info : backends::DescribeBackends(*registry)) {
    std::vector<absl::string_view> versions;
    for (int version : info.speakable_versions()) {
      versions.push_back(backends::TlsVersionName(
          backends::VersionFromProto(static_cast<tlsweep::v1::TlsVersion>(version))));
    }
    if (options.json) {
      json_items.push_back(ToJson(info));
    } else {
      std::cout << info.name() << "\t" << info.library_version() << "\t"
                << absl::StrJoin(versions, " ") << "\t" << info.path() << "\n";
    }
  }
  if (options.json) std::cout << "[" << absl::StrJoin(json_items, ",\n") << "]\n";
  return 0;
}

}  // namespace

void AddBackendsCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<BackendsOptions>();
  CLI::App* command = app.add_subcommand(
      "backends", "List the TLS backend plugins that load, with library versions and paths");
  command->add_flag("--json", options->json, "Print a JSON array of BackendInfo objects");
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunBackends(global, *options); };
  });
}

std::optional<backends::BackendRegistry> LoadRegistry(const GlobalOptions& global) {
  absl::StatusOr<backends::BackendRegistry> registry =
      backends::BackendRegistry::LoadDirectory(backends::ResolvePluginDirectory(global.plugin_dir));
  if (!registry.ok()) {
    std::cerr << "tlsweep: " << registry.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(registry);
}

}  // namespace tlsweep::cli
