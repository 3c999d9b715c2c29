#!/usr/bin/env bash
# The lab's multi-region scan end to end, distributed as in production (deploy/lab/scan): a
# coordinator on the host, agents inside each region's namespace (two in eu, one in us), mutual
# TLS. Checks that each region probed every unique MX endpoint exactly once and gave every
# domain its results, then the
# report against what the lab was built to show (deploy/lab/expected.csv): who fails under the
# current and the proposed tls_ciphers, what is unreachable from each region, and the region
# divergence the eu filter creates. Needs root; exit 77 (skipped) without it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(dirname "${1:-$repo/build/bin/tlsweep}")
[ "$(id -u)" -eq 0 ] || { echo "lab_scan_test: needs root"; exit 77; }
work=$(mktemp -d)
cleanup() { "$repo/deploy/lab/down" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"$repo/deploy/lab/up" >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
"$repo/deploy/lab/scan" --bin "$bin" --agents eu,eu,us -o "$work/report.html" \
  --json "$work/report.json" >"$work/summary.txt" 2>"$work/scan.log" || { cat "$work/scan.log"; exit 1; }
cat "$work/summary.txt"
. /run/tlsweep-lab/env
python3 - "$LAB_STATE/scan/store.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1
(scan_id, targets), = db.execute("SELECT scan_id, targets FROM scans")
candidates = 2
for region in ("eu", "us"):
    endpoints, = db.execute("SELECT COUNT(*) FROM endpoints WHERE scan_id=? AND region=?",
                            (scan_id, region)).fetchone()
    per_endpoint = dict(db.execute(
        "SELECT endpoint, COUNT(*) FROM endpoint_results WHERE scan_id=? AND region=? "
        "GROUP BY endpoint", (scan_id, region)).fetchall())
    check(0 < endpoints < targets / 20, f"{region}: {endpoints} unique endpoints for {targets} targets")
    check(len(per_endpoint) == endpoints and set(per_endpoint.values()) == {candidates},
          f"{region}: each endpoint probed once per candidate ({sum(per_endpoint.values())} probes)")
    lines, = db.execute("SELECT COUNT(DISTINCT line_number) FROM results WHERE scan_id=? AND "
                        "region=?", (scan_id, region)).fetchone()
    check(lines == targets, f"{region}: {lines} of {targets} targets have results")
    for candidate in ("current", "proposed"):
        verdicts, lines = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT line_number) FROM report_domains WHERE scan_id=? "
            "AND region=? AND candidate=?", (scan_id, region, candidate)).fetchone()
        check(verdicts == lines == targets,
              f"{region}/{candidate}: one verdict per domain ({verdicts} for {targets})")
    agents, = db.execute("SELECT COUNT(DISTINCT agent_id) FROM units WHERE scan_id=? AND region=?",
                         (scan_id, region)).fetchone()
    print(f"INFO  {region}: units leased by {agents} agent(s)")
sys.exit(1 if failures else 0)
PY
python3 - "$work/report.json" "$repo/deploy/lab/expected.csv" "$work/report.html" <<'PY'
import collections, csv, json, sys
report = json.load(open(sys.argv[1]))
kinds = collections.Counter(row["kind"] for row in csv.DictReader(open(sys.argv[2])))
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1

check(report["complete"], "every region's shards are in")
summary = {(row["candidate"], row["region"]): row for row in report["summary"]}
no_tls = kinds["no_starttls"] + kinds["broken_tls"]
expected_fails = {"current": kinds["legacy"] + no_tls,
                  "proposed": kinds["legacy"] + kinds["rsa_kx"] + no_tls}
no_dns = kinds["null_mx"] + kinds["nxdomain"] + kinds["no_address"]
for candidate, fails in expected_fails.items():
    for region in ("eu", "us"):
        got = summary[(candidate, region)]["required"]["fails"]["domains"]
        check(got == fails, f"{candidate}/{region}: {got} domains fail (expected {fails})")
    eu = summary[(candidate, "eu")]["required"]["unreachable"]["domains"]
    us = summary[(candidate, "us")]["required"]["unreachable"]["domains"]
    check(eu == no_dns + kinds["geofenced"], f"{candidate}: eu cannot reach {eu} domains")
    check(us == no_dns, f"{candidate}: us cannot reach {us} domains")
divergent = [e for e in report["region_divergence"]["endpoints"] if e["address"] == "198.18.0.18"]
check(len(divergent) == 2, "the geofenced listener diverges between regions for both candidates")
for e in divergent:
    verdicts = {e["region_a"]: e["verdict_a"], e["region_b"]: e["verdict_b"]}
    check(verdicts == {"eu": "tcp_timeout", "us": "ok"}, f"eu filtered, us reachable: {verdicts}")
    check(e["domains"] == kinds["geofenced"], f"{e['domains']} domains behind it")
html = open(sys.argv[3]).read()
check("<script" not in html and "mx.geofenced.test" in html, "the HTML report is self-contained")
sys.exit(1 if failures else 0)
PY
