#!/usr/bin/env python3
"""Chaos test with the real programs: a distributed scan survives crashes, pauses and a dead
link, and still ends with exactly one verdict per (domain, region, candidate), the same verdicts
as a fault-free run of the same list against the same servers.

The world: a private Postfix with LISTENERS listeners of five TLS policies (STARTTLS with
TLS 1.2-1.3, TLS 1.3 only, up to TLS 1.2, RSA key exchange only, no STARTTLS), one address where
nothing listens, and a private unbound with the zone: DOMAINS domains over MX_NAMES MX names, plus
null-MX, NXDOMAIN, no-address and dead-address domains. Two regions:

- "host" runs three agents in the root namespace (host-spool with a spool, host-mem without,
  host-pause with a spool);
- "edge" runs two agents (edge-spool, edge-mem) in a network namespace of its own, reaching the
  servers, the DNS server and (through a TCP relay) the loopback-only --dev coordinator over
  one veth link (tests/testing/netns_region.py).

Every server listens on addresses on the host end of that link, so both regions reach the same
servers. The agents are slowed (--rate) so that the scan takes about a minute and every fault
lands while the scan runs (checked: each fault records that the scan was still running and
that its region still had work).

First a fault-free reference scan (its own coordinator and store), then the chaos scan with
the same list, candidates and agent flags, with these faults (seconds after the submit):

   3  coordinator SIGKILL 1, restarted on the same store and port;
   6  SIGKILL of edge-mem (no spool) and of host-spool (spool), both restarted;
   9  SIGSTOP of host-pause for LEASE + 6 s (longer than the lease; SIGCONT at about 20);
  12  the edge link dropped for LINK_DROP_S (nftables inside the namespace, both directions:
      packets vanish, nothing is refused);
  14  coordinator SIGKILL 2 (host-pause stopped, edge link down), restarted;
  18  SIGKILL of edge-spool (spool) while its link is down, restarted (it reaches nothing until
      the link is back);
  22  SIGKILL of host-mem (no spool), restarted;
  30  coordinator SIGKILL 3 (edge link still down), restarted;
  42  the edge link restored; the scan runs to its end.

Each agent fault waits (up to 5 s) until its agent holds a lease; each step records the scan's
progress and is checked to land while the scan (and the fault's region) still had work.

Checks: both scans end SCAN_DONE; the CSV report (`tlsweep report --format csv`) has exactly
one row per (domain, region, candidate): no duplicate, no missing and no extra key, and each
row equals the reference's row (every column but scan_id); no row is agent_lost. Below the
report (its table has one row per key whatever is stored under it), the store must hold the
same per-target results per (region, line, candidate, probe) and routes per (region,
endpoint, MX name) as the reference, and at most one endpoint result per candidate per
(region, endpoint, MX name) (how an address's names are grouped into probe units depends on
timing, so those counts are not compared exactly); the scan's per-region counters that do not
depend on timing equal the reference's. Every agent and the coordinator exit 0 on SIGTERM at
the end.

  chaos_test.py [--bin build/bin] [--keep] [--reference-only] [--break-comparison]
                [--max-attempts N]

Controls (each must make the test FAIL): --break-comparison drops one chaos row, changes one
and duplicates one before comparing; --max-attempts 1 lets the chaos scan give up on the first
unit a fault costs its lease (agent_lost verdicts, i.e. lost results). --reference-only runs the
fault-free scan alone and prints its verdict counts (to size the world).

Needs root (Postfix on port 25, network namespaces, nftables): exit 77 (skipped) without it or
without ip, nft, postfix or unbound. About two minutes.
"""
import argparse
import collections
import csv
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

import mail_world  # noqa: E402
from loopback_block import LoopbackBlock  # noqa: E402
from netns_region import NetnsRegion, TcpRelay, remove_stale, wait_until  # noqa: E402
from private_postfix import PrivatePostfix  # noqa: E402
from private_unbound import PrivateUnbound  # noqa: E402
from tlsweep_scan import Agent, Coordinator  # noqa: E402

