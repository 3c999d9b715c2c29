#!/usr/bin/env python3
"""Politeness holds per region, counted at the server: several agents of one region, each
running several units at once (3 agents x --capacity 8), scan 60 domains whose 30 MX names sit
on 3 Postfix listeners, with --per-ip 1 and --per-ip-spacing 300 and no global rate cap (so
the spacing alone keeps starts to one address apart). From the Postfix log (each line stamped
on arrival to the microsecond, tests/testing/private_postfix.py) it checks that

- no listener ever had two connections open at once (one listener pauses 1 s before its
  banner, so that there each connection outlives the spacing and only the concurrency limit
  keeps connections apart);
- no two connection starts to one listener were less than 300 ms apart;
- the scan did the work: one ok result per domain and candidate, every listener got at least
  one connection per candidate, and the servers logged as many connections as the agents
  reported (so a parsing slip cannot make the checks pass on nothing).

Tolerance: 40 ms. A stamp is the event time plus the smtpd -> postlogd -> pipe delay (under a
millisecond idle, a few ms under load), and the agent's gate spaces the permits, after which
connect() follows by a delay that also varies by a few ms: server-side gaps of 289-301 ms were
seen for a 300 ms spacing on this 2-core machine while it was compiling, and 280 ms once in CI
(master may have to start a fresh smtpd for one connection and not for the next). The gate's
own spacing is asserted exactly in tests/agent/politeness; this test is about the region. Likewise smtpd logs
"disconnect" just after its last reply while the client, already done, may be connecting
again, so an overlap shorter than the tolerance is not counted. RUN_SERIAL keeps other tests'
load from widening this.

With one politeness gate per leased unit (before commits ffd93b6 and d6d8dae), units of one
agent and agents of one region probed one address at the same time and these checks would fail.
`--control` shows that they can: the same scan with the three agents in three regions (three
independent gates, as the per-unit gates were) is expected to FAIL the politeness checks while
the work checks still pass.

  politeness_region_test.py [--bin build/bin] [--keep] [--control]

Needs root (Postfix on port 25): exit 77 (skipped) without it.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

import mail_world  # noqa: E402
import postfix_log  # noqa: E402
from loopback_block import LoopbackBlock  # noqa: E402
from private_postfix import PrivatePostfix  # noqa: E402
from private_unbound import PrivateUnbound  # noqa: E402
from tlsweep_scan import Agent, Coordinator  # noqa: E402

AGENTS = 3
CAPACITY = 8
DOMAINS = 60
MX_NAMES = 30
SPACING_MS = 300
TOLERANCE_S = 0.040
SLOW_LISTENER = "l2"  # 1 s before the banner.
CANDIDATES = ["name=default ciphers=DEFAULT",
              "name=modern ciphers=ECDHE+AESGCM:ECDHE+CHACHA20 min=TLSv1.2",
              "name=tls12 max=TLSv1.2"]
SCAN_TIMEOUT_S = 75


class Checks:
    def __init__(self):
        self.failures = 0

    def check(self, condition, message):
        print(("PASS  " if condition else "FAIL  ") + message)
        self.failures += 0 if condition else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--control", action="store_true",
                        help="one agent per region (independent gates): expect FAILs")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("politeness_region_test: needs root (Postfix on port 25)")
        return 77

    block = LoopbackBlock()
    directory = tempfile.mkdtemp(prefix="tlsweep-politeness-test-")
    os.chmod(directory, 0o755)  # The postfix user must reach the Postfix folder.
    listeners = {f"l{i}": block.address(10 + i) for i in (1, 2, 3)}
    world = mail_world.shared(listeners, providers=len(listeners), domains=DOMAINS,
                              names=MX_NAMES)
    postfix = PrivatePostfix(os.path.join(directory, "postfix"), listeners,
                             probe_source=block.address(254), greeting_delays={SLOW_LISTENER: 1})
    unbound = PrivateUnbound(os.path.join(directory, "unbound"), block.address(53),
                             mail_world.ZONE, world.records)
    coordinator = Coordinator(args.bin, os.path.join(directory, "coordinator"), block.address(1))
    regions = [f"r{n}" for n in range(AGENTS)] if args.control else ["region"]
    agents = []
    checks = Checks()
    try:
        postfix.start()
        unbound.start()
        coordinator.start()
        domains = os.path.join(directory, "domains.txt")
        world.write_domains(domains)
        flags = ["--allow-private", "--resolver", unbound.endpoint, "--no-ipv6", "--ehlo",
                 "politeness.test", "--capacity", str(CAPACITY), "--rate", "0", "--per-ip", "1",
                 "--per-ip-spacing", str(SPACING_MS)]
        for n in range(AGENTS):
            agents.append(Agent(args.bin, directory, f"agent{n}", coordinator.endpoint,
                                regions[n % len(regions)], flags))
            agents[-1].start()
        offset = postfix.log_size()
        started = time.monotonic()
        # Small units, so that every agent gets some and each runs several at once.
        scan = coordinator.submit(domains, regions, CANDIDATES,
                                  ["--shard-size", "10", "--endpoint-shard-size", "1"])
        status = coordinator.wait(scan, SCAN_TIMEOUT_S)
        elapsed = time.monotonic() - started
        checks.check(all(agent.running() for agent in agents), "every agent ran to the end")
        for agent in agents:
            agent.stop()
        time.sleep(0.3)  # The last "disconnect" lines reach the log.
        verify(checks, coordinator, scan, status, postfix, offset, world, regions, elapsed)
    except Exception as error:  # noqa: BLE001 - a harness failure is a test failure.
        checks.check(False, f"harness: {error}")
        print(postfix.log_tail(20))
        args.keep = True
    finally:
        for agent in agents:
            agent.stop()
        coordinator.stop()
        unbound.stop()
        postfix.stop()
        block.release()
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"{'FAILED' if checks.failures else 'OK'}: {checks.failures} check(s) failed")
    return 1 if checks.failures else 0


def verify(checks, coordinator, scan, status, postfix, offset, world, regions, elapsed):
    checks.check(status["state"] == "SCAN_DONE", f"scan {scan} ended {status['state']} "
                 f"after {elapsed:.1f} s")
    rows = coordinator.report_rows(scan)
    ok = {(row["domain"], row["region"], row["candidate"]) for row in rows
          if row["tls_required_verdict"] == "ok"}
    expected = len(world.domains) * len(regions) * len(CANDIDATES)
    checks.check(len(ok) == expected == len(rows),
                 f"one ok result per domain, region and candidate ({len(ok)} ok of {len(rows)} "
                 f"rows, {expected} expected)")

    log = postfix_log.read_connections(postfix.maillog, offset,
                                       exclude_clients={postfix.probe_source})
    checks.check(log.precise, "the maillog lines carry sub-second stamps")
    reported = sum(int(region.get("connections", 0)) for region in status.get("progress", []))
    checks.check(len(log.connections) == reported,
                 f"the servers logged {len(log.connections)} connections, the agents reported "
                 f"{reported}")
    per_listener = postfix_log.by_listener(log.connections)
    spacing = SPACING_MS / 1000
    for name in sorted(world.names_per_listener()):
        connections = per_listener.get(name, [])
        starts = [c.start for c in connections]
        gap = postfix_log.min_spacing(starts)
        gap_text = "-" if gap is None else f"{gap * 1000:.0f} ms"
        checks.check(len(connections) >= len(CANDIDATES),
                     f"{name}: {len(connections)} connections (at least one per candidate)")
        most = postfix_log.max_open(connections, TOLERANCE_S)
        checks.check(most <= 1, f"{name}: at most 1 connection open at once (saw {most})")
        short = postfix_log.close_starts(starts, spacing - TOLERANCE_S)
        checks.check(short == 0, f"{name}: no two starts closer than {SPACING_MS} ms - "
                     f"{TOLERANCE_S * 1000:.0f} ms ({short} closer; smallest gap {gap_text})")


if __name__ == "__main__":
    sys.exit(main())
