// Finds and loads backend plugins (tlsweep-backend-*.so). The loader knows nothing about any
// particular backend: a new one is a new shared object in the plugin directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/backend.h"

namespace tlsweep::backends {

inline constexpr absl::string_view kPluginPrefix = "tlsweep-backend-";
inline constexpr absl::string_view kPluginSuffix = ".so";
inline constexpr const char* kPluginDirEnv = "TLSWEEP_PLUGIN_DIR";

struct LoadedBackend {
  std::string path;
  std::unique_ptr<Backend> backend;
};

// Loads one plugin file. Errors name the file and say what is wrong: missing file, not a
// loadable shared object, no tlsweep_backend_entry symbol, ABI version mismatch. A loaded
// plugin stays mapped for the life of the process: engines it created may outlive any registry.
absl::StatusOr<LoadedBackend> LoadBackendPlugin(const std::string& path);

// The plugin directory: `flag_value` if set, else $TLSWEEP_PLUGIN_DIR, else
// <directory of the running executable>/../lib/tlsweep (the install and build-tree layout).
std::string ResolvePluginDirectory(absl::string_view flag_value);

class BackendRegistry {
 public:
  // Loads every tlsweep-backend-*.so in `directory`, in name order. Fails only when none
  // loads; plugins that fail are listed in load_errors().
  static absl::StatusOr<BackendRegistry> LoadDirectory(const std::string& directory);

  // NotFound, naming the loaded backends, for an unknown name.
  absl::StatusOr<Backend*> Get(absl::string_view name) const;
  const std::vector<LoadedBackend>& backends() const { return backends_; }
  const std::vector<std::string>& load_errors() const { return load_errors_; }

 private:
  std::vector<LoadedBackend> backends_;
  std::vector<std::string> load_errors_;
};

}  // namespace tlsweep::backends
