#include "coordinator/store/store_schema.h"

namespace tlsweep::coordinator {

// targets: kind, name and port are the parsed target agents get (name only for hosts and
// addresses; port 0 for the scan's default port). units: state as in store_rows.h.
const char* const kStoreSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER);
INSERT OR IGNORE INTO meta VALUES('next_lease_id', 1);
INSERT OR IGNORE INTO meta VALUES('schema_version', 5);  -- kStoreSchemaVersion
CREATE TABLE IF NOT EXISTS scans(
  scan_id TEXT PRIMARY KEY, name TEXT, profile BLOB, regions TEXT, state INTEGER,
  detail TEXT DEFAULT '', targets INTEGER DEFAULT 0, lines INTEGER DEFAULT 0,
  bad_line_count INTEGER DEFAULT 0, duplicate_count INTEGER DEFAULT 0, bad_lines BLOB,
  shard_size INTEGER, shards INTEGER DEFAULT 0, default_port INTEGER, max_attempts INTEGER,
  created_ms INTEGER, finished_ms INTEGER DEFAULT 0, endpoint_shard_size INTEGER);
CREATE TABLE IF NOT EXISTS targets(
  scan_id TEXT, ordinal INTEGER, line_number INTEGER, input TEXT, key TEXT, domain TEXT,
  weight REAL, kind INTEGER DEFAULT 0, name TEXT DEFAULT '', port INTEGER DEFAULT 0,
  PRIMARY KEY(scan_id, ordinal)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS targets_key ON targets(scan_id, key);
CREATE INDEX IF NOT EXISTS targets_line ON targets(scan_id, line_number);
CREATE TABLE IF NOT EXISTS units(
  scan_id TEXT, region TEXT, kind INTEGER, shard INTEGER, state INTEGER,
  attempts INTEGER DEFAULT 0, lease_id INTEGER DEFAULT 0, agent_id TEXT DEFAULT '',
  lease_expiry_ms INTEGER DEFAULT 0, targets INTEGER, results INTEGER DEFAULT 0,
  connections INTEGER DEFAULT 0, PRIMARY KEY(scan_id, region, kind, shard)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS units_queue ON units(scan_id, region, state, kind, shard);
CREATE INDEX IF NOT EXISTS units_open ON units(scan_id, state);
CREATE INDEX IF NOT EXISTS units_agent ON units(agent_id, state);
CREATE INDEX IF NOT EXISTS units_lease ON units(lease_id);
CREATE TABLE IF NOT EXISTS batches(
  lease_id INTEGER, seq INTEGER, results INTEGER, PRIMARY KEY(lease_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results(
  scan_id TEXT, region TEXT, shard INTEGER, seq INTEGER, idx INTEGER, line_number INTEGER,
  target TEXT, domain TEXT, mx_host TEXT, address TEXT, port INTEGER, candidate TEXT,
  probe TEXT, failure INTEGER, result BLOB,
  PRIMARY KEY(scan_id, region, shard, seq, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS results_line ON results(scan_id, region, line_number);
CREATE TABLE IF NOT EXISTS agents(
  agent_id TEXT PRIMARY KEY, region TEXT, capacity INTEGER, backends TEXT, peer TEXT,
  version TEXT, connected INTEGER, last_seen_ms INTEGER);
CREATE TABLE IF NOT EXISTS schedules(
  schedule_id TEXT PRIMARY KEY, name TEXT, cron TEXT, profile BLOB, regions TEXT,
  shard_size INTEGER, default_port INTEGER, max_attempts INTEGER, retention INTEGER,
  next_run_ms INTEGER, created_ms INTEGER, targets INTEGER, lines INTEGER,
  bad_line_count INTEGER, duplicate_count INTEGER, bad_lines BLOB, endpoint_shard_size INTEGER);
CREATE TABLE IF NOT EXISTS schedule_runs(
  run_id INTEGER PRIMARY KEY, schedule_id TEXT, scan_id TEXT UNIQUE, started_ms INTEGER);
CREATE INDEX IF NOT EXISTS schedule_runs_schedule ON schedule_runs(schedule_id, run_id);
)sql";

}  // namespace tlsweep::coordinator