DOMAINS = 240
MX_NAMES = 48
LISTENERS = 24
LEASE_MS = 5000
HEARTBEAT_MS = 1000
LINK_DROP_S = 30
PAUSE_S = LEASE_MS / 1000 + 6
AGENT_RATE = "1.5"  # New connections per second per agent: the scan runs long enough.
# Waits for the end of a scan (after the last fault for the chaos scan). With set-up, the
# faults (42 s) and teardown, the worst case stays under ctest's TIMEOUT of 300 s.
REFERENCE_TIMEOUT_S = 80
CHAOS_TIMEOUT_S = 120
CANDIDATES = ["name=modern ciphers=ECDHE+AESGCM:ECDHE+CHACHA20 min=TLSv1.2",
              "name=tls13 min=TLSv1.3"]
REGIONS = ["host", "edge"]
# Listener policies, round-robin over the listeners (master.cf -o overrides).
POLICIES = {
    "std": [],
    "tls13only": ["smtpd_tls_protocols=>=TLSv1.3"],
    "tls12max": ["smtpd_tls_protocols=<=TLSv1.2"],
    "rsakx": ["smtpd_tls_protocols=<=TLSv1.2", "smtpd_tls_ciphers=high",
              "tls_high_cipherlist=AES128-GCM-SHA256:AES128-SHA"],
    "notls": ["smtpd_tls_security_level=none"],
}


class Checks:
    def __init__(self):
        self.failures = 0

    def check(self, condition, message):
        print(("PASS  " if condition else "FAIL  ") + message, flush=True)
        self.failures += 0 if condition else 1
        return condition


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def third_octet(block_prefix):
    """A /24 of 198.19.0.0/16 per loopback block, clear of the lab's 198.19.0-2.x."""
    block = int(block_prefix.split(".")[2])
    return block if block >= 3 else 250 + block


def free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def build_world(link):
    listeners, options = {}, {}
    policy_names = list(POLICIES)
    for i in range(LISTENERS):
        policy = policy_names[i % len(policy_names)]
        name = f"l{i}-{policy}"
        listeners[name] = link.address(10 + i)
        if POLICIES[policy]:
            options[name] = POLICIES[policy]
    world = mail_world.shared(listeners, providers=6, domains=DOMAINS, names=MX_NAMES)
    dead = link.address(6)  # On the link, nothing listens: connections are refused.
    extra = {
        "nullmx.customers.test": ["nullmx.customers.test. IN MX 0 ."],
        "noaddress.customers.test": ["noaddress.customers.test. IN MX 10 gone.p9.test."],
        "dead.customers.test": ["dead.customers.test. IN MX 10 mx.dead.test.",
                                f"mx.dead.test. IN A {dead}"],
        "implicit.customers.test": [f"implicit.customers.test. IN A {listeners['l0-std']}"],
        "nxdomain.customers.test": [],
    }
    for domain, records in extra.items():
        world.domains.append(domain)
        world.records += records
    return world, listeners, options


