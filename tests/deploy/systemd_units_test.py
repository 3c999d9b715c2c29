#!/usr/bin/env python3
"""Checks the systemd units in deploy/systemd as systemd would run them.

tlsweep-agent@.service is rendered for two regions on one host, "eu" and "us": %i is
replaced, Environment= and EnvironmentFile= are read (the files are written as the unit's
header comment tells an operator to write them; a missing "-" file is skipped) and ExecStart
is expanded (${VAR} is one argument, even empty). Then:
- --metrics-listen is not a fixed HOST:PORT in the unit, but comes from the environment;
- with the documented per-region files the two instances listen on different addresses, and
  without them they do not collide either (the listener is off);
- each instance has its own --region, state directory (spool), certificate and key.

tlsweep-coordinator.service: --http-listen (plain HTTP: report pages, downloads, /metrics) is
on a loopback address, and a comment says how to expose it (a reverse proxy with TLS).

Usage: systemd_units_test.py REPO_ROOT
"""
import ipaddress
import pathlib
import re
import shlex
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1])
UNITS = ROOT / "deploy/systemd"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def settings(text):
    """[(key, value)] of the [Service] section, continuation lines joined."""
    text = text.replace("\\\n", " ")
    section, result = None, []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            result.append((key.strip(), value.strip()))
    return result


def render(text, instance, etc):
    """The argv and environment systemd would give instance; /etc/tlsweep is read from etc."""
    text = text.replace("%i", instance)
    env = {}
    items = settings(text)
    for key, value in items:
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, val = assignment.partition("=")
                env[name] = val
        if key == "StateDirectory":
            env["STATE_DIRECTORY"] = "/var/lib/" + value
    for key, value in items:  # EnvironmentFile= overrides Environment=, whatever the order
        if key == "EnvironmentFile":
            optional = value.startswith("-")
            path = pathlib.Path(value.lstrip("-").replace("/etc/tlsweep", str(etc)))
            if not path.exists():
                check(optional, f"{instance}: required EnvironmentFile {value} is missing")
                continue
            for line in path.read_text().splitlines():
                if "=" in line and not line.startswith("#"):
                    name, _, val = line.partition("=")
                    env[name.strip()] = val.strip()
    exec_start = next(v for k, v in items if k == "ExecStart")
    argv = [re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word)
            for word in shlex.split(exec_start)]
    return argv, env


def flag(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


agent_text = (UNITS / "tlsweep-agent@.service").read_text()
raw_listen = re.search(r"--metrics-listen[ =](\S+)", agent_text.replace("\\\n", " "))
check(raw_listen is not None, "the agent unit does not set --metrics-listen")
if raw_listen:
    check("$" in raw_listen.group(1),
          f"the agent unit hardcodes --metrics-listen {raw_listen.group(1)}: two regions collide")

# The header comment documents the per-region files: "#   /etc/tlsweep/agent-eu.env:  KEY=VALUE".
documented = re.findall(r"^#\s+/etc/tlsweep/(agent-(\w+)\.env):\s+(\w+=\S+)", agent_text, re.M)
check(len({region for _, region, _ in documented}) >= 2,
      f"the agent unit documents no per-region environment files for two regions: {documented}")
for with_files in (True, False):
    with tempfile.TemporaryDirectory() as etc:
        etc = pathlib.Path(etc)
        (etc / "agent.env").write_text("COORDINATOR=coordinator.example.net:7443\n")
        if with_files:
            for name, _, assignment in documented:
                (etc / name).write_text(assignment + "\n")
        regions = [region for _, region, _ in documented][:2] if with_files else ["eu", "us"]
        rendered = {region: render(agent_text, region, etc) for region in regions}
    how = "with the documented agent-REGION.env files" if with_files else "without agent-REGION.env"
    listens = {region: flag(argv, "--metrics-listen") for region, (argv, _) in rendered.items()}
    on = [listen for listen in listens.values() if listen]
    check(len(on) == len(set(on)), f"{how}, two agents listen on one address: {listens}")
    if with_files:
        check(len(on) == len(listens), f"{how}, an agent has no metrics listener: {listens}")
    for name in ("--region", "--spool", "--tls-cert", "--tls-key"):
        values = [flag(argv, name) for argv, _ in rendered.values()]
        check(None not in values and len(set(values)) == len(values),
              f"{how}, {name} is not per instance: {values}")
    for region, (argv, _) in rendered.items():
        check(flag(argv, "--region") == region, f"instance {region} runs --region {flag(argv, '--region')}")

coordinator_text = (UNITS / "tlsweep-coordinator.service").read_text()
with tempfile.TemporaryDirectory() as etc:
    argv, _ = render(coordinator_text, "", pathlib.Path(etc))
http = flag(argv, "--http-listen") or ""
host = http.rsplit(":", 1)[0].strip("[]")
try:
    loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
except ValueError:
    loopback = False
check(loopback, f"the coordinator unit serves plain HTTP on {http!r}, not on loopback")
comments = " ".join(line for line in coordinator_text.splitlines() if line.startswith("#"))
check(re.search(r"reverse proxy", comments, re.I) and "TLS" in comments,
      "the coordinator unit does not say how to expose the HTTP pages (reverse proxy with TLS)")

print(f"systemd units: {len(failures)} failures")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
