#!/usr/bin/env python3
"""Enumeration against the peers, on the local lab's Postfix listeners (deploy/lab/up first).

For tlsweep (`sweep --enumerate`), nmap's ssl-enum-ciphers, sslscan --starttls-smtp and
testssl.sh --starttls smtp -E, prints the wall time, the connections each tool made (counted in
the lab Postfix's log, per listener), whether its suite sets agree with tlsweep's for the suites
both can test, and the elimination floor (sum over versions of supported suites + 1).

  bench/enumeration_peers.py [--tlsweep build/bin/tlsweep] [--tools tlsweep,nmap,sslscan,testssl]
                             [--listeners modern,defaults,...] [--lab-up]

--lab-up brings the lab up first and takes it down at the end (CI runs it that way, on one
listener, so that the script cannot rot unseen).
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

LOG = "/run/tlsweep-lab/log/postfix.log"
LISTENERS = ["modern", "defaults", "legacy", "rsakx", "expired", "mismatch"]
VERSIONS = {"TLSv1.0": "TLSv1", "TLSv1": "TLSv1", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2",
            "TLSv1.3": "TLSv1.3", "tls1": "TLSv1", "tls1_1": "TLSv1.1", "tls1_2": "TLSv1.2",
            "tls1_3": "TLSv1.3"}


def load_env():
    env = {}
    for line in open("/run/tlsweep-lab/env"):
        if "=" in line and not line.startswith("#"):
            key, value = line.strip().split("=", 1)
            env[key] = value.strip('"')
    return env


def mapping():
    """OpenSSL name -> IANA name and hex code -> IANA name, from testssl.sh's table."""
    by_openssl, by_hex = {}, {}
    for line in open("/etc/testssl/cipher-mapping.txt"):
        fields = line.split()
        if len(fields) < 4 or fields[1] != "-" or not fields[3].startswith("TLS_"):
            continue
        code = fields[0].split(",")
        if len(code) != 2:
            continue
        value = "x%02x%02x" % (int(code[0], 16), int(code[1], 16))
        by_hex[value.replace("x00", "x", 1) if value.startswith("x00") else value] = fields[3]
        by_hex[value] = fields[3]
        by_openssl[fields[2]] = fields[3]
    return by_openssl, by_hex


def connections(names):
    counts = {name: 0 for name in names}
    for line in open(LOG, errors="replace"):
        match = re.search(r"postfix/(\w+)/smtpd\[\d+\]: connect from", line)
        if match and match.group(1) in counts:
            counts[match.group(1)] += 1
    return counts


def run_tlsweep(binary, addresses, env):
    with tempfile.TemporaryDirectory() as tmp:
        targets = f"{tmp}/targets.txt"
        open(targets, "w").write("".join(f"[{a}]:25\n" for a in addresses.values()))
        subprocess.run([binary, "sweep", "--targets", targets, "--enumerate", "--allow-private",
                        "--rate", "0", "--per-ip-spacing", "0", "--ca-file", env["LAB_CA_FILE"],
                        "--out", f"{tmp}/out.jsonl"], check=True, capture_output=True)
        sets, floor, handshakes = {}, 0, 0
        for line in open(f"{tmp}/out.jsonl"):
            result = json.loads(line)
            # probe_kind since the enum; "probe" in files written before it.
            if (result.get("probe_kind") != "PROBE_KIND_ENUMERATE"
                    and result.get("probe") != "enumerate"):
                continue
            enumeration = result.get("enumeration", {})
            floor += enumeration.get("floor_handshakes", 0)
            handshakes += enumeration.get("handshakes", 0)
            for version in enumeration.get("versions", []):
                if version.get("status") != "SUPPORTED":
                    continue
                name = {"TLSV1_0": "TLSv1", "TLSV1_1": "TLSv1.1", "TLSV1_2": "TLSv1.2",
                        "TLSV1_3": "TLSv1.3"}[version["version"]]
                sets[(result["address"], name)] = {s["iana_name"] for s in version.get("suites", [])}
        return sets, floor, handshakes


def run_nmap(addresses):
    out = subprocess.run(["nmap", "-Pn", "-n", "-p", "25", "--script", "ssl-enum-ciphers",
                          "-oX", "-"] + list(addresses.values()),
                         check=True, capture_output=True, text=True).stdout
    sets = {}
    for host in ET.fromstring(out).iter("host"):
        address = host.find("address").get("addr")
        for script in host.iter("script"):
            for version_table in script.findall("table"):
                version = VERSIONS.get(version_table.get("key"))
                ciphers = version_table.find("table[@key='ciphers']")
                if version is None or ciphers is None:
                    continue
                # nmap still prints TLS 1.3 suites by their draft names (TLS_AKE_WITH_...).
                sets[(address, version)] = {
                    t.find("elem[@key='name']").text.replace("TLS_AKE_WITH_", "TLS_")
                    for t in ciphers}
    return sets