class Scenario:
    """One coordinator (its own store), the relay the edge region reaches it through, and the
    five agents."""

    def __init__(self, args, directory, label, block, link, unbound, domains_file):
        self.args = args
        self.directory = os.path.join(directory, label)
        os.makedirs(self.directory)
        self.domains_file = domains_file
        self.coordinator = Coordinator(
            args.bin, os.path.join(self.directory, "coordinator"), block.address(1),
            ["--lease-ms", str(LEASE_MS), "--heartbeat-ms", str(HEARTBEAT_MS),
             "--restart-grace-ms", str(LEASE_MS)],
            port=free_port(block.address(1)))
        self.relay = None
        self.link = link
        self.unbound = unbound
        self.agents = {}
        self.scan = None
        # The faults cost a unit at most a few leases; the reference never retries.
        self.max_attempts = args.max_attempts if label == "chaos" else 20

    def start(self):
        self.coordinator.start()
        self.relay = TcpRelay(self.link.host_address,
                              (self.coordinator.address, self.coordinator.port))
        common = ["--allow-private", "--resolver", self.unbound.endpoint, "--no-ipv6",
                  "--ehlo", "chaos.test", "--capacity", "2", "--rate", AGENT_RATE,
                  "--per-ip-spacing", "100", "--connect-timeout", "3000",
                  "--dns-timeout", "1000", "--batch-size", "5"]
        layout = [("host-spool", "host", True), ("host-mem", "host", False),
                  ("host-pause", "host", True), ("edge-spool", "edge", True),
                  ("edge-mem", "edge", False)]
        for name, region, spool in layout:
            flags = list(common)
            if spool:
                flags += ["--spool", os.path.join(self.directory, f"spool-{name}.db")]
            if region == "edge":
                agent = Agent(self.args.bin, self.directory, name, self.relay.endpoint, region,
                              flags, prefix=self.link.exec_prefix)
            else:
                agent = Agent(self.args.bin, self.directory, name, self.coordinator.endpoint,
                              region, flags)
            agent.region = region
            agent.start()
            self.agents[name] = agent

    def submit(self):
        self.scan = self.coordinator.submit(
            self.domains_file, REGIONS, CANDIDATES,
            ["--shard-size", "8", "--endpoint-shard-size", "1", "--lease-attempts",
             str(self.max_attempts)])
        return self.scan

    def status(self):
        """The scan's status, or None while the coordinator does not answer."""
        try:
            return json.loads(self.coordinator.cli("status", self.scan, "--json", "--timeout-ms",
                                                   "3000", timeout=10))
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError):
            return None

    def stop(self):
        """SIGTERM to every agent, then the coordinator; returns {program: exit status} of
        those that were still running (each should exit 0)."""
        codes = {}
        for name, agent in self.agents.items():
            agent.kill(signal.SIGCONT)
            if agent.exit_code() is None:
                agent.stop()
                codes[f"agent {name}"] = agent.exit_code()
        if self.relay:
            self.relay.stop()
            self.relay = None
        if self.coordinator.running():
            self.coordinator.stop()
            codes["coordinator"] = self.coordinator.exit_code()
        return codes


def region_progress(status, region):
    for entry in (status or {}).get("progress", []):
        if entry.get("region") == region:
            return entry
    return {}


def region_busy(status, region):
    """True while the region still has work: resolve shards or probe units not done."""
    if not status or status.get("state") != "SCAN_RUNNING":
        return False
    p = region_progress(status, region)
    shards = int(p.get("shards", 0))
    finished = int(p.get("shards_done", 0)) + int(p.get("shards_lost", 0))
    units = int(p.get("endpoint_shards", 0))
    return shards == 0 or finished < shards or int(p.get("endpoint_shards_done", 0)) < units


def describe(p):
    return (f"shards {p.get('shards_done', 0)}/{p.get('shards', 0)}, probe units "
            f"{p.get('endpoint_shards_done', 0)}/{p.get('endpoint_shards', 0)}, "
            f"results {p.get('results', 0)}")


class FaultLog:
    def __init__(self, scenario, started):
        self.scenario = scenario
        self.started = started
        self.entries = []

    def record(self, kind, what, region, status=None, leases=None):
        """Notes a fault (kind None: a recovery step) with the scan's state just before it
        (status None: ask now)."""
        if status is None:
            status = self.scenario.status()
        p = region_progress(status, region) if region else {}
        busy = (region_busy(status, region) if region
                else bool(status) and status.get("state") == "SCAN_RUNNING")
        progress = (describe(p) if p else
                    ("coordinator down" if status is None else status.get("state", "")))
        t = time.monotonic() - self.started
        # An agent fault must hit an agent at work: one holding a lease.
        busy = busy and (leases is None or leases > 0)
        self.entries.append((t, kind, what, region, busy, progress))
        log(f"t={t:5.1f}s  {what}  [{region or 'scan'}: {progress}]")


