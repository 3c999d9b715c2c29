// A write transaction on the store's connection that rolls back unless committed, so that every
// early return of a store method leaves the database as it was.
#pragma once

#include "absl/status/status.h"
#include "backends/status_macros.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator {

class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  ~Transaction() {
    if (open_) db_.Rollback();
  }
  absl::Status Begin() {
    RETURN_IF_ERROR(db_.Begin());
    open_ = true;
    return absl::OkStatus();
  }
  absl::Status Commit() {
    open_ = false;
    return db_.Commit();
  }

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace tlsweep::coordinator
