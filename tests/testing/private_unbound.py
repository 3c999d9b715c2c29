"""A private unbound serving one generated zone (the Python twin of unbound_fixture.cc).

Runs in the foreground (`unbound -d`) on one loopback address and a free port, answers only for
its zone (as an auth-zone "for-upstream", so MX targets and their A records are chased as a
recursive resolver would) and refuses every other name: nothing is ever asked of the outside.
"""
import os
import socket
import struct
import subprocess
import time


class PrivateUnbound:
    """zone: e.g. "politeness.test."; records: zone-file lines ("d1.politeness.test. IN MX 10
    mx1.politeness.test.")."""

    def __init__(self, directory, address, zone, records, allow=("127.0.0.0/8",)):
        """allow: client networks unbound answers (access-control), e.g. a test's namespace."""
        self.allow = list(allow)
        self.directory = directory
        self.address = address
        self.zone = zone
        self.records = records
        self.port = None
        self._process = None

    @property
    def endpoint(self):
        """IP:port, as --resolver takes it."""
        return f"{self.address}:{self.port}"

    def start(self, timeout=15):
        os.makedirs(self.directory, exist_ok=True)
        self.port = _free_port(self.address)
        zone_file = os.path.join(self.directory, "zone")
        with open(zone_file, "w") as zone:
            zone.write(f"$TTL 300\n{self.zone} IN SOA ns.{self.zone} hostmaster.{self.zone} "
                       f"1 3600 600 86400 300\n{self.zone} IN NS ns.{self.zone}\n"
                       f"ns.{self.zone} IN A 127.0.0.1\n" + "\n".join(self.records) + "\n")
        config = os.path.join(self.directory, "unbound.conf")
        access = "\n".join(f"  access-control: {network} allow" for network in self.allow)
        with open(config, "w") as conf:
            conf.write(f"""server:
  interface: {self.address}
  port: {self.port}
  username: ""
  chroot: ""
  directory: "{self.directory}"
  pidfile: "{self.directory}/unbound.pid"
  use-syslog: no
  logfile: "{self.directory}/unbound.log"
  verbosity: 1
  num-threads: 1
  do-ip6: no
  do-not-query-localhost: yes
{access}
  module-config: "iterator"
  local-zone: "." refuse
  local-zone: "{self.zone}" transparent
auth-zone:
  name: "{self.zone}"
  zonefile: "{zone_file}"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
remote-control:
  control-enable: no
""")
        output = open(os.path.join(self.directory, "stderr.txt"), "w")
        self._process = subprocess.Popen(["unbound", "-d", "-c", config], stdin=subprocess.DEVNULL,
                                         stdout=output, stderr=subprocess.STDOUT)
        self._wait_until_answering(timeout)

    def stop(self):
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _wait_until_answering(self, timeout):
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            query_id = 0
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"unbound exited {self._process.returncode}: "
                                       + open(os.path.join(self.directory, "stderr.txt")).read())
                query_id += 1
                try:
                    s.sendto(_soa_query(query_id, self.zone), (self.address, self.port))
                    reply = s.recv(512)
                    if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == query_id:
                        return
                except OSError:
                    time.sleep(0.05)  # Refused before unbound binds, or no answer yet.
        raise RuntimeError("unbound did not answer")


def _soa_query(query_id, zone):
    name = b"".join(bytes([len(label)]) + label.encode() for label in zone.strip(".").split("."))
    return struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + name + b"\0\0\x06\0\x01"


def _free_port(address):
    """A port free for both UDP and TCP on `address` (unbound binds both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((address, port))
                    return port
                except OSError:
                    continue
    raise RuntimeError(f"no free port on {address}")
