// What a loaded registry says about itself on the wire (tlsweep::v1::BackendInfo): one
// description for `tlsweep backends`, the agent's hello and the embedded scan's agents.
#pragma once

#include <vector>

#include "backends/plugin_loader.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

// Name, library version, plugin path, ABI version and speakable versions of one backend.
tlsweep::v1::BackendInfo DescribeBackend(const LoadedBackend& loaded);

// DescribeBackend for each loaded backend, in the registry's (name) order.
std::vector<tlsweep::v1::BackendInfo> DescribeBackends(const BackendRegistry& registry);

}  // namespace tlsweep::backends