def leased_units(store, agent_id):
    """Units the store says `agent_id` holds a lease on now (state 1)."""
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM units WHERE agent_id=? AND state=1",
                              (agent_id,)).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def wait_for_lease(store, agent_id, timeout=5):
    """Waits (a little) until the agent holds a lease, so that its fault lands on work."""
    wait_until(lambda: leased_units(store, agent_id) > 0, timeout, interval=0.05)
    return leased_units(store, agent_id)


def sleep_until(started, t):
    delay = started + t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def run_chaos(scenario, link):
    """Submits and injects the faults; returns the FaultLog. Times are from the submit."""
    c, agents = scenario.coordinator, scenario.agents
    scenario.submit()
    started = time.monotonic()
    faults = FaultLog(scenario, started)
    kills = 0

    def kill_coordinator(note):
        nonlocal kills
        kills += 1
        faults.record("coordinator SIGKILL", f"coordinator SIGKILL {kills}{note}, restarted",
                      None)
        c.kill(signal.SIGKILL)
        time.sleep(1.0)
        c.start()

    def kill_agent(name):
        agent = agents[name]
        spool = "with spool" if "--spool" in agent.command else "no spool"
        leases = wait_for_lease(c.store, name)
        faults.record(f"agent SIGKILL ({spool})", f"agent {name} SIGKILL ({spool}, holding "
                      f"{leases} lease(s)), restarted", agent.region, leases=leases)
        agent.kill(signal.SIGKILL)
        time.sleep(0.5)
        agent.start()

    sleep_until(started, 3)
    kill_coordinator("")
    sleep_until(started, 6)
    kill_agent("edge-mem")
    kill_agent("host-spool")
    sleep_until(started, 9)
    leases = wait_for_lease(c.store, "host-pause")
    faults.record("agent SIGSTOP > lease", f"agent host-pause SIGSTOP for {PAUSE_S:.0f} s "
                  f"(lease {LEASE_MS} ms; holding {leases} lease(s))", "host", leases=leases)
    agents["host-pause"].kill(signal.SIGSTOP)
    pause_started = time.monotonic()
    sleep_until(started, 12)
    faults.record("link drop", f"edge link dropped (nftables) for {LINK_DROP_S} s", "edge")
    link.drop()
    drop_started = time.monotonic()
    sleep_until(started, 14)
    kill_coordinator(" (host-pause stopped, edge link down)")
    sleep_until(started, 18)
    kill_agent("edge-spool")
    time.sleep(max(0.0, pause_started + PAUSE_S - time.monotonic()))
    faults.record(None, "agent host-pause SIGCONT", "host")
    agents["host-pause"].kill(signal.SIGCONT)
    sleep_until(started, 22)
    kill_agent("host-mem")
    sleep_until(started, 30)
    kill_coordinator(" (edge link down)")
    time.sleep(max(0.0, drop_started + LINK_DROP_S - time.monotonic()))
    faults.record(None, "edge link restored", "edge")
    link.restore()
    return faults


