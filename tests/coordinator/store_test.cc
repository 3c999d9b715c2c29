// The SQLite store on its own: submission, de-duplication, leases, idempotent ingestion,
// expiry, AGENT_LOST and survival across reopening the file.
#include "coordinator/store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::ProbeResult;
using ::tlsweep::v1::ResultBatch;
using ::tlsweep::v1::ShardAssignment;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::MakeTempDirectory("tlsweep-store") + "/store.db";
    Reopen();
  }
  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // A running scan of `n` targets "tN.example" (lines 1..n), shard size `shard_size`.
  std::string MakeScan(int n, uint32_t shard_size, uint32_t max_attempts = 3,
                       std::vector<std::string> regions = {"eu"}) {
    ScanSpec spec;
    spec.name = "test";
    spec.regions = regions;
    spec.shard_size = shard_size;
    spec.max_attempts = max_attempts;
    absl::StatusOr<std::unique_ptr<SubmissionWriter>> writer = store_->BeginScan(spec, 1000);
    EXPECT_TRUE(writer.ok()) << writer.status();
    for (int i = 1; i <= n; ++i) {
      TargetRow row{static_cast<uint64_t>(i), absl::StrCat("t", i, ".example"),
                    absl::StrCat("domain t", i, ".example:25"), absl::StrCat("t", i, ".example"),
                    1.0};
      EXPECT_TRUE((*writer)->AddTarget(row).value());
    }
    SubmissionStats stats;
    stats.lines = n;
    EXPECT_TRUE((*writer)->Finish(stats, 1000).ok());
    return (*writer)->scan_id();
  }

  static ResultBatch Batch(const ShardAssignment& assignment, uint64_t seq) {
    ResultBatch batch;
    batch.set_lease_id(assignment.lease_id());
    batch.set_seq(seq);
    for (const v1::ShardTarget& target : assignment.targets()) {
      ProbeResult* result = batch.add_results();
      result->set_target(target.input());
      result->set_line_number(target.line_number());
      result->set_mx_host("mx." + target.input());
      result->set_failure(v1::TCP_REFUSED);
    }
    return batch;
  }

  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, DuplicatesAreSkippedAndCounted) {
  ScanSpec spec;
  spec.regions = {"eu", "us"};
  spec.shard_size = 2;
  auto writer = store_->BeginScan(spec, 1).value();
  TargetRow a{1, "a.example", "domain a.example:25", "a.example", 1};
  TargetRow b{2, "b.example", "domain b.example:25", "b.example", 1};
  TargetRow a_again{3, "A.EXAMPLE.", "domain a.example:25", "a.example", 1};
  EXPECT_TRUE(writer->AddTarget(a).value());
  EXPECT_TRUE(writer->AddTarget(b).value());
  EXPECT_FALSE(writer->AddTarget(a_again).value());
  TargetRow c{4, "c.example", "domain c.example:25", "c.example", 1};
  EXPECT_TRUE(writer->AddTarget(c).value());
  SubmissionStats stats;
  stats.lines = 4;
  ASSERT_TRUE(writer->Finish(stats, 2).ok());
  v1::Scan scan = store_->GetScan(writer->scan_id(), true).value();
  EXPECT_EQ(scan.state(), v1::SCAN_RUNNING);
  EXPECT_EQ(scan.targets(), 3u);
  EXPECT_EQ(scan.duplicate_count(), 1u);
  EXPECT_EQ(scan.shards(), 2u);
  ASSERT_EQ(scan.progress_size(), 2);
  EXPECT_EQ(scan.progress(0).shards_pending(), 2u);
  EXPECT_EQ(scan.progress(1).shards_pending(), 2u);
}

