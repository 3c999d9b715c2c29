#!/usr/bin/env python3
"""tlsweep-agent refuses out-of-range numbers as usage errors (exit 2, "not in range"), before it
connects anywhere: issue 13 saw `--concurrency -5` read as 4294967291 and an OOM kill.

Usage: flags_test.py TLSWEEP_AGENT"""
import subprocess
import sys

AGENT = sys.argv[1]
BASE = ["--coordinator", "127.0.0.1:1", "--region", "eu"]
for flags in (["--capacity", "-5"], ["--capacity", "0"], ["--batch-size", "10001"],
              ["--threads", "-1"], ["--concurrency", "-5"], ["--rate", "-1"],
              ["--per-ip", "0"], ["--connect-timeout", "0"]):
    result = subprocess.run([AGENT, *BASE, *flags], capture_output=True, text=True, timeout=20)
    output = result.stdout + result.stderr
    assert result.returncode == 2, (flags, result.returncode, output)
    assert "not in range" in output, (flags, output)
print("flags_test: ok")
