"""A distributed tlsweep scan on loopback, driven through the real programs: a `--dev` (plain
text, loopback only) tlsweep-coordinator, tlsweep-agent processes of one region, `tlsweep
submit`, `tlsweep status --json` until the scan ends, and `tlsweep report --format csv`.
"""
import csv
import io
import json
import os
import re
import signal
import subprocess
import time


class Coordinator:
    def __init__(self, bin_dir, directory, address, extra_flags=(), port=0):
        """port 0: any free port, read from the log; a fixed port survives restarts (kill())."""
        self.bin_dir = bin_dir
        self.directory = directory
        self.address = address
        self.port = port
        self.extra_flags = list(extra_flags)
        self.store = os.path.join(directory, "store.db")
        self.log = os.path.join(directory, "coordinator.log")
        self.endpoint = None
        self._process = None

    def start(self, timeout=15):
        """Starts (or, after kill(), restarts) the coordinator on the same store; the log grows."""
        os.makedirs(self.directory, exist_ok=True)
        offset = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        with open(self.log, "a") as log:
            self._process = subprocess.Popen(
                [f"{self.bin_dir}/tlsweep-coordinator", "--dev", "--listen",
                 f"{self.address}:{self.port}", "--store", self.store, *self.extra_flags],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log) as log:
                log.seek(offset)
                match = re.search(r"listening on port (\d+)", log.read())
            if match:
                self.endpoint = f"{self.address}:{match.group(1)}"
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"coordinator did not start:\n{open(self.log).read()}")

    def stop(self):
        _stop(self._process)

    def kill(self, sig=signal.SIGKILL):
        """Sends `sig`; for SIGKILL also waits until the process is gone (start() restarts)."""
        _signal(self._process, sig)

    def exit_code(self):
        """The last process's exit status (negative: killed by that signal); None if running."""
        return None if self._process is None else self._process.poll()

    def running(self):
        return self._process is not None and self._process.poll() is None

    def cli(self, *args, timeout=60):
        """Runs `tlsweep ARGS --coordinator ... --dev`; returns its standard output."""
        result = subprocess.run([f"{self.bin_dir}/tlsweep", *args, "--coordinator", self.endpoint,
                                 "--dev"], capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"tlsweep {' '.join(args)} exited {result.returncode}: "
                               f"{result.stderr}")
        return result.stdout

    def submit(self, domains_file, regions, candidates, extra_flags=()):
        """The new scan's id."""
        args = ["submit", "--domains", domains_file, "--regions", ",".join(regions), "--json"]
        for candidate in candidates:
            args += ["--candidate", candidate]
        return json.loads(self.cli(*args, *extra_flags))["scan_id"]

    def wait(self, scan_id, timeout):
        """Polls the scan until it leaves SUBMITTING/RUNNING; returns its last status (JSON)."""
        deadline = time.monotonic() + timeout
        while True:
            status = json.loads(self.cli("status", scan_id, "--json"))
            if status.get("state") not in ("SCAN_SUBMITTING", "SCAN_RUNNING"):
                return status
            if time.monotonic() > deadline:
                raise RuntimeError(f"scan {scan_id} not done after {timeout} s: {status}")
            time.sleep(0.2)

    def report_rows(self, scan_id):
        """The scan's CSV report rows (one per domain, region and candidate), as dicts."""
        result = subprocess.run([f"{self.bin_dir}/tlsweep", "report", scan_id, "--store",
                                 self.store, "--format", "csv"], capture_output=True, text=True,
                                check=True)
        return list(csv.DictReader(io.StringIO(result.stdout)))


class Agent:
    def __init__(self, bin_dir, directory, name, coordinator, region, flags, prefix=()):
        """prefix: run the agent under it, e.g. ("ip", "netns", "exec", NAME)."""
        self.name = name
        self.log = os.path.join(directory, f"agent-{name}.log")
        self.command = [*prefix, f"{bin_dir}/tlsweep-agent", "--coordinator", coordinator,
                        "--dev", "--region", region, "--agent-id", name, *flags]
        self._process = None
        self._starts = 0

    def start(self):
        """Starts (or, after kill(), restarts) the agent; a restart appends to its log."""
        self._starts += 1
        with open(self.log, "w" if self._starts == 1 else "a") as log:
            self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT)

    def running(self):
        return self._process is not None and self._process.poll() is None

    def stop(self):
        _stop(self._process)

    def kill(self, sig=signal.SIGKILL):
        """Sends `sig` (SIGSTOP/SIGCONT pause and resume it); SIGKILL also waits for the exit.
        `ip netns exec` execs the agent, so the process is the agent itself."""
        _signal(self._process, sig)

    def exit_code(self):
        """The last process's exit status (negative: killed by that signal); None if running."""
        return None if self._process is None else self._process.poll()


def _signal(process, sig):
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    if sig == signal.SIGKILL:
        process.wait()


def _stop(process):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
