// One coordinator per port and per store: a second one fails at once with a clear message
// (gRPC's default SO_REUSEPORT let it start and take half the clients); --dev stays on
// loopback for every listener.
#include "coordinator/server.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::coordinator {
namespace {

ServerOptions DevOptions(const std::string& store, const std::string& listen = "127.0.0.1:0") {
  ServerOptions options;
  options.listen = listen;
  options.store_path = store;
  options.dev = true;
  return options;
}

TEST(ServerTest, ASecondCoordinatorOnABusyPortFails) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-server-port");
  auto first = CoordinatorServer::Start(DevOptions(dir + "/a.db"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = CoordinatorServer::Start(
      DevOptions(dir + "/b.db", absl::StrCat("127.0.0.1:", (*first)->port())));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.status().message(), "cannot listen on")) << second.status();
}

TEST(ServerTest, ASecondCoordinatorOnTheSameStoreFails) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-server-store");
  auto first = CoordinatorServer::Start(DevOptions(dir + "/store.db"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = CoordinatorServer::Start(DevOptions(dir + "/store.db"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use by another tlsweep-coordinator"))
      << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat("pid ", getpid())));
  first->reset();  // Released with the first one: the store is free again.
  auto third = CoordinatorServer::Start(DevOptions(dir + "/store.db"));
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(ServerTest, LoopbackMeansALoopbackAddressNotAPrefix) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackListen("127.9.8.7:1"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:50051"));
  EXPECT_TRUE(IsLoopbackListen("localhost:8080"));
  EXPECT_FALSE(IsLoopbackListen("127.0.0.1.nip.io:50051"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackListen("[::]:50051"));
  EXPECT_FALSE(IsLoopbackListen("::1:50051")) << "an IPv6 address needs brackets";
  EXPECT_FALSE(IsLoopbackListen("127.0.0.1"));
}

TEST(ServerTest, DevRefusesAPublicHttpListener) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-server-http");
  absl::StatusOr<testing::CommandResult> run = testing::RunCommand(absl::StrCat(
      TLSWEEP_COORDINATOR_BINARY, " --dev --listen 127.0.0.1:0 --http-listen 0.0.0.0:0 --store ",
      dir, "/store.db 2>&1"));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_NE(run->exit_code, 0);
  EXPECT_TRUE(absl::StrContains(run->output, "serves HTTP on loopback addresses only"))
      << run->output;
}

}  // namespace
}  // namespace tlsweep::coordinator
