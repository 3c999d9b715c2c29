#include "backends/backend_info.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "backends/tls_version_proto.h"

namespace tlsweep::backends {
namespace {

bool Speaks(const tlsweep::v1::BackendInfo& info, tlsweep::v1::TlsVersion version) {
  return std::find(info.speakable_versions().begin(), info.speakable_versions().end(), version) !=
         info.speakable_versions().end();
}

TEST(BackendInfoTest, DescribesBothBuiltPluginsWithNamesVersionsAndPaths) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory(REAL_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  std::vector<tlsweep::v1::BackendInfo> infos = DescribeBackends(*registry);
  // The library backends; the client-only raw backend (rawhello) has its own tests.
  std::erase_if(infos, [](const tlsweep::v1::BackendInfo& info) {
    return info.name() != "gnutls" && info.name() != "openssl";
  });
  ASSERT_EQ(infos.size(), 2u);
  // Name order, as the registry loads them.
  EXPECT_EQ(infos[0].name(), "gnutls");
  EXPECT_EQ(infos[1].name(), "openssl");
  EXPECT_TRUE(absl::StrContains(infos[0].library_version(), "GnuTLS 3")) << infos[0].DebugString();
  EXPECT_TRUE(absl::StrContains(infos[1].library_version(), "OpenSSL 3")) << infos[1].DebugString();
  for (const tlsweep::v1::BackendInfo& info : infos) {
    EXPECT_TRUE(absl::StartsWith(info.path(), REAL_PLUGIN_DIR)) << info.path();
    EXPECT_TRUE(absl::EndsWith(info.path(), "tlsweep-backend-" + info.name() + ".so"))
        << info.path();
    EXPECT_EQ(info.abi_version(), kBackendAbiVersion);
    EXPECT_TRUE(Speaks(info, tlsweep::v1::TLSV1_2)) << info.DebugString();
    EXPECT_TRUE(Speaks(info, tlsweep::v1::TLSV1_3)) << info.DebugString();
    EXPECT_FALSE(Speaks(info, tlsweep::v1::TLS_VERSION_UNSPECIFIED)) << info.DebugString();
  }
  // GnuTLS 3.7 still speaks TLS 1.0 with legacy enabled (docs/ARCHITECTURE.md).
  EXPECT_TRUE(Speaks(infos[0], tlsweep::v1::TLSV1_0)) << infos[0].DebugString();
}

TEST(BackendInfoTest, OneBackendIsDescribedFromWhatItReports) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory(REAL_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  for (const LoadedBackend& loaded : registry->backends()) {
    const tlsweep::v1::BackendInfo info = DescribeBackend(loaded);
    EXPECT_EQ(info.name(), loaded.backend->Name());
    EXPECT_EQ(info.library_version(), loaded.backend->LibraryVersion());
    EXPECT_EQ(info.path(), loaded.path);
    ASSERT_EQ(static_cast<size_t>(info.speakable_versions_size()),
              loaded.backend->SpeakableVersions().size());
    for (int i = 0; i < info.speakable_versions_size(); ++i) {
      EXPECT_EQ(info.speakable_versions(i),
                VersionToProto(loaded.backend->SpeakableVersions()[static_cast<size_t>(i)]));
    }
  }
}

}  // namespace
}  // namespace tlsweep::backends
