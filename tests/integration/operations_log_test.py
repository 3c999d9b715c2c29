#!/usr/bin/env python3
"""What an operator sees of a running scan, from the real programs (issue 12): one structured
(logfmt) line per scan state change, lease grant and agent connect and disconnect, in the
coordinator's and the agent's logs; and /metrics that follow Prometheus' conventions (`_total`
only on counters, stored rows as gauges, duration histograms, a region label on every agent
sample).

The scan needs no server: its targets are loopback ports nothing listens on (tcp_refused is a
result like any other), so the test is quick and needs no root.

  operations_log_test.py [--bin build/bin]
"""
import argparse
import os
import re
import socket
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "testing"))
import tlsweep_scan  # noqa: E402

failures = 0


def check(condition, message):
    global failures
    print(("PASS  " if condition else "FAIL  ") + message)
    failures += 0 if condition else 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def events(log_path, event):
    """The logfmt lines of `event`, as dicts (quoted values unquoted)."""
    found = []
    for line in open(log_path, errors="replace"):
        if f" event={event} " not in line + " ":
            continue
        fields = dict((k, v1 if v1 else v2.replace('\\"', '"'))
                      for k, v1, v2 in re.findall(r'(\w+)=(?:([^"\s]+)|"((?:[^"\\]|\\.)*)")',
                                                  line))
        found.append(fields)
    return found


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode()


def conventions(text, who):
    """Checks the exposition text: every family typed, `_total` exactly on counters."""
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    check(types, f"{who}: /metrics has typed families")
    for name, kind in types.items():
        check((kind == "counter") == name.endswith("_total"),
              f"{who}: {name} is a {kind}: `_total` only on counters")
    for sample in sorted(set(re.findall(r"^([a-z_]+)(?:\{|\s)", text, re.M))):
        family = re.sub(r"_(bucket|sum|count)$", "", sample) if sample not in types else sample
        check(family in types, f"{who}: sample {sample} belongs to a typed family")
    return types


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="build/bin")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        http_port = free_port()
        coordinator = tlsweep_scan.Coordinator(args.bin, work, "127.0.0.1",
                                               ["--http-listen", f"127.0.0.1:{http_port}"])
        coordinator.start()
        metrics_port = free_port()
        agent = tlsweep_scan.Agent(args.bin, work, "ops-eu-1", coordinator.endpoint, "eu",
                                   ["--allow-private", "--metrics-listen",
                                    f"127.0.0.1:{metrics_port}", "--per-ip-spacing", "0",
                                    "--connect-timeout", "2000"])
        agent.start()
        targets = os.path.join(work, "targets.txt")
        with open(targets, "w") as f:
            for port in (free_port(), free_port(), free_port()):
                f.write(f"127.0.0.1:{port}\n")
        try:
            scan = coordinator.submit(targets, ["eu"], ["name=current"])
            status = coordinator.wait(scan, 60)
            check(status.get("state") == "SCAN_DONE", f"scan {scan} done: {status.get('state')}")
            time.sleep(1.5)  # The state log samples at least once a second.
            coordinator_metrics = fetch(f"http://127.0.0.1:{http_port}/metrics")
            agent_metrics = fetch(f"http://127.0.0.1:{metrics_port}/metrics")
        finally:
            agent.stop()
            time.sleep(0.5)
            coordinator.stop()

        states = [(e.get("from"), e.get("to")) for e in events(coordinator.log, "scan_state")
                  if e.get("scan") == scan]
        check(states and states[-1][1] == "done" and states[0][0] == "new",
              f"coordinator: the scan's state changes are logged, first seen to done: {states}")
        check(all(a != b for a, b in states) and
              all(states[i][1] == states[i + 1][0] for i in range(len(states) - 1)),
              "coordinator: each scan_state line is one change, and they chain")
        grants = [e for e in events(coordinator.log, "lease_granted") if e.get("scan") == scan]
        check(grants and all(e.get("agent") == "ops-eu-1" and e.get("region") == "eu" and
                             e.get("lease", "").isdigit() for e in grants),
              f"coordinator: {len(grants)} lease grants logged with agent, region, lease")
        connected = events(coordinator.log, "agent_connected")
        check(len(connected) == 1 and connected[0].get("agent") == "ops-eu-1" and
              connected[0].get("region") == "eu", f"coordinator: agent_connected {connected}")
        gone = events(coordinator.log, "agent_disconnected")
        check(len(gone) == 1 and gone[0].get("agent") == "ops-eu-1",
              f"coordinator: agent_disconnected when the agent stopped: {gone}")
        agent_grants = [e for e in events(agent.log, "lease_granted") if e.get("scan") == scan]
        check(len(agent_grants) == len(grants),
              f"agent: {len(agent_grants)} lease grants logged, as many as the coordinator's")
        check(len(events(agent.log, "connected")) == 1, "agent: connected logged once")

        types = conventions(coordinator_metrics, "coordinator")
        check(types.get("tlsweep_results_stored") == "gauge" and
              types.get("tlsweep_scans") == "gauge", "coordinator: stored rows are gauges")
        check(types.get("tlsweep_batch_ingest_duration_seconds") == "histogram",
              "coordinator: batch ingest duration is a histogram")
        count = re.search(r"^tlsweep_batch_ingest_duration_seconds_count (\d+)$",
                          coordinator_metrics, re.M)
        ingested = re.search(r"^tlsweep_results_ingested_total (\d+)$", coordinator_metrics, re.M)
        check(count and int(count.group(1)) > 0 and ingested and int(ingested.group(1)) > 0,
              f"coordinator: batches were timed ({count and count.group(1)}) and results "
              f"counted ({ingested and ingested.group(1)})")
        check(re.search(r'^tlsweep_agents_connected\{region="eu"\} 1$', coordinator_metrics,
                        re.M) is not None, "coordinator: connected agents by region")
        conventions(agent_metrics, "agent")
        samples = [line for line in agent_metrics.splitlines() if line and line[0] != "#"]
        check(samples and all('region="eu"' in line for line in samples),
              f"agent: every one of {len(samples)} samples has region=\"eu\"")
        probes = re.search(r'^tlsweep_agent_probe_duration_seconds_count\{region="eu",'
                           r'probe="starttls"\} (\d+)$', agent_metrics, re.M)
        check(probes and int(probes.group(1)) >= 3,
              f"agent: probe durations observed ({probes and probes.group(1)})")
    print("FAILED" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
