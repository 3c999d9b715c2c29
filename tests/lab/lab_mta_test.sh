#!/usr/bin/env bash
# The lab's real non-Postfix MTAs (deploy/lab/mtas.py: Exim with Debian's GnuTLS defaults, Exim
# limited to P-384/P-521, rate-limited Exim, OpenSMTPD that fails every handshake, Haraka),
# scanned from tw-eu with the real tlsweep binary and checked against what each one is:
#   - exim_defaults' enumeration matches the truth of independent single-suite handshakes
#     (openssl s_client, exit 0 and the server's 221 to our QUIT over the new session);
#   - an enumerating scan reports OpenSMTPD as broken_server, fails its domains under every
#     candidate (degraded where Haraka is the backup), fails exim_p384 only for a candidate
#     offering neither P-384 nor P-521, and finds Haraka fine;
#   - exim_ratelimited answers 451 to a quick second connection, and a scan that backs off
#     still gives each of its domains the true verdict; its smtp_accept_max answers 421.
# Usage: tests/lab/lab_mta_test.sh [PATH/TO/tlsweep]   (root; exit 0 pass, 1 fail, 77 skipped)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
TLSWEEP="${1:-$ROOT/build/bin/tlsweep}"
PY=/usr/bin/python3
failures=0
started=$SECONDS

pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
skip() { printf 'SKIP  %s\n' "$*"; exit 77; }
# check DESCRIPTION COMMAND...: PASS if the command succeeds.
check() {
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

[[ $EUID -eq 0 ]] || skip "needs root (network namespaces, port 25)"
[[ -x "$TLSWEEP" ]] || { echo "no tlsweep binary at $TLSWEEP"; exit 1; }
for cmd in ip nft postfix unbound openssl dig sqlite3; do
  command -v "$cmd" >/dev/null || skip "$cmd is not installed (.ci/install-deps installs it)"
done
[[ -x "$PY" ]] || skip "$PY is not installed"
why=$("$PY" "$LAB/mtas.py" check 2>&1) || skip "$why"

work=$(mktemp -d)
cleanup() {
  if [[ -z "${TLSWEEP_LAB_KEEP:-}" ]]; then "$LAB/down" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== deploy/lab/up"
"$LAB/up" >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "deploy/lab/up"; exit 1; }
pass "up ($((SECONDS - started)) s)"
# shellcheck disable=SC1091
source /run/tlsweep-lab/env

# domains KIND...: every lab domain of those kinds (deploy/lab/expected.csv), one a line.
domains() {
  local kinds=" $* "
  awk -F, -v k="$kinds" 'index(k, " " $2 " ") { print $1 }' "$LAB/expected.csv"
}
first() { domains "$1" | head -n 1; }
CURRENT="name=current ciphers=DEFAULT"
PROPOSED="name=proposed ciphers=ECDHE+AESGCM:ECDHE+CHACHA20 min=TLSv1.2 tls=required"
# ECDHE only, with neither P-384 nor P-521 among its groups: nothing in common with exim_p384.
P256="name=p256 ciphers=ECDHE+AESGCM:ECDHE+CHACHA20 min=TLSv1.2 groups=x25519:secp256r1"
# A lab run: no spacing, and a short back-off (the default is 30 s).
FAST=(--rate 0 --per-ip-spacing 0 --backoff 1000)
exim_log_start=$(wc -l <"$LAB_MTA_LOG_exim_ratelimited")

# ---- three runs side by side (each on endpoints of its own), all from tw-eu -----------------------
# 1. exim_defaults enumerated (JSON lines: the ProbeResult with its enumeration).
first exim_defaults >"$work/defaults.txt"
# shellcheck disable=SC2086 # LAB_PROBE_FLAGS is a list of flags.
ip netns exec tw-eu "$TLSWEEP" sweep --targets "$work/defaults.txt" --enumerate --json \
  "${FAST[@]}" $LAB_PROBE_FLAGS --out "$work/defaults.jsonl" >"$work/sweep.log" 2>&1 &
sweep_pid=$!
# 2. An enumerating scan (for its report's server findings) of the other MTAs, three candidates.
for kind in broken_server broken_server_backup exim_p384 haraka; do first "$kind"; done \
  | sed 's/$/,10/' >"$work/mtas.txt"
# shellcheck disable=SC2086
ip netns exec tw-eu "$TLSWEEP" scan --domains "$work/mtas.txt" --regions eu --enumerate \
  --state-dir "$work/scan-mtas" -o "$work/mtas.json" "${FAST[@]}" $LAB_PROBE_FLAGS \
  --candidate "$CURRENT" --candidate "$PROPOSED" --candidate "$P256" >"$work/scan-mtas.log" 2>&1 &
scan_pid=$!
# 3. Every rate-limited domain, the scan's two candidates: one endpoint, two connections back to
#    back, the second refused; retried after 1 s, 2 s, 4 s... (Exim lets it in about 5 s after the
#    first), so up to 6 attempts.
domains exim_ratelimited | sed 's/$/,10/' >"$work/ratelimited.txt"
# shellcheck disable=SC2086
ip netns exec tw-eu "$TLSWEEP" scan --domains "$work/ratelimited.txt" --regions eu \
  --state-dir "$work/scan-rl" -o "$work/rl.json" --rate 0 --per-ip-spacing 0 --backoff 1000 \
  --max-attempts 6 $LAB_PROBE_FLAGS --candidate "$CURRENT" --candidate "$PROPOSED" \
  >"$work/scan-rl.log" 2>&1 &
rl_pid=$!
wait "$sweep_pid" && pass "sweep --enumerate of exim_defaults" \
  || { fail "sweep of exim_defaults"; tail -n 20 "$work/sweep.log"; }
wait "$scan_pid" && pass "enumerating scan of OpenSMTPD, Exim P-384 and Haraka" \
  || { fail "scan of the MTAs"; tail -n 20 "$work/scan-mtas.log"; }
wait "$rl_pid" && pass "scan of the rate-limited Exim's domains" \
  || { fail "scan of exim_ratelimited"; tail -n 20 "$work/scan-rl.log"; }
echo "INFO  scans done after $((SECONDS - started)) s"

# ---- exim_defaults: enumeration against single-suite handshakes ------------------------------------
# (after the sweep: Exim's Debian smtp_accept_max of 20 would answer 421 to the truth's handshakes
# while the enumeration's connections are still being reaped)
ip netns exec tw-eu "$PY" - "$work/defaults.jsonl" "$LAB_LISTENER_exim_defaults" <<'PY'
import concurrent.futures, json, subprocess, sys, time
results = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
address = sys.argv[2]
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1
if not results or "enumeration" not in results[0]:
    check(False, f"exim_defaults: an enumeration in the sweep's output ({results[:1]})")
    sys.exit(1)
result = results[0]
check(result.get("address") == address, f"exim_defaults: enumerated at {result.get('address')}")
FLAG = {"TLSV1_0": "-tls1", "TLSV1_1": "-tls1_1", "TLSV1_2": "-tls1_2", "TLSV1_3": "-tls1_3"}
NAME = {"TLSV1_0": "TLSv1", "TLSV1_1": "TLSv1.1", "TLSV1_2": "TLSv1.2", "TLSV1_3": "TLSv1.3"}
enumerated = {v["version"]: {s["iana_name"] for s in v.get("suites", [])}
              for v in result["enumeration"]["versions"] if v["version"] in FLAG}
status = {v["version"]: v.get("status") for v in result["enumeration"]["versions"]}
# What s_client can offer, per version: IANA name -> OpenSSL name. Not PSK, SRP (they need
# credentials) nor anonymous suites.
universe = {"TLSV1_3": {n: n for n in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                       "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                       "TLS_AES_128_CCM_8_SHA256")}}
for version in ("TLSV1_0", "TLSV1_1", "TLSV1_2"):
    listed = subprocess.run(["openssl", "ciphers", "-s", "-stdname", FLAG[version],
                             "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], capture_output=True, text=True,
                            check=True).stdout
    universe[version] = {}
    for line in listed.splitlines():
        fields = line.split()
        if (len(fields) > 2 and "_WITH_" in fields[0] and "PSK" not in fields[0]
                and "SRP" not in fields[0] and "_anon_" not in fields[0]):
            universe[version][fields[0]] = fields[2]

def handshake(version, iana):
    """True if s_client completes a handshake of exactly this version and suite."""
    name = universe[version][iana]
    select = (["-ciphersuites", name] if version == "TLSV1_3"
              else ["-cipher", name + "@SECLEVEL=0"])
    command = ["openssl", "s_client", "-starttls", "smtp", "-connect", f"{address}:25",
               "-brief", "-ign_eof", "-no-CAfile", "-no-CApath", "-no-CAstore", "-noservername",
               FLAG[version], *select]
    for attempt in range(3):
        try:
            # One stream, in order: the 221 must come after the handshake.
            ran = subprocess.run(command, input="QUIT\r\n", stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=15)
        except subprocess.TimeoutExpired:
            return None
        out = ran.stdout
        if "421" in out.split("CONNECTION ESTABLISHED")[0] and attempt < 2:
            time.sleep(1)  # smtp_accept_max met: try again
            continue
        established = out.find("CONNECTION ESTABLISHED")
        return (ran.returncode == 0 and established >= 0
                and f"Protocol version: {NAME[version]}\n" in out
                and f"Ciphersuite: {name}\n" in out
                and ("\n221" in out[established:]))
    return False

jobs = [(v, s) for v in FLAG for s in universe[v]]
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    verdicts = dict(zip(jobs, pool.map(lambda job: handshake(*job), jobs)))
timeouts = [job for job, ok in verdicts.items() if ok is None]
check(not timeouts, f"exim_defaults: {len(jobs)} single-suite handshakes, none timed out "
      f"({timeouts[:3]})")
for version in FLAG:
    truth = {s for (v, s), ok in verdicts.items() if v == version and ok}
    got = enumerated.get(version, set())
    untested = got - set(universe[version])
    compared = got & set(universe[version])
    missed, extra = sorted(truth - compared), sorted(compared - truth)
    check(truth and not missed and not extra and status.get(version) == "SUPPORTED",
          f"exim_defaults {version}: enumeration ({status.get(version)}) lists the {len(truth)} "
          f"suites that single-suite handshakes complete (missed {missed}, extra {extra})")
    if untested:
        print(f"INFO  exim_defaults {version}: s_client cannot offer {sorted(untested)}")
sys.exit(1 if failures else 0)
PY
(($? == 0)) || failures=$((failures + 1))

# ---- the enumerating scan: verdicts per candidate, and OpenSMTPD as a broken server ----------------
"$PY" - "$work/scan-mtas/store.db" "$work/mtas.json" "$LAB/expected.csv" \
  "$LAB_LISTENER_opensmtpd_broken" <<'PY'
import csv, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
report = json.load(open(sys.argv[2]))
kind_of = {row["domain"]: row["kind"] for row in csv.DictReader(open(sys.argv[3]))}
broken_address = sys.argv[4]
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1
OK, DEGRADED, FAILS = 0, 1, 2  # report_domains.required
# kind -> candidate -> the verdict its listener's configuration implies (mtas.py).
EXPECTED = {
    "broken_server": {"current": FAILS, "proposed": FAILS, "p256": FAILS},
    "broken_server_backup": {"current": DEGRADED, "proposed": DEGRADED, "p256": DEGRADED},
    # OpenSSL's default groups (current, proposed) hold P-384 and P-521; p256 offers neither
    # and only ECDHE suites.
    "exim_p384": {"current": OK, "proposed": OK, "p256": FAILS},
    "haraka": {"current": OK, "proposed": OK, "p256": OK},
}
rows = db.execute("SELECT domain, candidate, required, cause_code, cause FROM report_domains "
                  "WHERE region = 'eu'").fetchall()
check(len(rows) == 3 * len(EXPECTED), f"{len(rows)} verdicts for {len(EXPECTED)} domains and "
      "3 candidates")
for domain, candidate, required, code, cause in sorted(rows):
    kind = kind_of.get(domain)
    want = EXPECTED.get(kind, {}).get(candidate)
    check(required == want, f"{domain} ({kind}) under {candidate}: required verdict {required} "
          f"(expected {want}){': ' + cause if cause else ''}")
    if kind == "exim_p384" and candidate == "p256":
        check(code == "group", f"{domain} under p256 fails for its key-exchange group "
              f"(cause code {code!r})")
findings = report["endpoint_findings"]["endpoints"]
broken = [f for f in findings if f["kind"] == "broken_server"]
check([(f["mx_host"], f["address"]) for f in broken] == [("mx.opensmtpd.test", broken_address)],
      f"server findings: OpenSMTPD [{broken_address}] and nothing else is a broken_server "
      f"({[(f['mx_host'], f['kind']) for f in findings]})")
check(broken and broken[0]["domains"] == 2, "its two domains (one as primary of a backup pair) "
      f"are counted ({broken and broken[0]['domains']})")
sys.exit(1 if failures else 0)
PY
(($? == 0)) || failures=$((failures + 1))

# ---- rate-limited Exim: the limit was met, and the back-off still got the true verdict -------------
"$PY" - "$work/scan-rl/store.db" "$(wc -l <"$work/ratelimited.txt")" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
count = int(sys.argv[2])
rows = db.execute("SELECT required, failure, COUNT(*) FROM report_domains WHERE region = 'eu' "
                  "GROUP BY required, failure").fetchall()
ok = rows == [(0, 0, 2 * count)]
print(("PASS  " if ok else "FAIL  ") + f"exim_ratelimited: all {count} domains ok under both "
      f"candidates after the back-off (required, failure, count: {rows})")
sys.exit(0 if ok else 1)
PY
(($? == 0)) || failures=$((failures + 1))
refused=$(tail -n +"$((exim_log_start + 1))" "$LAB_MTA_LOG_exim_ratelimited" |
  grep -c 'H=\[198.18.1.2\] .*temporarily rejected connection in "connect" ACL: 451' || true)
accepted=$(tail -n +"$((exim_log_start + 1))" "$LAB_MTA_LOG_exim_ratelimited" |
  grep -c 'TLSWEEP-TLS I=' || true)
check "exim_ratelimited: the scan met the limit ($refused connections refused with 451) and \
completed $accepted TLS handshakes" test "$refused" -ge 1 -a "$accepted" -ge 2

# smtp_accept_max 4: a fifth concurrent connection is refused with 421 (from tw-inet, which the
# rate limit exempts: the lab's own checks come from there).
out=$(ip netns exec "$LAB_NETNS_inet" "$PY" - "$LAB_LISTENER_exim_ratelimited" <<'PY' 2>&1
import socket, sys
held = []
for _ in range(4):
    s = socket.create_connection((sys.argv[1], 25), timeout=5)
    assert s.recv(512).startswith(b"220"), "a held connection got no 220"
    held.append(s)
fifth = socket.create_connection((sys.argv[1], 25), timeout=5)
print(fifth.recv(512).decode(errors="replace").strip())
PY
)
check "exim_ratelimited: smtp_accept_max 4 answers a fifth concurrent connection: $out" \
  test "${out:0:3}" = 421

echo "INFO  $((SECONDS - started)) s in all"
echo
if ((failures)); then
  echo "lab_mta_test: $failures check(s) FAILED (the lab's MTA logs are in $LAB_STATE/mtas" \
    "until down: TLSWEEP_LAB_KEEP=1 keeps the lab up)"
  exit 1
fi
echo "lab_mta_test: all checks passed"
