#!/usr/bin/env python3
"""Agent politeness as the mail servers see it: connections counted in a real Postfix's log.

Starts its own world on loopback (a private Postfix with one listener per address, unbound
serving a generated zone, a `tlsweep-coordinator --dev`), runs distributed scans with
tlsweep-agent processes of one region, and from the Postfix log (stamped to the microsecond on
arrival, see tests/testing/private_postfix.py) prints, per scenario, what the agents' limits
promise against what the servers got:

  (a) one agent, --capacity 64        (b) one agent, --capacity 1 (same flags otherwise)
  (c) two agents of one region, --capacity 16 each
  (d) the hosted shape: every domain its own MX name, all on one address
  (e) control: four regions of one agent each, i.e. four independent politeness gates on the
      same servers, the shape per-unit gates had before one gate per agent. Limits hold per
      region by design, so EXCEEDED is expected here: it shows the meter sees a breach.

Every other listener pauses 1 s before its banner: on loopback a probe lasts a few ms, less
than any spacing, so only there can a per-IP or per-provider concurrency limit be seen at work.

Figures: peak connection starts in any 1 s window and the mean rate (limit: --rate); per
listener address the smallest gap between two connection starts (limit: --per-ip-spacing) and
the most connections open at once (limit: --per-ip); the most open at once per provider
(--per-provider); connections per listener against the domains and MX names behind it; wall
time. It is a benchmark: a limit exceeded is reported, not an error. Exit status 1 only when
the harness itself failed (a server did not start, a scan did not finish).

  bench/politeness_bench.py [--bin build/bin] [--quick] [--keep] [--scenarios a,b,c,d,e]

Needs root (Postfix on port 25). --quick is the CI size (well under a minute); --keep leaves the
temporary folder (maillog, agent and coordinator logs, store) and prints its path.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

import mail_world  # noqa: E402
import postfix_log  # noqa: E402
from loopback_block import LoopbackBlock  # noqa: E402
from private_postfix import PrivatePostfix  # noqa: E402
from private_unbound import PrivateUnbound  # noqa: E402
from tlsweep_scan import Agent, Coordinator  # noqa: E402

# The limits every agent runs with (scenarios differ in agents, capacity and regions only).
RATE = 5.0           # --rate, connections/s
PER_IP = 1           # --per-ip
SPACING_MS = 250     # --per-ip-spacing
PER_PROVIDER = 2     # --per-provider (3-4 listeners a provider, so that it can bind too)
# Stamps are arrival times at the log reader: event time plus a delay of well under a ms idle
# and a few ms under load; and the agent spaces its permits, connect() following each by a few
# ms more or less (gaps of 289-301 ms were seen for a 300 ms spacing). A gap is judged short
# only below spacing - TOLERANCE, an overlap counts only if longer than TOLERANCE, and the rate
# window is 1 s - TOLERANCE.
TOLERANCE_S = 0.020
REGION = "bench"
CANDIDATES = ["name=default ciphers=DEFAULT",
              "name=modern ciphers=ECDHE+AESGCM:ECDHE+CHACHA20 min=TLSv1.2"]

GREETING_DELAY_S = 1  # On every other listener (l2, l4, ...).

SIZES = {
    # listeners, providers (listeners split evenly), domains, MX names, candidates, hosted
    # domains, targets per resolve shard, endpoints per probe unit.
    "quick": dict(listeners=6, providers=2, domains=60, names=24, candidates=2, hosted=40,
                  shard_size=30, endpoint_shard_size=4, timeout=60),
    "full": dict(listeners=16, providers=4, domains=400, names=160, candidates=2, hosted=300,
                 shard_size=50, endpoint_shard_size=4, timeout=300),
}

# key: (title, world shape, agents as (region, --capacity)).
SCENARIOS = {
    "a": ("one agent, capacity 64", "shared", [(REGION, 64)]),
    "b": ("one agent, capacity 1", "shared", [(REGION, 1)]),
    "c": ("two agents of a region, capacity 16", "shared", [(REGION, 16), (REGION, 16)]),
    "d": ("hosted shape, capacity 64", "hosted", [(REGION, 64)]),
    "e": ("control: 4 regions x 1 agent", "shared", [(f"r{n}", 16) for n in range(1, 5)]),
}


def agent_flags(resolver):
    return ["--allow-private", "--resolver", resolver, "--no-ipv6", "--ehlo", "bench.test",
            "--rate", str(RATE), "--per-ip", str(PER_IP), "--per-ip-spacing", str(SPACING_MS),
            "--per-provider", str(PER_PROVIDER)]


class Bench:
    def __init__(self, args):
        self.args = args
        self.size = SIZES["quick" if args.quick else "full"]
        self.candidates = CANDIDATES[:self.size["candidates"]]
        self.block = LoopbackBlock()
        self.directory = tempfile.mkdtemp(prefix="tlsweep-politeness-")
        os.chmod(self.directory, 0o755)  # The postfix user must reach the Postfix folder.
        listeners = {f"l{i + 1}": self.block.address(11 + i)
                     for i in range(self.size["listeners"])}
        self.worlds = {
            "shared": mail_world.shared(listeners, self.size["providers"], self.size["domains"],
                                        self.size["names"]),
            "hosted": mail_world.hosted("hosted", self.block.address(30), self.size["hosted"]),
        }
        self.addresses = dict(listeners, hosted=self.block.address(30))
        slow = {name: GREETING_DELAY_S for i, name in enumerate(listeners) if i % 2 == 1}
        self.postfix = PrivatePostfix(os.path.join(self.directory, "postfix"), self.addresses,
                                      probe_source=self.block.address(254),
                                      greeting_delays=slow)
        records = self.worlds["shared"].records + self.worlds["hosted"].records
        self.unbound = PrivateUnbound(os.path.join(self.directory, "unbound"),
                                      self.block.address(53), mail_world.ZONE, records)
        self.coordinator = Coordinator(self.args.bin, os.path.join(self.directory, "coordinator"),
                                       self.block.address(1))

    def start(self):
        self.postfix.start()
        self.unbound.start()
        self.coordinator.start()

    def stop(self):
        self.coordinator.stop()
        self.unbound.stop()
        self.postfix.stop()
        self.block.release()
        if self.args.keep:
            print(f"kept {self.directory}")
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    def run(self, key):
        title, shape, agent_specs = SCENARIOS[key]
        world = self.worlds[shape]
        domains = os.path.join(self.directory, f"domains-{shape}.txt")
        world.write_domains(domains)
        regions = sorted({region for region, _ in agent_specs})
        agents = [Agent(self.args.bin, self.directory, f"{key}{n}", self.coordinator.endpoint,
                        region, agent_flags(self.unbound.endpoint) + ["--capacity", str(c)])
                  for n, (region, c) in enumerate(agent_specs)]
        offset = self.postfix.log_size()
        for agent in agents:
            agent.start()
        try:
            scan = self.coordinator.submit(
                domains, regions, self.candidates,
                ["--name", f"politeness-{key}", "--shard-size", str(self.size["shard_size"]),
                 "--endpoint-shard-size", str(self.size["endpoint_shard_size"])])
            status = self.coordinator.wait(scan, self.size["timeout"])
        finally:
            for agent in agents:
                agent.stop()
        time.sleep(0.3)  # The last "disconnect" lines reach the log.
        if status["state"] != "SCAN_DONE":
            raise RuntimeError(f"scan {key} ended {status['state']}: {status.get('detail')}")
        rows = self.coordinator.report_rows(scan)
        answered = {(row["domain"], row["region"]) for row in rows}
        if len(answered) != len(world.domains) * len(regions):
            raise RuntimeError(f"scan {key}: {len(answered)} of {len(world.domains)} domains x "
                               f"{len(regions)} region(s) have a result")
        log = postfix_log.read_connections(self.postfix.maillog, offset,
                                           exclude_clients={self.postfix.probe_source})
        return figures(key, title, world, log, status, rows, len(self.candidates),
                       self.postfix.greeting_delays)


def figures(key, title, world, log, status, rows, candidates, greeting_delays):
    connections = log.connections
    starts = [c.start for c in connections]
    per_listener = postfix_log.by_listener(connections)
    listeners = {}
    for name, domains in world.domains_per_listener().items():
        conns = per_listener.get(name, [])
        gap = postfix_log.min_spacing([c.start for c in conns])
        listeners[name] = dict(
            greeting=f"{greeting_delays[name]} s" if name in greeting_delays else "prompt",
            domains=domains, names=world.names_per_listener()[name], connections=len(conns),
            min_gap_ms=None if gap is None else gap * 1000,
            short_gaps=postfix_log.close_starts([c.start for c in conns],
                                                SPACING_MS / 1000 - TOLERANCE_S),
            max_open=postfix_log.max_open(conns, TOLERANCE_S))
    providers = {}
    for listener, provider in world.provider_of.items():
        providers.setdefault(provider, []).extend(per_listener.get(listener, []))
    regions = status.get("progress") or []
    ok = sum(1 for row in rows if row.get("tls_required_verdict") == "ok")
    return dict(
        key=key, title=title, connections=len(connections), precise=log.precise,
        agent_connections=sum(int(r.get("connections", 0)) for r in regions),
        regions=max(len(regions), 1),
        wall_s=(int(status["finished_unix_ms"]) - int(status["created_unix_ms"])) / 1000,
        peak=postfix_log.peak_per_window(starts, 1.0),
        peak_tolerant=postfix_log.peak_per_window(starts, 1.0 - TOLERANCE_S),
        mean_rate=postfix_log.mean_rate(starts), listeners=listeners,
        provider_max_open=max((postfix_log.max_open(c, TOLERANCE_S)
                               for c in providers.values()), default=0),
        domains=len(world.domains), ok_rows=ok, rows=len(rows), candidates=candidates)


def verdict(good):
    return "ok" if good else "EXCEEDED"


def print_summary(results):
    print(f"\nLimits: --rate {RATE:g}/s, --per-ip {PER_IP}, --per-ip-spacing {SPACING_MS} ms, "
          f"--per-provider {PER_PROVIDER}; tolerance {TOLERANCE_S * 1000:.0f} ms "
          "(server stamps are arrival times at the log reader)")
    header = ("scenario", "wall s", "conns", "peak/1s", "mean/s", "min gap ms", "max open/IP",
              "max open/prov", "within limits")
    rows = []
    for r in results:
        gaps = [v["min_gap_ms"] for v in r["listeners"].values() if v["min_gap_ms"] is not None]
        worst_gap = min(gaps) if gaps else None
        worst_open = max(v["max_open"] for v in r["listeners"].values())
        checks = {"rate": r["peak_tolerant"] <= RATE,
                  "spacing": all(v["short_gaps"] == 0 for v in r["listeners"].values()),
                  "per-ip": worst_open <= PER_IP,
                  "provider": r["provider_max_open"] <= PER_PROVIDER}
        broken = [name for name, good in checks.items() if not good]
        rows.append((f"({r['key']}) {r['title']}", f"{r['wall_s']:.1f}", str(r["connections"]),
                     f"{r['peak']} ({verdict(checks['rate'])})", f"{r['mean_rate']:.1f}",
                     "-" if worst_gap is None else
                     f"{worst_gap:.0f} ({verdict(checks['spacing'])})",
                     f"{worst_open} ({verdict(checks['per-ip'])})",
                     f"{r['provider_max_open']} ({verdict(checks['provider'])})",
                     "yes" if not broken else "no: " + ", ".join(broken)))
    print_table(header, rows)
    print(f"peak/1s: most connection starts in any 1 s window; judged over 1 s - "
          f"{TOLERANCE_S * 1000:.0f} ms, since starts exactly 1/rate apart put rate + 1 of them "
          "in a closed 1 s window.\nmin gap: smallest gap between two connection starts to one "
          "address; max open: most connections open at once to one address / one provider "
          "(all listeners of a provider).")


def print_listeners(r):
    print(f"\n({r['key']}) {r['title']}: {r['connections']} connections seen by the servers, "
          f"{r['agent_connections']} reported by the agents; {r['ok_rows']} of {r['rows']} "
          f"domain results ok ({r['domains']} domains x {r['candidates']} candidate(s) x "
          f"{r['regions']} region(s))")
    header = ("listener", "greeting", "domains", "MX names", "conns", "conns/candidate",
              "design", "min gap ms", f"gaps <{SPACING_MS - TOLERANCE_S * 1000:.0f} ms",
              "max open")
    rows = []
    for name, v in sorted(r["listeners"].items(), key=lambda item: _natural(item[0])):
        # Design (docs/ARCHITECTURE.md): per region, one probe per (address, port) and candidate,
        # plus one handshake under a second MX name to check that the answer does not depend on
        # SNI; a server whose answer does would be probed per name (not the case here: one
        # certificate for every name).
        design = r["regions"] * (r["candidates"] + (1 if v["names"] > 1 else 0))
        rows.append((name, v["greeting"], str(v["domains"]), str(v["names"]),
                     str(v["connections"]), f"{v['connections'] / r['candidates']:.1f}",
                     str(design), "-" if v["min_gap_ms"] is None else f"{v['min_gap_ms']:.0f}",
                     str(v["short_gaps"]), str(v["max_open"])))
    print_table(header, rows)


def _natural(name):
    """l2 before l10."""
    digits = "".join(c for c in name if c.isdigit())
    return (name.rstrip("0123456789"), int(digits) if digits else 0)


def print_table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "bin"),
                        help="directory of tlsweep, tlsweep-agent, tlsweep-coordinator")
    parser.add_argument("--quick", action="store_true", help="the CI size (under a minute)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="which of a,b,c,d,e")
    args = parser.parse_args()
    keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    if any(k not in SCENARIOS for k in keys):
        parser.error(f"--scenarios: pick from {','.join(SCENARIOS)}")
    if os.geteuid() != 0:
        print("politeness_bench: needs root (Postfix listens on port 25)", file=sys.stderr)
        return 1
    for program in ("tlsweep", "tlsweep-agent", "tlsweep-coordinator"):
        if not os.access(os.path.join(args.bin, program), os.X_OK):
            print(f"politeness_bench: no {program} in {args.bin} (--bin)", file=sys.stderr)
            return 1
    bench = Bench(args)
    results = []
    started = time.monotonic()
    try:
        bench.start()
        size = "quick" if args.quick else "full"
        print(f"politeness_bench ({size}): {len(bench.worlds['shared'].domains)} domains over "
              f"{bench.size['names']} MX names on {bench.size['listeners']} listeners "
              f"({bench.size['providers']} providers); hosted: {bench.size['hosted']} domains, "
              f"one MX name each, one address; {len(bench.candidates)} candidate(s)")
        for key in keys:
            results.append(bench.run(key))
            print_listeners(results[-1])
    except Exception as error:  # noqa: BLE001 - any harness failure: say what, exit 1.
        print(f"politeness_bench: harness failed: {error}", file=sys.stderr)
        print(bench.postfix.log_tail(10), file=sys.stderr)
        bench.args.keep = True
        return 1
    finally:
        bench.stop()
    if results and not results[0]["precise"]:
        print("warning: the maillog had second-resolution stamps only", file=sys.stderr)
    print_summary(results)
    print(f"\ntotal {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
