#!/usr/bin/python3
"""The lab's supervisor: starts the lab daemons, reaps them, stops them (deploy/lab/up, down).

Why it exists: in this container PID 1 reaps nothing, so every daemon that exits after its
parent (Postfix's master and its children, unbound, the relay) would stay behind as a zombie.
This process is a child subreaper (PR_SET_CHILD_SUBREAPER): everything it starts, and every
orphan below it, is reaped here. On SIGTERM it stops the services (reverse order: a service's
stop command if it has one, else SIGTERM; then SIGKILL to each service's process group), reaps
every descendant until none is left, and exits. Only this one process is left as a zombie of
PID 1 once it exits (nothing can reap it here), and it holds nothing.

Usage: labd.py STATE_DIR SERVICES_JSON
SERVICES_JSON is a list of {"name", "argv", "log", ["pidfile", "stop_argv"]}: with "pidfile"
the command daemonizes (like `postfix start`) and the pid is read from that file after it
exits 0; without, the command itself is the service. STATE_DIR/pids/NAME.pid get the pids;
STATE_DIR/labd.state says "started" or "failed: why".
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def log(message):
    print(f"{time.strftime('%H:%M:%S')} labd: {message}", flush=True)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        out.write(text)
    os.rename(tmp, path)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def children():
    """Our direct children (the subreaper adopts orphans, so this covers all that is left)."""
    mine = os.getpid()
    result = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == mine:
                result.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return result


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False  # no children at all
        if pid == 0:
            return True


class Supervisor:
    def __init__(self, state_dir, services):
        self.state_dir = state_dir
        self.services = services
        self.pids = {}
        self.reported = set()

    def start(self):
        os.makedirs(os.path.join(self.state_dir, "pids"), exist_ok=True)
        for service in self.services:
            name = service["name"]
            with open(service["log"], "ab") as out:
                process = subprocess.Popen(
                    service["argv"], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                    start_new_session=True)
            if "pidfile" in service:
                try:
                    code = process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = "timeout"
                if code != 0:
                    raise RuntimeError(f"{name}: {' '.join(service['argv'])} exited {code}")
                try:
                    with open(service["pidfile"]) as pidfile:
                        pid = int(pidfile.read().split()[0])
                except (OSError, ValueError, IndexError) as error:
                    raise RuntimeError(f"{name}: no pid in {service['pidfile']}: {error}")
            else:
                pid = process.pid
                time.sleep(0.2)
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited {process.returncode} at start-up "
                                       f"(see {service['log']})")
            self.pids[name] = pid
            write(os.path.join(self.state_dir, "pids", name + ".pid"), f"{pid}\n")
            log(f"started {name} (pid {pid})")

    def stop(self):
        for service in reversed(self.services):
            name = service["name"]
            pid = self.pids.get(name)
            if pid is None:
                continue
            if "stop_argv" in service and alive(pid):
                try:
                    with open(service["log"], "ab") as out:
                        subprocess.run(service["stop_argv"], stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=out, timeout=20)
                except (OSError, subprocess.TimeoutExpired) as error:
                    log(f"stopping {name}: {error}")
            elif alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and any(alive(p) for p in self.pids.values()):
            reap()
            time.sleep(0.05)
        # Whatever is left of each service's process group (Postfix master's children).
        for name, pid in self.pids.items():
            for target in (-pid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
        # Everything else below us (orphans adopted as subreaper): kill and reap until none.
        deadline = time.monotonic() + 10
        while reap() and time.monotonic() < deadline:
            for pid in children():
                if alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            time.sleep(0.05)
        for name in self.pids:
            try:
                os.unlink(os.path.join(self.state_dir, "pids", name + ".pid"))
            except OSError:
                pass
        log("stopped")


def main():
    state_dir, services_file = sys.argv[1], sys.argv[2]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
    with open(services_file) as spec:
        supervisor = Supervisor(state_dir, json.load(spec))

    terminate = []
    signal.signal(signal.SIGTERM, lambda *_: terminate.append(True))
    signal.signal(signal.SIGINT, lambda *_: terminate.append(True))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    state_file = os.path.join(state_dir, "labd.state")
    try:
        supervisor.start()
        write(state_file, "started\n")
    except Exception as error:  # noqa: BLE001 - any failure must reach `up` and stop the rest.
        log(f"start failed: {error}")
        write(state_file, f"failed: {error}\n")
        supervisor.stop()
        return 1
    while not terminate:
        reap()
        for name, pid in supervisor.pids.items():
            if not alive(pid) and name not in supervisor.reported:
                supervisor.reported.add(name)
                log(f"{name} (pid {pid}) is gone")
        time.sleep(0.2)
    log("SIGTERM: stopping")
    supervisor.stop()
    write(state_file, "stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
