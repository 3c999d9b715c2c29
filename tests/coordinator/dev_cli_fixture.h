// A --dev coordinator (plain text, loopback) started by the test, and the tlsweep program run
// against it as an operator runs it. Header-only: TLSWEEP_BINARY is defined by each test target.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "coordinator/server.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {

class DevCoordinatorCliTest : public ::testing::Test {
 protected:
  // Starts the coordinator in a new temporary directory with `core` options.
  void StartCoordinator(const std::string& name, coordinator::CoordinatorOptions core = {}) {
    directory_ = MakeTempDirectory(name);
    coordinator::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.store_path = directory_ + "/store.db";
    options.dev = true;
    options.coordinator = std::move(core);
    auto server = coordinator::CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Runs `tlsweep ARGS --dev --coordinator 127.0.0.1:PORT`; its stderr lands in
  // stderr_.
  CommandResult Tlsweep(const std::string& args) {
    const std::string command =
        absl::StrCat(TLSWEEP_BINARY, " ", args, " --dev --coordinator 127.0.0.1:", server_->port(),
                     " 2>", ShellQuote(directory_ + "/stderr"));
    absl::StatusOr<CommandResult> result = RunCommand(command);
    EXPECT_TRUE(result.ok()) << result.status();
    std::ifstream err(directory_ + "/stderr");
    stderr_.assign(std::istreambuf_iterator<char>(err), {});
    return result.ok() ? *result : CommandResult();
  }

  std::string directory_;
  std::string stderr_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
};

}  // namespace tlsweep::testing
