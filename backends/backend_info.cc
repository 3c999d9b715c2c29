#include "backends/backend_info.h"

#include <string>

#include "backends/tls_version_proto.h"

namespace tlsweep::backends {

tlsweep::v1::BackendInfo DescribeBackend(const LoadedBackend& loaded) {
  tlsweep::v1::BackendInfo info;
  info.set_name(std::string(loaded.backend->Name()));
  info.set_library_version(loaded.backend->LibraryVersion());
  info.set_path(loaded.path);
  // The loader refuses any other ABI version, so every loaded plugin speaks this one.
  info.set_abi_version(kBackendAbiVersion);
  for (TlsVersion version : loaded.backend->SpeakableVersions()) {
    info.add_speakable_versions(VersionToProto(version));
  }
  return info;
}

std::vector<tlsweep::v1::BackendInfo> DescribeBackends(const BackendRegistry& registry) {
  std::vector<tlsweep::v1::BackendInfo> infos;
  infos.reserve(registry.backends().size());
  for (const LoadedBackend& loaded : registry.backends()) infos.push_back(DescribeBackend(loaded));
  return infos;
}

}  // namespace tlsweep::backends
