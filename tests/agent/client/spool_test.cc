// The agent's spool keeps unacknowledged batches and completions across a restart.
#include "agent/client/spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/testing/cert_factory.h"

namespace tlsweep::agent {
namespace {

v1::ResultBatch Batch(uint64_t lease, uint64_t seq, const std::string& target) {
  v1::ResultBatch batch;
  batch.set_lease_id(lease);
  batch.set_seq(seq);
  batch.add_results()->set_target(target);
  return batch;
}

TEST(SpoolTest, SurvivesReopeningAndForgetsWhatWasAcknowledged) {
  const std::string path = testing::MakeTempDirectory("tlsweep-spool") + "/spool.db";
  {
    auto spool = Spool::Open(path).value();
    ASSERT_TRUE(spool->AddBatch(Batch(7, 0, "a.example")).ok());
    ASSERT_TRUE(spool->AddBatch(Batch(7, 1, "b.example")).ok());
    ASSERT_TRUE(spool->AddBatch(Batch(9, 0, "c.example")).ok());
    ASSERT_TRUE(spool->AddCompletion(7, 2).ok());
    ASSERT_TRUE(spool->RemoveBatch(7, 0).ok());  // Acknowledged.
  }
  auto spool = Spool::Open(path).value();
  std::vector<v1::ResultBatch> batches = spool->PendingBatches().value();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].lease_id(), 7u);
  EXPECT_EQ(batches[0].seq(), 1u);
  EXPECT_EQ(batches[0].results(0).target(), "b.example");
  EXPECT_EQ(batches[1].lease_id(), 9u);
  EXPECT_EQ(spool->PendingCompletions().value().at(7), 2u);
  EXPECT_EQ(spool->Leases().value(), (std::vector<uint64_t>{7, 9}));
  ASSERT_TRUE(spool->RemoveLease(7).ok());
  EXPECT_EQ(spool->PendingBatches().value().size(), 1u);
  EXPECT_TRUE(spool->PendingCompletions().value().empty());
}

// Spooled results stay on the agent's disk: its owner's only, whatever the umask.
TEST(SpoolTest, ANewSpoolIsReadableByItsOwnerOnly) {
  const std::string path = testing::MakeTempDirectory("tlsweep-spool-mode") + "/spool.db";
  const mode_t old = umask(022);
  auto spool = Spool::Open(path);
  umask(old);
  ASSERT_TRUE(spool.ok()) << spool.status();
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace tlsweep::agent
