#include "backends/plugin_loader.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::backends {
namespace {

TEST(PluginLoaderTest, MissingFileIsNotFoundAndNamesThePath) {
  absl::StatusOr<LoadedBackend> loaded = LoadBackendPlugin("/nonexistent/tlsweep-backend-x.so");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::IsNotFound(loaded.status()));
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "/nonexistent/tlsweep-backend-x.so"));
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "does not exist"));
}

TEST(PluginLoaderTest, WrongAbiVersionIsRefusedWithBothVersions) {
  absl::StatusOr<LoadedBackend> loaded =
      LoadBackendPlugin(FAKE_PLUGIN_DIR "/tlsweep-backend-wrong_abi.so");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(loaded.status()));
  // The fake plugin claims kBackendAbiVersion + 998.
  EXPECT_TRUE(absl::StrContains(loaded.status().message(),
                                absl::StrCat("ABI version ", kBackendAbiVersion + 998)));
  EXPECT_TRUE(
      absl::StrContains(loaded.status().message(), absl::StrCat("needs ", kBackendAbiVersion)))
      << loaded.status();
}

TEST(PluginLoaderTest, SharedObjectWithoutEntryPointIsNotABackend) {
  absl::StatusOr<LoadedBackend> loaded =
      LoadBackendPlugin(FAKE_PLUGIN_DIR "/tlsweep-backend-no_entry.so");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "exports no tlsweep_backend_entry"));
}

TEST(PluginLoaderTest, FileThatIsNotASharedObjectIsRefused) {
  absl::StatusOr<LoadedBackend> loaded = LoadBackendPlugin("/etc/hostname");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "cannot load backend plugin"));
}

TEST(PluginLoaderTest, DirectoryOfBrokenPluginsListsEveryError) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory(FAKE_PLUGIN_DIR);
  ASSERT_FALSE(registry.ok());
  EXPECT_TRUE(absl::StrContains(registry.status().message(), "ABI version"));
  EXPECT_TRUE(absl::StrContains(registry.status().message(), "exports no"));
}

TEST(PluginLoaderTest, MissingDirectoryNamesTheFlagAndVariable) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory("/nonexistent/dir");
  ASSERT_FALSE(registry.ok());
  EXPECT_TRUE(absl::StrContains(registry.status().message(), "--plugin-dir"));
  EXPECT_TRUE(absl::StrContains(registry.status().message(), "TLSWEEP_PLUGIN_DIR"));
}

TEST(PluginLoaderTest, RealDirectoryLoadsTheBuiltBackendsByName) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory(REAL_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  absl::StatusOr<Backend*> openssl = registry->Get("openssl");
  ASSERT_TRUE(openssl.ok());
  EXPECT_EQ((*openssl)->Name(), "openssl");
  EXPECT_TRUE(absl::StrContains((*openssl)->LibraryVersion(), "OpenSSL 3"));
}

TEST(PluginLoaderTest, UnknownBackendNameListsTheLoadedOnes) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory(REAL_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok());
  absl::StatusOr<Backend*> backend = registry->Get("wolfssl");
  ASSERT_FALSE(backend.ok());
  EXPECT_TRUE(absl::IsNotFound(backend.status()));
  EXPECT_TRUE(absl::StrContains(backend.status().message(), "unknown backend 'wolfssl'"));
  EXPECT_TRUE(absl::StrContains(backend.status().message(), "openssl"));
}

TEST(PluginLoaderTest, PluginDirectoryPrecedenceIsFlagThenEnvironmentThenBinary) {
  setenv(kPluginDirEnv, "/from/env", 1);
  EXPECT_EQ(ResolvePluginDirectory("/from/flag"), "/from/flag");
  EXPECT_EQ(ResolvePluginDirectory(""), "/from/env");
  unsetenv(kPluginDirEnv);
  EXPECT_TRUE(absl::EndsWith(ResolvePluginDirectory(""), "/lib/tlsweep"));
}

}  // namespace
}  // namespace tlsweep::backends
