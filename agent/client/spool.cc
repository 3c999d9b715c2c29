#include "agent/client/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tlsweep::agent {
namespace {

absl::Status Error(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat("spool: ", what, ": ", sqlite3_errmsg(db)));
}

// Finalizes a statement when leaving scope.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

// Stores and spools hold scan results and targets: a new one is readable by its owner only,
// whatever the umask (SQLite gives the -wal and -shm files the database file's mode). An
// existing file keeps the mode its owner gave it.
absl::Status MakeOwnerOnly(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const int rc = fchmod(fd, 0600);  // O_CREAT's mode is masked by the umask too.
    close(fd);
    if (rc != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make ", path, " private: ", std::strerror(errno)));
    }
  } else if (errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& path) {
  if (path != ":memory:") {
    if (absl::Status s = MakeOwnerOnly(path); !s.ok()) return s;
  }
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<Spool> spool(new Spool(db));
  if (rc != SQLITE_OK) return Error(db, absl::StrCat("open ", path));
  sqlite3_busy_timeout(db, 10'000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=NORMAL",
           "CREATE TABLE IF NOT EXISTS batches(lease_id INTEGER, seq INTEGER, batch BLOB, "
           "PRIMARY KEY(lease_id, seq))",
           "CREATE TABLE IF NOT EXISTS completions(lease_id INTEGER PRIMARY KEY, batches INTEGER)",
       }) {
    if (absl::Status s = spool->Exec(sql); !s.ok()) return s;
  }
  return spool;
}

Spool::~Spool() { sqlite3_close_v2(db_); }

absl::Status Spool::Exec(const std::string& sql) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error(db_, sql);
  }
  return absl::OkStatus();
}

absl::Status Spool::Run(const char* sql, uint64_t a, uint64_t b, const std::string* blob) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement statement;
  if (sqlite3_prepare_v2(db_, sql, -1, &statement.stmt, nullptr) != SQLITE_OK) {
    return Error(db_, sql);
  }
  sqlite3_bind_int64(statement.stmt, 1, static_cast<int64_t>(a));
  if (sqlite3_bind_parameter_count(statement.stmt) >= 2) {
    sqlite3_bind_int64(statement.stmt, 2, static_cast<int64_t>(b));
  }
  if (blob != nullptr) {
    sqlite3_bind_blob64(statement.stmt, 3, blob->data(), blob->size(), SQLITE_STATIC);
  }
  if (sqlite3_step(statement.stmt) != SQLITE_DONE) return Error(db_, sql);
  return absl::OkStatus();
}

absl::Status Spool::AddBatch(const tlsweep::v1::ResultBatch& batch) {
  const std::string bytes = batch.SerializeAsString();
  return Run("INSERT OR REPLACE INTO batches VALUES(?,?,?)", batch.lease_id(), batch.seq(), &bytes);
}

absl::Status Spool::RemoveBatch(uint64_t lease_id, uint64_t seq) {
  return Run("DELETE FROM batches WHERE lease_id=? AND seq=?", lease_id, seq);
}

absl::Status Spool::AddCompletion(uint64_t lease_id, uint64_t batches) {
  return Run("INSERT OR REPLACE INTO completions VALUES(?,?)", lease_id, batches);
}

absl::Status Spool::RemoveLease(uint64_t lease_id) {
  if (absl::Status s = Run("DELETE FROM batches WHERE lease_id=?", lease_id, 0); !s.ok()) {
    return s;
  }
  return Run("DELETE FROM completions WHERE lease_id=?", lease_id, 0);
}

absl::StatusOr<std::vector<tlsweep::v1::ResultBatch>> Spool::PendingBatches() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement statement;
  const char* sql = "SELECT batch FROM batches ORDER BY lease_id, seq";
  if (sqlite3_prepare_v2(db_, sql, -1, &statement.stmt, nullptr) != SQLITE_OK) {
    return Error(db_, sql);
  }
  std::vector<tlsweep::v1::ResultBatch> batches;
  while (sqlite3_step(statement.stmt) == SQLITE_ROW) {
    const void* data = sqlite3_column_blob(statement.stmt, 0);
    const int size = sqlite3_column_bytes(statement.stmt, 0);
    if (!batches.emplace_back().ParseFromArray(data, size)) {
      return absl::DataLossError("spool: a stored batch does not parse");
    }
  }
  return batches;
}

absl::StatusOr<std::map<uint64_t, uint64_t>> Spool::PendingCompletions() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement statement;
  const char* sql = "SELECT lease_id, batches FROM completions";
  if (sqlite3_prepare_v2(db_, sql, -1, &statement.stmt, nullptr) != SQLITE_OK) {
    return Error(db_, sql);
  }
  std::map<uint64_t, uint64_t> completions;
  while (sqlite3_step(statement.stmt) == SQLITE_ROW) {
    completions[sqlite3_column_int64(statement.stmt, 0)] = sqlite3_column_int64(statement.stmt, 1);
  }
  return completions;
}

absl::StatusOr<std::vector<uint64_t>> Spool::Leases() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement statement;
  const char* sql =
      "SELECT lease_id FROM batches UNION SELECT lease_id FROM completions ORDER BY 1";
  if (sqlite3_prepare_v2(db_, sql, -1, &statement.stmt, nullptr) != SQLITE_OK) {
    return Error(db_, sql);
  }
  std::vector<uint64_t> leases;
  while (sqlite3_step(statement.stmt) == SQLITE_ROW) {
    leases.push_back(sqlite3_column_int64(statement.stmt, 0));
  }
  return leases;
}

}  // namespace tlsweep::agent
