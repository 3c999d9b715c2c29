"""A region behind its own network link, for script tests: a network namespace joined to the
root namespace by a veth pair, addressed from 198.19.<octet>.0/24 (RFC 2544 benchmarking space;
the lab, deploy/lab/lab.sh, uses 198.18.0-2.x and 198.19.0-2.x), with no route out of that /24.

The host end holds 198.19.<octet>.1 and any server addresses the test adds (add_server_address):
servers in the root namespace that listen there are reached by the root namespace's own
processes locally and by the region's processes over the link. drop() cuts the link both ways
with nftables inside the namespace (a netdev table on the region's end, ingress and egress:
packets vanish, as on a dead link, rather than being refused); restore() deletes that table.

Also TcpRelay: a plain TCP forwarder from an address on the link to a loopback service (a --dev
coordinator listens on loopback only; the region reaches it through the relay, over the link).
"""
import os
import signal
import socket
import subprocess
import threading
import time


def _run(*command, check=True):
    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=check)


class NetnsRegion:
    def __init__(self, tag, octet):
        """tag: makes the names unique (e.g. the pid); octet: the third byte of the /24, unique
        per concurrent test (derive it from the loopback block)."""
        self.name = f"tlsw-chaos-{tag}"  # remove_stale() relies on this form.
        self.host_link = f"tcx{tag}h"[:15]
        self.region_link = f"tcx{tag}n"[:15]
        self.prefix = f"198.19.{octet}."
        self.host_address = f"{self.prefix}1"
        self.region_address = f"{self.prefix}2"
        self.dropped = False
        self._created = False

    @property
    def exec_prefix(self):
        return ("ip", "netns", "exec", self.name)

    def address(self, host):
        if not 3 <= host <= 254:
            raise ValueError(f"host {host} outside 3..254 (1 and 2 are the link's ends)")
        return f"{self.prefix}{host}"

    def create(self):
        self._created = True
        _run("ip", "netns", "add", self.name)
        _run("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", self.region_link)
        _run("ip", "link", "set", self.region_link, "netns", self.name)
        _run("ip", "addr", "add", f"{self.host_address}/24", "dev", self.host_link)
        _run("ip", "link", "set", self.host_link, "up")
        inside = self.exec_prefix
        _run(*inside, "ip", "link", "set", "lo", "up")
        _run(*inside, "ip", "addr", "add", f"{self.region_address}/24", "dev", self.region_link)
        _run(*inside, "ip", "link", "set", self.region_link, "up")
        # The region knows only its link's /24: no default route, nothing else is reachable.

    def add_server_address(self, address):
        """An address on the host end: servers in the root namespace listen there."""
        _run("ip", "addr", "add", f"{address}/32", "dev", self.host_link)

    def drop(self):
        """Every packet on the region's end of the link, in or out, is dropped from now on."""
        rules = (f'table netdev chaos {{\n'
                 f'  chain in {{ type filter hook ingress device "{self.region_link}" '
                 f'priority 0; policy drop; }}\n'
                 f'  chain out {{ type filter hook egress device "{self.region_link}" '
                 f'priority 0; policy drop; }}\n}}\n')
        subprocess.run([*self.exec_prefix, "nft", "-f", "-"], input=rules, text=True,
                       check=True, capture_output=True)
        self.dropped = True

    def restore(self):
        _run(*self.exec_prefix, "nft", "delete", "table", "netdev", "chaos")
        self.dropped = False

    def ruleset(self):
        return _run(*self.exec_prefix, "nft", "list", "ruleset", check=False).stdout

    def destroy(self):
        """Kills what still runs inside (only this test's processes can be there), deletes the
        link (its server addresses go with it) and the namespace. Tolerates a half-built one."""
        if not self._created:
            return
        self._created = False
        pids = _run("ip", "netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGCONT)
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        _run("ip", "link", "del", self.host_link, check=False)
        _run("ip", "netns", "del", self.name, check=False)


def remove_stale(prefix="tlsw-chaos-"):
    """Deletes the namespaces (and links) of earlier runs that died without tearing down (their
    pid, the name's tail, is gone), so that their addresses do not shadow a new run's. Returns
    the names removed."""
    removed = []
    for line in _run("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        tag = name[len(prefix):]
        if not name.startswith(prefix) or not tag.isdigit() or os.path.exists(f"/proc/{tag}"):
            continue
        region = NetnsRegion(tag, 0)
        region._created = True
        region.destroy()
        removed.append(name)
    return removed


class TcpRelay:
    """Accepts on (listen_address, port 0 or given) and forwards each connection to target
    (host, port), both directions, until either side closes. A failed connect to the target
    (a coordinator that is down) closes the accepted connection."""

    def __init__(self, listen_address, target, port=0):
        self.target = target
        self._server = socket.create_server((listen_address, port), reuse_port=False)
        self._server.settimeout(0.2)
        self.endpoint = f"{listen_address}:{self._server.getsockname()[1]}"
        self._stopping = threading.Event()
        self._sockets = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def stop(self):
        self._stopping.set()
        self._thread.join(timeout=5)
        self._server.close()
        with self._lock:
            for s in list(self._sockets):
                _close(s)
            self._sockets.clear()

    def _accept(self):
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client):
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            _close(client)
            return
        client.settimeout(None)
        with self._lock:
            self._sockets.update((client, upstream))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        # One side ended: end both (a relay must not keep half a connection alive).
        for s in (source, sink):
            with self._lock:
                self._sockets.discard(s)
            _close(s)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def wait_until(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