def store_counts(store, scan):
    """Below the report, in the store: targets' own rows (DNS failures, agent_lost...) per
    (region, line, candidate, probe),
    routes per (region, endpoint, MX name) and endpoint results per (region, endpoint, MX name)
    (each a Counter of key -> rows). The first two do not depend on timing; the third does (an
    address's later names are probed themselves or covered by its first name's answer,
    docs/ARCHITECTURE.md), but never exceeds one row per candidate."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        def count(query):
            return collections.Counter(tuple(row) for row in db.execute(query, (scan,)))
        return {
            "results": count("SELECT region, line_number, candidate, probe FROM results "
                             "WHERE scan_id=?"),
            "routes": count("SELECT region, endpoint, name FROM routes WHERE scan_id=?"),
            "endpoint_results": count("SELECT region, endpoint, name FROM endpoint_results "
                                      "WHERE scan_id=?"),
        }
    finally:
        db.close()


def report_csv(coordinator, scan):
    result = subprocess.run([f"{coordinator.bin_dir}/tlsweep", "report", scan, "--store",
                             coordinator.store, "--format", "csv"], capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"tlsweep report exited {result.returncode}: {result.stderr}")
    return list(csv.DictReader(io.StringIO(result.stdout)))


def keyed(rows):
    """{(domain, region, candidate): [row without scan_id, ...]}"""
    out = collections.defaultdict(list)
    for row in rows:
        out[(row["domain"], row["region"], row["candidate"])].append(
            tuple((k, v) for k, v in row.items() if k != "scan_id"))
    return out


# Per-region counters that do not depend on how often a unit was leased (lease_attempts,
# probes and connections do: a retried unit probes again).
# How an address's names are grouped into probe units depends on timing too (endpoint_shards,
# endpoint_results): those are printed, not compared.
STABLE_COUNTERS = ("shards", "shards_done", "shards_lost", "targets_done", "targets_resolved",
                   "results", "endpoints", "names", "sni_dependent")
TIMING_COUNTERS = ("lease_attempts", "endpoint_shards", "endpoint_results", "probes",
                   "connections")


def progress_totals(status, counters=STABLE_COUNTERS):
    return {p.get("region"): {k: int(p.get(k, 0)) for k in counters}
            for p in status.get("progress", [])}


def compare(checks, world, reference, chaos, break_comparison):
    ref_rows, chaos_rows = reference["rows"], chaos["rows"]
    if break_comparison and len(chaos_rows) > 3:
        chaos_rows = [dict(r) for r in chaos_rows[1:]]
        chaos_rows[0]["tls_required_verdict"] = "broken-by-test"
        chaos_rows.append(dict(chaos_rows[1]))
        print("(--break-comparison: one chaos row dropped, one changed, one duplicated)")
    ref, got = keyed(ref_rows), keyed(chaos_rows)
    candidates = sorted({r["candidate"] for r in ref_rows})
    expected = {(d, r, c) for d in world.domains for r in REGIONS for c in candidates}
    checks.check(len(candidates) == len(CANDIDATES),
                 f"reference: {len(candidates)} candidates in the report ({', '.join(candidates)})")
    checks.check(set(ref) == expected and all(len(v) == 1 for v in ref.values()),
                 f"reference: one row per (domain, region, candidate): {len(ref_rows)} rows, "
                 f"{len(expected)} expected")
    duplicates = {k: len(v) for k, v in got.items() if len(v) > 1}
    missing = expected - set(got)
    extra = set(got) - expected
    checks.check(not duplicates, f"chaos: no duplicate (domain, region, candidate) row "
                 f"({len(duplicates)} duplicated{': ' + str(sorted(duplicates)[:5]) if duplicates else ''})")
    checks.check(not missing, f"chaos: no missing row ({len(missing)} missing"
                 f"{': ' + str(sorted(missing)[:5]) if missing else ''})")
    checks.check(not extra, f"chaos: no unexpected row ({len(extra)} extra"
                 f"{': ' + str(sorted(extra)[:5]) if extra else ''})")
    differ = sorted(k for k in expected & set(got) & set(ref) if got[k][0] != ref[k][0])
    checks.check(not differ, f"chaos: every row equals the fault-free run's "
                 f"({len(expected) - len(differ) - len(missing)} equal, {len(differ)} differ)")
    for k in differ[:5]:
        a, b = dict(ref[k][0]), dict(got[k][0])
        print(f"      {k}: " + ", ".join(f"{f}: {a[f]!r} -> {b.get(f)!r}" for f in a
                                           if a[f] != b.get(f)))
    lost = sum(1 for r in chaos_rows if r.get("failure") == "agent_lost")
    checks.check(lost == 0, f"chaos: no agent_lost verdict ({lost})")
    verdicts = collections.Counter(r["tls_required_verdict"] for r in ref_rows)
    checks.check(len(verdicts) >= 2, "the world gives more than one verdict: " +
                 ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))

    for table, what in (("results", "targets' own rows per (region, line, candidate, probe)"),
                        ("routes", "routes per (region, endpoint, MX name)")):
        a, b = reference["store"][table], chaos["store"][table]
        more = sum(1 for k, n in b.items() if n > a.get(k, 0))
        fewer = sum(1 for k, n in a.items() if b.get(k, 0) < n)
        checks.check(a == b, f"store: {what} as in the reference ({sum(b.values())} rows, "
                     f"reference {sum(a.values())}; {more} keys with more rows, {fewer} with "
                     f"fewer)")
    probed = chaos["store"]["endpoint_results"]
    over = {k: n for k, n in probed.items() if n > len(CANDIDATES)}
    checks.check(not over, f"store: at most one endpoint result per candidate per (region, "
                 f"endpoint, MX name) ({sum(probed.values())} rows over {len(probed)} names; "
                 f"{len(over)} over{': ' + str(sorted(over.items())[:3]) if over else ''})")
    addresses = {k[:2] for k in reference["store"]["endpoint_results"]}
    unprobed = addresses - {k[:2] for k in probed}
    checks.check(not unprobed, f"store: every endpoint the reference probed has results "
                 f"({len(addresses) - len(unprobed)}/{len(addresses)})")
    a, b = progress_totals(reference["status"]), progress_totals(chaos["status"])
    for region in REGIONS:
        differ = {k: (a.get(region, {}).get(k), v) for k, v in b.get(region, {}).items()
                  if a.get(region, {}).get(k) != v}
        checks.check(region in b and not differ,
                     f"status counters of {region} as in the reference "
                     f"({', '.join(f'{k} {v}' for k, v in b.get(region, {}).items())}"
                     f"{'; differ (reference, chaos): ' + str(differ) if differ else ''})")
    retries = progress_totals(chaos["status"], TIMING_COUNTERS)
    once = progress_totals(reference["status"], TIMING_COUNTERS)
    print(f"      timing-dependent counters: chaos {retries}, reference {once}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--reference-only", action="store_true",
                        help="run the fault-free scan only (to size the world)")
    parser.add_argument("--break-comparison", action="store_true",
                        help="corrupt the chaos rows before comparing: expect FAIL")
    parser.add_argument("--max-attempts", type=int, default=20,
                        help="leases of a unit before agent_lost (1: a control, expect FAIL)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("chaos_test: needs root (Postfix on port 25, network namespaces, nftables)")
        return 77
    for tool in ("ip", "nft", "postfix", "unbound"):
        if shutil.which(tool) is None:
            print(f"chaos_test: {tool} not found")
            return 77

    def terminated(signum, _frame):  # ctest's timeout, or ^C: tear down all the same.
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, terminated)
    for name in remove_stale():
        print(f"removed namespace {name} left by an earlier run that died")
    wall = time.monotonic()
    block = LoopbackBlock()
    link = NetnsRegion(os.getpid(), third_octet(block.prefix))
    directory = tempfile.mkdtemp(prefix="tlsweep-chaos-test-")
    os.chmod(directory, 0o755)  # The postfix user must reach the Postfix folder.
    checks = Checks()
    postfix = unbound = None
    scenarios = []
    try:
        link.create()
        world, listeners, options = build_world(link)
        for address in [link.address(5), link.address(6), *listeners.values()]:
            link.add_server_address(address)
        postfix = PrivatePostfix(os.path.join(directory, "postfix"), listeners,
                                 probe_source=block.address(254), listener_options=options)
        unbound = PrivateUnbound(os.path.join(directory, "unbound"), link.address(5),
                                 mail_world.ZONE, world.records,
                                 allow=("127.0.0.0/8", f"{link.prefix}0/24"))
        postfix.start()
        unbound.start()
        domains = os.path.join(directory, "domains.txt")
        world.write_domains(domains)
        log(f"world: {len(world.domains)} domains, {len(listeners)} Postfix listeners "
            f"({', '.join(POLICIES)}), regions {REGIONS} (edge in namespace {link.name}), "
            f"{len(CANDIDATES)} candidates")

        results = {}
        for label in ("reference",) if args.reference_only else ("reference", "chaos"):
            scenario = Scenario(args, directory, label, block, link, unbound, domains)
            scenarios.append(scenario)
            scenario.start()
            started = time.monotonic()
            faults = None
            if label == "reference":
                scenario.submit()
            else:
                faults = run_chaos(scenario, link)
            status = scenario.coordinator.wait(
                scenario.scan, REFERENCE_TIMEOUT_S if label == "reference" else CHAOS_TIMEOUT_S)
            elapsed = time.monotonic() - started
            log(f"{label} scan {scenario.scan} ended {status.get('state')} after {elapsed:.1f} s")
            checks.check(status.get("state") == "SCAN_DONE",
                         f"{label}: scan ended {status.get('state')} ({elapsed:.1f} s)")
            results[label] = {"status": status, "rows": report_csv(scenario.coordinator,
                                                                    scenario.scan),
                              "store": store_counts(scenario.coordinator.store, scenario.scan),
                              "elapsed": elapsed, "faults": faults}
            codes = scenario.stop()
            crashed = {k: v for k, v in codes.items() if v != 0}
            checks.check(len(codes) == 6 and not crashed,
                         f"{label}: the {len(codes)} programs exit 0 on SIGTERM after the scan"
                         f"{' (not: ' + str(crashed) + ')' if crashed else ''}")
            for name in crashed:
                if name.startswith("agent "):
                    print("      " + open(scenario.agents[name[6:]].log).read()[-400:].replace(
                        "\n", "\n      "))
            print(f"      {label} counters: {progress_totals(status)}")
        if args.reference_only:
            rows = results["reference"]["rows"]
            print(collections.Counter((r["region"], r["candidate"], r["tls_required_verdict"],
                                       r["failure"]) for r in rows))
            return 0
        faults = results["chaos"]["faults"]
        for t, _, what, region, busy, progress in faults.entries:
            checks.check(busy, f"step at t={t:.1f}s while the scan ran"
                         f"{' in ' + region if region else ''}: {what}")
        compare(checks, world, results["reference"], results["chaos"], args.break_comparison)
        kinds = collections.Counter(kind for _, kind, _, _, _, _ in faults.entries if kind)
        print("summary: faults: " + ", ".join(f"{n} x {k}" for k, n in kinds.items()))
        print(f"summary: {len(results['chaos']['rows'])} verdict rows in the chaos scan, "
              f"{len(results['reference']['rows'])} in the reference "
              f"({len(world.domains)} domains x {len(REGIONS)} regions x {len(CANDIDATES)} "
              f"candidates = {len(world.domains) * len(REGIONS) * len(CANDIDATES)}); scans took "
              f"{results['reference']['elapsed']:.0f} s (reference) and "
              f"{results['chaos']['elapsed']:.0f} s (chaos)")
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - a harness failure fails.
        checks.check(False, f"harness: {type(error).__name__}: {error}")
        if postfix:
            print(postfix.log_tail(10))
        args.keep = True
    finally:
        for scenario in scenarios:
            try:
                scenario.stop()
            except Exception as error:  # noqa: BLE001
                print(f"teardown: {error}")
        if unbound:
            unbound.stop()
        if postfix:
            postfix.stop()
        link.destroy()
        block.release()
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"wall time {time.monotonic() - wall:.0f} s")
    print(f"{'FAILED' if checks.failures else 'OK'}: {checks.failures} check(s) failed")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
