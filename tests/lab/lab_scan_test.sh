#!/usr/bin/env bash
# The lab's multi-region scan end to end, distributed as in production (deploy/lab/scan): a
# coordinator on the host, agents inside each region's namespace (two in eu, one in us), mutual
# TLS. Checks that each region probed every unique MX endpoint exactly once and gave every
# domain its results, then the
# report against what the lab was built to show (deploy/lab/expected.csv): who fails under the
# current and the proposed tls_ciphers, what is unreachable from each region, and the region
# divergence the eu filter creates. The hosted providers (hosted_a, hosted_b, hosted_sni: many
# customer MX names on one address each) must give every customer domain its own truth (TLS,
# certificate name, expiry), and the Postfix log shows how many connections each listener got.
# The shared-address rule is asserted on those counts (TLSWEEP_LAB_EXPECT_SHARED_PROBES=0 skips it: one probe
# per address, every name where the answer depends on SNI). Needs root; exit 77 without it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(dirname "${1:-$repo/build/bin/tlsweep}")
[ "$(id -u)" -eq 0 ] || { echo "lab_scan_test: needs root"; exit 77; }
work=$(mktemp -d)
cleanup() { "$repo/deploy/lab/down" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"$repo/deploy/lab/up" >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
# Connections are counted from here on (up's own checks came before).
log_start=$(wc -l </run/tlsweep-lab/log/postfix.log)
"$repo/deploy/lab/scan" --bin "$bin" --agents eu,eu,us -o "$work/report.html" \
  --json "$work/report.json" --csv "$work/report.csv" >"$work/summary.txt" 2>"$work/scan.log" || { cat "$work/scan.log"; exit 1; }
cat "$work/summary.txt"
. /run/tlsweep-lab/env
python3 - "$LAB_STATE/scan/store.db" "$repo/deploy/lab/zone.test" "$repo/deploy/lab/expected.csv" \
  "${TLSWEEP_LAB_EXPECT_SHARED_PROBES:-1}" <<'PY'
import collections, csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
shared = sys.argv[4] == "1"
# Upper bound whatever the probed identity: one endpoint per (MX name, address) of the world.
addresses = collections.defaultdict(set)
for line in open(sys.argv[2]):
    fields = line.split()
    if len(fields) == 4 and fields[1] == "IN" and fields[2] in ("A", "AAAA"):
        addresses[fields[0].rstrip(".")].add(fields[3])
routes = set()
for row in csv.DictReader(open(sys.argv[3])):
    for host in row["mx_hosts"].split():
        routes.update((host, a) for a in addresses.get(host, ()))
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
    check(0 < endpoints <= len(routes),
          f"{region}: {endpoints} unique endpoints for {targets} targets ({len(routes)} MX name "
          "and address pairs)")
    if shared:  # a few shared addresses, not a few thousand customer names
        check(endpoints < targets / 20, f"{region}: shared addresses probed as one endpoint")
    # Per endpoint: one name got every candidate; no name got a candidate twice (a name that
    # only served to compare certificates under SNI has fewer).
    per_name = collections.defaultdict(dict)
    for endpoint, name, count in db.execute(
            "SELECT endpoint, name, COUNT(*) FROM endpoint_results WHERE scan_id=? AND region=? "
            "GROUP BY endpoint, name", (scan_id, region)):
        per_name[endpoint][name] = count
    check(len(per_endpoint) == endpoints and
          all(max(n.values()) == candidates for n in per_name.values()) and
          all(c <= candidates for n in per_name.values() for c in n.values()),
          f"{region}: each endpoint probed once per candidate under one name, no name twice "
          f"({sum(per_endpoint.values())} probes)")
    # Nothing is stored per (domain, endpoint): a target's own rows are its DNS failure and
    # the like; its routes are joined to the endpoint results when read.
    own, = db.execute("SELECT COUNT(*) FROM results WHERE scan_id=? AND region=?",
                      (scan_id, region)).fetchone()
    stored_routes, = db.execute("SELECT COUNT(*) FROM routes WHERE scan_id=? AND region=?",
                                (scan_id, region)).fetchone()
    check(own < targets and stored_routes > 0,
          f"{region}: {own} target rows and {stored_routes} routes stored for {targets} targets, no "
          "per-domain copies of endpoint results")
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
# The real MTAs (deploy/lab/mtas.py): OpenSMTPD fails every handshake, so broken_server fails
# under any candidate (broken_server_backup has Haraka as its backup: degraded, not failing).
# exim_p384 fails only a candidate whose groups include neither P-384 nor P-521 and that offers
# no non-ECDHE suite it accepts; both candidates offer OpenSSL's default groups, which hold both.
# exim_defaults and haraka negotiate TLS 1.3 with either. exim_ratelimited refuses (451) the
# second connection within seconds of the first, and tlsweep retries it after its back-off (30 s),
# when Exim's rate has decayed: those domains end with Exim's true verdict, ok, never
# rate_limited (which would count as unreachable below).
expected_fails = {"current": kinds["legacy"] + no_tls + kinds["broken_server"],
                  "proposed": kinds["legacy"] + kinds["rsa_kx"] + no_tls + kinds["broken_server"]}
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
# The delta against the baseline ("current"), domain by domain, from what the lab's listeners
# imply (expected.csv kinds), not from the report's own counts: under "proposed" (ECDHE AEAD, TLS
# 1.2+, TLS required) exactly the rsa_kx domains newly fail, in both regions; every other kind
# keeps its verdict (legacy and no-TLS domains fail under both, geofenced ones are unreachable
# from eu under both). The CSV's change_vs_baseline and the JSON delta summary must both say so.
python3 - "$work/report.csv" "$work/report.json" "$repo/deploy/lab/expected.csv" <<'PY'
import collections, csv, json, sys
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1

kind_of = {row["domain"]: row["kind"] for row in csv.DictReader(open(sys.argv[3]))}
weight_of = {line.split(",")[0]: float(line.split(",")[1])
             for line in open(sys.argv[3].replace("expected.csv", "domains.txt"))
             if "," in line and not line.startswith("#")}
# Kind -> the change "proposed" makes against "current". A kind missing here fails the test, so
# a new kind of listener in the lab must say what the switch does to it.
CHANGE = {"rsa_kx": "newly_failing"}
UNCHANGED = {"modern", "defaults", "legacy", "no_starttls", "broken_tls", "expired_cert",
             "name_mismatch", "geofenced", "dead_primary", "broken_primary", "null_mx",
             "no_address", "implicit_mx", "nxdomain", "hosted_a", "hosted_b", "hosted_sni",
             "exim_defaults", "exim_p384", "exim_ratelimited", "broken_server",
             "broken_server_backup", "haraka"}
unknown = sorted(set(kind_of.values()) - UNCHANGED - set(CHANGE))
check(not unknown, f"every kind of the lab has an expected change (unknown: {unknown})")
changes = collections.defaultdict(dict)  # region -> domain -> change
for row in csv.DictReader(open(sys.argv[1])):
    if row["candidate"] == "proposed":
        changes[row["region"]][row["domain"]] = row["change_vs_baseline"]
report = json.load(open(sys.argv[2]))
check(report["delta"] is not None and report["delta"]["baseline"] == "current",
      "the delta is against current, the first candidate")
summary = {s["region"]: s for s in report["delta"]["summary"] if s["candidate"] == "proposed"}
for region in ("eu", "us"):
    got = changes[region]
    wrong = [(d, got.get(d), CHANGE.get(k, "")) for d, k in kind_of.items()
             if got.get(d, "") != CHANGE.get(k, "") and not (k == "nxdomain" and d not in got)]
    missing = [d for d, k in kind_of.items() if d not in got and k != "nxdomain"]
    check(not missing, f"{region}: every listed domain has a proposed row in the CSV "
          f"({len(got)} rows; missing: {missing[:5]})")
    check(not wrong, f"{region}: every domain's change_vs_baseline is what its listener implies"
          f" ({len(wrong)} wrong: {wrong[:5]})")
    newly = [d for d, k in kind_of.items() if CHANGE.get(k) == "newly_failing"]
    s = summary.get(region)
    check(s is not None and s["newly_failing"]["domains"] == len(newly),
          f"{region}: delta summary says {s and s['newly_failing']['domains']} newly failing "
          f"(expected {len(newly)})")
    volume = sum(weight_of.get(d, 1) for d in newly)
    check(s is not None and abs(s["newly_failing"]["weight"] - volume) < 1e-6 * max(1, volume),
          f"{region}: newly failing volume {s and s['newly_failing']['weight']} "
          f"(expected {volume:g})")
    check(s is not None and s["newly_fixed"]["domains"] == 0, f"{region}: nothing newly fixed")
sys.exit(1 if failures else 0)
PY
# Every hosted customer: one verdict per (region, candidate), and its own truth (expected.csv):
# TLS negotiated at the provider's version, certificate name checked for the customer's MX name.
python3 - "$LAB_STATE/scan/store.db" "$repo/deploy/lab/expected.csv" <<'PY'
import collections, csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(scan_id,), = db.execute("SELECT scan_id FROM scans")
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1
TLS12, TLS13 = 4, 5  # tlsweep.v1.TlsVersion
VERSION = {"hosted_a": TLS13, "hosted_b": TLS12, "hosted_sni": TLS13}
# kind -> (trusted, hostname_match, expired) of the certificate the customer's MX name gets
CERTIFICATE = {"hosted_a": (1, 1, 0), "hosted_b": (1, 1, 0), "hosted_sni": (1, 1, 0),
               "name_mismatch": (1, 0, 0), "expired_cert": (0, 1, 1)}
hosted = {row["domain"]: row for row in csv.DictReader(open(sys.argv[2]))
          if row["listeners"].startswith("hosted_")}
verdicts = collections.defaultdict(list)
for row in db.execute("SELECT domain, region, candidate, required, mx_host, version FROM "
                      "report_domains WHERE scan_id=? AND domain LIKE 'h%'", (scan_id,)):
    verdicts[row[0]].append(row[1:])
facts = collections.defaultdict(list)
for row in db.execute("SELECT domain, region, candidate, trusted, hostname_match, expired FROM "
                      "report_domains WHERE scan_id=? AND domain LIKE 'h%'", (scan_id,)):
    facts[row[0]].append(row[1:])
cells = {(r, c) for r in ("eu", "us") for c in ("current", "proposed")}
wrong = collections.Counter()
for domain, want in hosted.items():
    listener, kind = want["listeners"], want["kind"]
    got = verdicts.get(domain, [])
    if sorted((r, c) for r, c, *_ in got) != sorted(cells):
        wrong[f"{kind}@{listener}: not one verdict per region and candidate"] += 1
        continue
    if any(req != 0 or mx != want["mx_hosts"] or v != VERSION[listener]
           for _, _, req, mx, v in got):
        wrong[f"{kind}@{listener}: TLS verdict"] += 1
    cert = [(r, c, (t, h, e)) for r, c, t, h, e in facts.get(domain, [])]
    if sorted((r, c) for r, c, _ in cert) != sorted(cells) or \
            any(value != CERTIFICATE[kind] for *_, value in cert):
        wrong[f"{kind}@{listener}: certificate (trusted, name, expired)"] += 1
by_kind = collections.Counter(f"{row['kind']}@{row['listeners']}" for row in hosted.values())
for key, count in sorted(by_kind.items()):
    bad = sum(n for what, n in wrong.items() if what.startswith(key + ":"))
    check(bad == 0, f"{key}: {count - bad} of {count} hosted domains have their expected "
          "verdict from both regions under both candidates")
for what, n in sorted(wrong.items()):
    print(f"INFO  {n} domain(s): {what}")
sys.exit(1 if failures else 0)
PY

# Connections each listener received during the scan, per region (the Postfix log: one
# syslog name per listener; the client address tells the region).
python3 - "$LAB_STATE/log/postfix.log" "$log_start" "$repo/deploy/lab/expected.csv" \
  "${TLSWEEP_LAB_EXPECT_SHARED_PROBES:-1}" <<'PY'
import collections, csv, re, sys
log, start, expected, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
candidates = 2
REGION = {"198.18.1.2": "eu", "2001:2:0:1::2": "eu", "198.18.2.2": "us", "2001:2:0:2::2": "us"}
failures = 0
def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1
connections = collections.Counter()       # (listener, region)
sni = collections.Counter()               # (SNI name, region): TLS handshakes of hosted_sni
connect = re.compile(r"postfix/(\w+)/smtpd\[\d+\]: connect from [^\[]*\[([^\]]+)\]")
matched = re.compile(r"postfix/hosted_sni/smtpd\[\d+\]: (?:Anonymous|Trusted|Verified|Untrusted) "
                     r"TLS connection established from [^\[]*\[([^\]]+)\] to ([^:]+):")
default = re.compile(r"postfix/hosted_sni/smtpd\[\d+\]: TLS SNI (\S+) from [^\[]*\[([^\]]+)\] "
                     r"not matched")
with open(log, errors="replace") as lines:
    for number, line in enumerate(lines, 1):
        if number <= start:
            continue
        if m := connect.search(line):
            connections[(m.group(1), REGION.get(m.group(2), "other"))] += 1
        elif m := matched.search(line):
            sni[(m.group(2), REGION.get(m.group(1), "other"))] += 1
        elif m := default.search(line):
            sni[(m.group(1), REGION.get(m.group(2), "other"))] += 1
domains, names = collections.Counter(), collections.defaultdict(set)
for row in csv.DictReader(open(expected)):
    for host, listener in zip(row["mx_hosts"].split(), row["listeners"].split()):
        domains[listener] += 1
        names[listener].add(host)
print(f"{'listener':<11} {'domains':>7} {'MX names':>8} {'conn eu':>7} {'conn us':>7}")
for listener in sorted(domains, key=lambda l: (not l.startswith("hosted_"), l)):
    if listener in ("dead", "-"):
        continue
    print(f"{listener:<11} {domains[listener]:>7} {len(names[listener]):>8} "
          f"{connections[(listener, 'eu')]:>7} {connections[(listener, 'us')]:>7}")
if not shared:
    print("INFO  shared-address probing not asserted (TLSWEEP_LAB_EXPECT_SHARED_PROBES=0)")
    sys.exit(0)
for region in ("eu", "us"):
    for listener in ("hosted_a", "hosted_b"):
        got = connections[(listener, region)]
        check(0 < got <= 2 * candidates, f"{region}: {listener} got {got} connections for "
              f"{len(names[listener])} MX names (at most 2 per candidate)")
    sni_names = names["hosted_sni"]
    got = connections[("hosted_sni", region)]
    check(got >= len(sni_names) * candidates,
          f"{region}: hosted_sni got {got} connections for {len(sni_names)} SNI-dependent names")
    short = sorted(n for n in sni_names if sni[(n, region)] < candidates)
    check(not short, f"{region}: every hosted_sni name had a handshake under its own SNI per "
          f"candidate{' (not: ' + ' '.join(short) + ')' if short else ''}")
sys.exit(1 if failures else 0)
PY