TEST_F(StoreTest, LeaseIngestCompleteIsIdempotent) {
  const std::string scan_id = MakeScan(5, 3);
  // Only agents of the scan's region get work.
  EXPECT_TRUE(store_->LeaseShards("agent-us", "us", 5, 2000, 10'000, true).value().empty());
  std::vector<ShardAssignment> leased =
      store_->LeaseShards("agent-1", "eu", 5, 2000, 10'000, true).value();
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[0].targets_size(), 3);
  EXPECT_EQ(leased[1].targets_size(), 2);
  EXPECT_EQ(leased[1].targets(0).line_number(), 4u);
  EXPECT_EQ(leased[0].attempt(), 1u);

  for (const ShardAssignment& assignment : leased) {
    ResultBatch batch = Batch(assignment, 0);
    EXPECT_EQ(store_->IngestBatch("agent-1", batch).value(), BatchOutcome::kAccepted);
    // Delivered again (the ack was lost): stored once.
    EXPECT_EQ(store_->IngestBatch("agent-1", batch).value(), BatchOutcome::kDuplicate);
    // Another agent cannot write into this lease.
    ResultBatch foreign = Batch(assignment, 1);
    EXPECT_EQ(store_->IngestBatch("agent-2", foreign).value(), BatchOutcome::kStale);
    std::string detail;
    EXPECT_FALSE(store_->CompleteLease("agent-1", assignment.lease_id(), 2, 3000, &detail).value())
        << "a completion claiming a batch that never arrived is refused";
    EXPECT_TRUE(store_->CompleteLease("agent-1", assignment.lease_id(), 1, 3000, &detail).value())
        << detail;
    EXPECT_TRUE(store_->CompleteLease("agent-1", assignment.lease_id(), 1, 3000, &detail).value());
  }
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  EXPECT_EQ(scan.progress(0).results(), 5u);
  EXPECT_EQ(scan.progress(0).targets_done(), 5u);
  std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  ASSERT_EQ(results.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(results[i].line_number(), static_cast<uint64_t>(i + 1));
}

TEST_F(StoreTest, ExpiredLeaseIsRetriedThenReportedLost) {
  const std::string scan_id = MakeScan(4, 10, /*max_attempts=*/2);
  ShardAssignment first = store_->LeaseShards("agent-1", "eu", 1, 1000, 500, true).value().at(0);
  ResultBatch partial = Batch(first, 0);
  partial.mutable_results()->DeleteSubrange(1, 3);
  EXPECT_EQ(store_->IngestBatch("agent-1", partial).value(), BatchOutcome::kAccepted);
  // A heartbeat keeps it; silence loses it.
  EXPECT_TRUE(store_->ExtendLeases("agent-1", {first.lease_id()}, 1400, 500).value().empty());
  EXPECT_TRUE(store_->ExpireLeases(1800).value().empty());
  std::vector<LeaseRef> expired = store_->ExpireLeases(2000).value();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].agent_id, "agent-1");
  // The old lease is dead: its late results are refused, its partial results dropped.
  EXPECT_EQ(store_->IngestBatch("agent-1", Batch(first, 1)).value(), BatchOutcome::kStale);
  EXPECT_EQ(store_->ExtendLeases("agent-1", {first.lease_id()}, 2000, 500).value().size(), 1u);

  ShardAssignment second = store_->LeaseShards("agent-2", "eu", 1, 2100, 500, true).value().at(0);
  EXPECT_EQ(second.attempt(), 2u);
  EXPECT_NE(second.lease_id(), first.lease_id());
  EXPECT_EQ(store_->Results(scan_id, "eu").value().size(), 0u);
  // Reopening the store (a coordinator restart) keeps the lease.
  Reopen();
  ASSERT_TRUE(store_->Recover(2200, 100).ok());
  ASSERT_EQ(store_->ExpireLeases(2300).value().size(), 0u) << "leases get at least the grace";
  ASSERT_EQ(store_->ExpireLeases(2700).value().size(), 1u);
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  EXPECT_EQ(scan.progress(0).shards_lost(), 1u);
  std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  ASSERT_EQ(results.size(), 4u) << "every target keeps exactly one final result";
  for (const ProbeResult& result : results) {
    EXPECT_EQ(result.failure(), v1::AGENT_LOST);
    EXPECT_EQ(result.domain(), result.target());
  }
}

TEST_F(StoreTest, AUnitGivenBackTooOftenIsLost) {
  const std::string scan_id = MakeScan(2, 10, /*max_attempts=*/2);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    std::vector<ShardAssignment> leased =
        store_->LeaseShards("agent-1", "eu", 1, 1000 * attempt, 10'000, true).value();
    ASSERT_EQ(leased.size(), 1u) << "attempt " << attempt;
    ASSERT_TRUE(store_->ReleaseLease("agent-1", leased[0].lease_id(), 1000 * attempt + 1).ok());
  }
  EXPECT_TRUE(store_->LeaseShards("agent-1", "eu", 1, 5000, 10'000, true).value().empty());
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_DONE);
  EXPECT_EQ(scan.progress(0).shards_lost(), 1u);
  std::vector<ProbeResult> results = store_->Results(scan_id, "eu").value();
  ASSERT_EQ(results.size(), 2u);
  for (const ProbeResult& result : results) EXPECT_EQ(result.failure(), v1::AGENT_LOST);
}

TEST_F(StoreTest, CancelStopsLeasingAndRefusesResults) {
  const std::string scan_id = MakeScan(4, 2);
  ShardAssignment leased = store_->LeaseShards("agent-1", "eu", 1, 1000, 5000, true).value().at(0);
  std::vector<LeaseRef> out = store_->CancelScan(scan_id, 1100).value();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].lease_id, leased.lease_id());
  EXPECT_TRUE(store_->LeaseShards("agent-1", "eu", 5, 1200, 5000, true).value().empty());
  EXPECT_EQ(store_->IngestBatch("agent-1", Batch(leased, 0)).value(), BatchOutcome::kStale);
  EXPECT_EQ(store_->GetScan(scan_id, false).value().state(), v1::SCAN_CANCELLED);
  EXPECT_EQ(store_->CancelScan("nope", 1).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, InterruptedSubmissionFailsAtRecovery) {
  ScanSpec spec;
  spec.regions = {"eu"};
  auto writer = store_->BeginScan(spec, 1).value();
  const std::string scan_id = writer->scan_id();
  EXPECT_TRUE(writer->AddTarget({1, "a.example", "domain a.example:25", "a.example", 1}).value());
  writer.reset();
  Reopen();
  ASSERT_TRUE(store_->Recover(5, 10).ok());
  v1::Scan scan = store_->GetScan(scan_id, false).value();
  EXPECT_EQ(scan.state(), v1::SCAN_FAILED);
  EXPECT_NE(scan.detail(), "");
}

TEST(StoreFileTest, ANewStoreIsReadableByItsOwnerOnly) {
  const std::string path = testing::MakeTempDirectory("tlsweep-store-mode") + "/store.db";
  const mode_t old = umask(022);
  auto store = OpenSqliteStore(path);
  umask(old);
  ASSERT_TRUE(store.ok()) << store.status();
  for (const std::string& file : {path, path + "-wal"}) {
    struct stat info;
    ASSERT_EQ(stat(file.c_str(), &info), 0) << file;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << file;
  }
}

}  // namespace
}  // namespace tlsweep::coordinator