def run_sslscan(addresses, by_openssl):
    sets = {}
    for address in addresses.values():
        out = subprocess.run(["sslscan", "--no-colour", "--starttls-smtp", f"{address}:25"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            match = re.match(r"(Accepted|Preferred)\s+(TLSv1\.\d|TLSv1)\s+\d+ bits\s+(\S+)", line)
            if match:
                version = VERSIONS[match.group(2)]
                name = by_openssl.get(match.group(3), match.group(3))
                sets.setdefault((address, version), set()).add(name)
    return sets


def run_testssl(addresses, by_hex):
    sets = {}
    for address in addresses.values():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["testssl", "--starttls", "smtp", "-E", "--color", "0", "--warnings",
                            "off", "--quiet", "--jsonfile", f"{tmp}/out.json", f"{address}:25"],
                           capture_output=True, text=True)
            try:
                findings = json.load(open(f"{tmp}/out.json"))
            except (OSError, ValueError):
                continue
            for finding in findings:
                match = re.match(r"cipher-(tls1(?:_\d)?)_(x[0-9a-f]+)", finding.get("id", ""))
                if match:
                    version = VERSIONS[match.group(1)]
                    sets.setdefault((address, version), set()).add(
                        by_hex.get(match.group(2), match.group(2)))
    return sets


def agreement(ours, theirs, testable):
    """Per (address, version): equal on the suites the tool can test."""
    agree = total = 0
    for key in set(ours) | set(theirs):
        mine = {s for s in ours.get(key, set()) if s in testable}
        other = {s for s in theirs.get(key, set()) if s in testable}
        total += 1
        agree += mine == other
    return agree, total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlsweep", default="build/bin/tlsweep")
    parser.add_argument("--tools", default="tlsweep,nmap,sslscan,testssl")
    parser.add_argument("--listeners", default=",".join(LISTENERS),
                        help="which lab listeners (default: all six)")
    parser.add_argument("--lab-up", action="store_true",
                        help="run deploy/lab/up first and deploy/lab/down at the end")
    args = parser.parse_args()
    unknown = set(args.listeners.split(",")) - set(LISTENERS)
    if unknown:
        parser.error(f"unknown listener(s) {', '.join(sorted(unknown))}; the lab has {', '.join(LISTENERS)}")
    LISTENERS[:] = [name for name in LISTENERS if name in args.listeners.split(",")]
    if args.lab_up:
        lab = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "lab")
        subprocess.run([os.path.join(lab, "up")], check=True, stdout=subprocess.DEVNULL)
        try:
            run(args)
        finally:
            subprocess.run([os.path.join(lab, "down")], stdout=subprocess.DEVNULL)
    else:
        run(args)


def run(args):
    env = load_env()
    addresses = {name: env[f"LAB_LISTENER_{name}"] for name in LISTENERS}
    by_openssl, by_hex = mapping()
    openssl_testable = set(by_openssl.values()) - {by_openssl.get(n) for n in ("DES-CBC3-SHA", "RC4-SHA")}
    print(f"{len(addresses)} lab STARTTLS listeners: {', '.join(LISTENERS)}")
    print(f"{'tool':<10} {'wall s':>8} {'connections':>12} {'agrees':>10}   note")
    ours = None
    for tool in args.tools.split(","):
        before = connections(LISTENERS)
        start = time.monotonic()
        note = ""
        if tool == "tlsweep":
            sets, floor, handshakes = run_tlsweep(args.tlsweep, addresses, env)
            ours = sets
            note = f"{handshakes} enumeration handshakes; elimination floor {floor}"
        elif tool == "nmap":
            sets = run_nmap(addresses)
        elif tool == "sslscan":
            sets = run_sslscan(addresses, by_openssl)
        else:
            sets = run_testssl(addresses, by_hex)
        wall = time.monotonic() - start
        time.sleep(1)  # Let the last disconnects reach the log.
        after = connections(LISTENERS)
        made = sum(after[n] - before[n] for n in LISTENERS)
        agree = "-"
        if ours is not None and tool != "tlsweep":
            testable = openssl_testable if tool in ("sslscan", "testssl") else set(by_openssl.values()) | set(by_hex.values())
            a, t = agreement(ours, sets, testable)
            agree = f"{a}/{t}"
        print(f"{tool:<10} {wall:>8.1f} {made:>12} {agree:>10}   {note}", flush=True)


if __name__ == "__main__":
    main()
