#include "backends/plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tlsweep::backends {

absl::StatusOr<LoadedBackend> LoadBackendPlugin(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("backend plugin '", path, "' does not exist"));
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load backend plugin '", path, "': ", dlerror()));
  }
  auto entry_fn = reinterpret_cast<TlsweepBackendEntryFn>(dlsym(handle, kBackendEntrySymbol));
  if (entry_fn == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(absl::StrCat(
        "'", path, "' is not a tlsweep backend: it exports no ", kBackendEntrySymbol, " symbol"));
  }
  const TlsweepBackendEntry* entry = entry_fn();
  if (entry == nullptr || entry->abi_version != kBackendAbiVersion) {
    const uint32_t found = entry == nullptr ? 0 : entry->abi_version;
    dlclose(handle);
    return absl::FailedPreconditionError(absl::StrCat(
        "backend plugin '", path, "' has ABI version ", found, " but this tlsweep needs ",
        kBackendAbiVersion, "; rebuild the plugin against this tlsweep"));
  }
  std::unique_ptr<Backend> backend(entry->create());
  if (backend == nullptr) {
    return absl::InternalError(absl::StrCat("backend plugin '", path, "' failed to initialise"));
  }
  // The handle is deliberately never closed (see header).
  return LoadedBackend{path, std::move(backend)};
}

std::string ResolvePluginDirectory(absl::string_view flag_value) {
  if (!flag_value.empty()) return std::string(flag_value);
  if (const char* env = std::getenv(kPluginDirEnv); env != nullptr && env[0] != '\0') return env;
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return TLSWEEP_INSTALL_PLUGIN_SUBDIR;
  return (exe.parent_path().parent_path() / TLSWEEP_INSTALL_PLUGIN_SUBDIR).string();
}

absl::StatusOr<BackendRegistry> BackendRegistry::LoadDirectory(const std::string& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    return absl::NotFoundError(absl::StrCat("backend plugin directory '", directory,
                                            "' does not exist (set --plugin-dir or ", kPluginDirEnv,
                                            ")"));
  }
  std::vector<std::string> paths;
  for (const auto& item : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = item.path().filename().string();
    if (absl::StartsWith(name, kPluginPrefix) && absl::EndsWith(name, kPluginSuffix)) {
      paths.push_back(item.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  BackendRegistry registry;
  for (const std::string& path : paths) {
    absl::StatusOr<LoadedBackend> loaded = LoadBackendPlugin(path);
    if (!loaded.ok()) {
      registry.load_errors_.push_back(std::string(loaded.status().message()));
      continue;
    }
    if (registry.Get(loaded->backend->Name()).ok()) {
      registry.load_errors_.push_back(absl::StrCat("'", path, "' is a second '",
                                                   loaded->backend->Name(),
                                                   "' backend; the first one loaded is kept"));
      continue;
    }
    registry.backends_.push_back(*std::move(loaded));
  }
  if (registry.backends_.empty()) {
    std::string detail = registry.load_errors_.empty()
                             ? std::string("no tlsweep-backend-*.so files there")
                             : absl::StrJoin(registry.load_errors_, "; ");
    return absl::NotFoundError(
        absl::StrCat("no backend plugin loaded from '", directory, "': ", detail));
  }
  return registry;
}

absl::StatusOr<Backend*> BackendRegistry::Get(absl::string_view name) const {
  std::vector<absl::string_view> names;
  for (const LoadedBackend& loaded : backends_) {
    if (loaded.backend->Name() == name) return loaded.backend.get();
    names.push_back(loaded.backend->Name());
  }
  return absl::NotFoundError(
      absl::StrCat("unknown backend '", name, "'; loaded: ", absl::StrJoin(names, ", ")));
}

}  // namespace tlsweep::backends
