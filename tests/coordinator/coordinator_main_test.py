#!/usr/bin/env python3
"""tlsweep-coordinator's command line: out-of-range numbers are usage errors (exit 2, "not in
range"), --whatif is checked before anything listens, and with --http-listen the served
reports' what-if candidates are built from the plugins at start.

Usage: coordinator_main_test.py TLSWEEP_COORDINATOR PLUGIN_DIR"""
import subprocess
import sys
import tempfile
import urllib.request

COORDINATOR, PLUGINS = sys.argv[1], sys.argv[2]


def run(*flags: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as state:
        return subprocess.run([COORDINATOR, "--store", f"{state}/store.db", "--dev",
                               "--listen", "127.0.0.1:0", *flags],
                              capture_output=True, text=True, timeout=20)


for flags in (["--lease-ms", "0"], ["--heartbeat-ms", "5"], ["--lease-attempts", "0"],
              ["--shard-size", "0"], ["--max-active-scans", "0"], ["--grpc-memory-mb", "1"],
              ["--endpoint-shard-size", "0"], ["--max-list-lines", "-1"]):
    result = run(*flags)
    assert result.returncode == 2, (flags, result.returncode, result.stderr)
    assert "not in range" in result.stdout + result.stderr, (flags, result.stderr)

result = run("--whatif", "name=p ciphers=ECDHE+AESGCM")
assert result.returncode == 2 and "--whatif needs --http-listen" in result.stderr, result
result = run("--http-listen", "127.0.0.1:0", "--plugin-dir", PLUGINS,
             "--whatif", "name=p ciphers=NO-SUCH-CIPHER")
assert result.returncode == 2, result
assert "--whatif 'name=p ciphers=NO-SUCH-CIPHER'" in result.stderr, result.stderr

# A valid candidate: the coordinator serves, with the what-if ready for every report.
with tempfile.TemporaryDirectory() as state:
    process = subprocess.Popen([COORDINATOR, "--store", f"{state}/store.db", "--dev",
                                "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                                "--plugin-dir", PLUGINS, "--whatif",
                                "name=proposed ciphers=ECDHE+AESGCM min=TLSv1.2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("listening on port ")
        http = process.stdout.readline()
        assert http.startswith("http on port "), http
        port = int(http.split()[-1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as reply:
            assert reply.status == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
print("coordinator_main_test: ok")
