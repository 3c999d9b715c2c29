"""A private, real Postfix for script tests and benchmarks (the Python twin of postfix_fixture.cc).

One master with several smtpd listeners, each on its own loopback address:25 and named in the
log by `-o syslog_name=postfix/<name>`, STARTTLS with a self-signed certificate. Connection
count and rate limits are off: the harness measures the scanner's politeness, so the server
must not enforce any of its own. Needs root (port 25, Postfix's privilege separation); the
system's Postfix is never touched.

Timestamps: Postfix 3.7's maillog_file stamps lines to the second ("Dec 01 21:17:03"), too coarse
for a 250 ms spacing. So master runs in the foreground (`postfix start-fg`) with
`maillog_file = /dev/stdout`, the documented container set-up, and a reader thread stamps each
line with time.monotonic() as it arrives from postlogd, then appends "<stamp> <line>" to
`maillog` in the instance folder. A stamp is the event time plus the smtpd -> postlogd ->
pipe delay (well under a millisecond when idle, a few ms under load), so it is never early.
"""
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import threading
import time

# Debian's master.cf services minus the public smtpd and the pipe(8) transports, chroot off
# (a chroot would be our private queue directory, which holds no /etc files).
MASTER_CF_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PrivatePostfix:
    """listeners: {name: address}. probe_source: the address readiness checks connect from, so
    that log readers can leave those connections out (postfix_log.read_connections).
    greeting_delays: {name: whole seconds} a listener's connections wait before the 220 banner.
    On loopback a probe is over in a few ms, far less than any per-IP spacing, so on a prompt
    listener two connections can overlap only if they start within those ms; a slow one keeps
    each connection open longer than the spacing, so there a per-IP concurrency limit is what
    keeps connections apart (and a broken one shows as overlaps)."""

    def __init__(self, directory, listeners, probe_source, greeting_delays=None,
                 listener_options=None, main_cf_extra=""):
        self.directory = directory
        self.listeners = dict(listeners)
        self.probe_source = probe_source
        self.greeting_delays = {name: int(s) for name, s in (greeting_delays or {}).items() if s}
        # {name: ["smtpd_tls_protocols=>=TLSv1.3", ...]}: master.cf -o overrides of a listener
        # (its own TLS policy); main_cf_extra: lines appended to main.cf (e.g. cipher lists
        # that those overrides name).
        self.listener_options = {name: list(o) for name, o in (listener_options or {}).items()}
        self.main_cf_extra = main_cf_extra
        self.config = os.path.join(directory, "config")
        self.maillog = os.path.join(directory, "maillog")  # Lines as "<monotonic> <line>".
        self._started = False

    def start(self, timeout=20):
        self._write_configuration()
        _become_subreaper()
        self._started = True
        self._log = open(self.maillog, "a", buffering=1)
        self._master = subprocess.Popen(["postfix", "-c", self.config, "start-fg"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._stamp_lines, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        for name, address in self.listeners.items():
            self._wait_for_banner(name, address, deadline)

    def stop(self):
        if not self._started:
            return
        self._started = False
        subprocess.run(["postfix", "-c", self.config, "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._master.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # Master calls setsid(): its pid is its process group; kill what is left of it.
            pid = self._master_pid()
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._master.kill()
            self._master.wait()
        self._reader.join(timeout=5)
        self._log.close()
        _reap_postfix_orphans()

    def _stamp_lines(self):
        for raw in self._master.stdout:
            stamp = time.monotonic()
            self._log.write(f"{stamp:.6f} {raw.decode(errors='replace')}")

    def log_tail(self, lines=30):
        try:
            with open(self.maillog, errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return "(no maillog)"

    def log_size(self):
        """Bytes in the maillog now: pass to postfix_log.read_connections to read what follows."""
        try:
            return os.path.getsize(self.maillog)
        except OSError:
            return 0

    def _master_pid(self):
        try:
            with open(os.path.join(self.directory, "queue", "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 0

    def _write_configuration(self):
        queue = os.path.join(self.directory, "queue")
        data = os.path.join(self.directory, "data")
        for path in (self.config, queue, data):
            os.makedirs(path, exist_ok=True)
        # smtpd runs as "postfix" and must reach the queue; master locks data/master.lock as it.
        os.chmod(self.directory, 0o755)
        parent = os.path.dirname(os.path.abspath(self.directory))
        while parent != "/":
            if not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(f"{parent} must be searchable by the postfix user (chmod o+x)")
            parent = os.path.dirname(parent)
        postfix_user = pwd.getpwnam("postfix")
        os.chown(data, postfix_user.pw_uid, postfix_user.pw_gid)
        chain = self._write_certificate()
        with open(os.path.join(self.config, "main.cf"), "w") as main_cf:
            main_cf.write(f"""\
# Private instance written by tests/testing/private_postfix.py
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
maillog_file = /dev/stdout
myhostname = mx.politeness.test
mydomain = politeness.test
mydestination =
alias_maps =
alias_database =
biff = no
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_peername_lookup = no
smtpd_banner = $myhostname ESMTP Postfix
default_transport = error:test instance never delivers
smtpd_relay_restrictions = reject
smtpd_tls_loglevel = 1
smtpd_tls_chain_files = {chain}
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_event_limit_exceptions =
# Keep idle smtpd processes: a connection that waits for master to fork one is logged late,
# which would shorten the measured gap to the next connection.
max_use = 100000
max_idle = 3600s
""")
            # Client restrictions run at connect time (before the banner) only when
            # smtpd_delay_reject is off; "sleep" then pauses the greeting. Readiness probes (from
            # probe_source) are let through first, so start-up stays quick. One parameter per
            # delay, named in master.cf (a -o value cannot hold the inline map's braces).
            for delay in sorted(set(self.greeting_delays.values())):
                main_cf.write(f"greet_pause_{delay}_restrictions = check_client_access "
                              f"inline:{{{self.probe_source}=OK}}, sleep {delay}, permit\n")
            main_cf.write(self.main_cf_extra)
        # Listeners first: master creates services in file order, and a bind error reaches the
        # maillog only before the postlog socket exists.
        with open(os.path.join(self.config, "master.cf"), "w") as master_cf:
            for name, address in self.listeners.items():
                master_cf.write(f"{address}:25 inet n - n - - smtpd\n"
                                f"  -o syslog_name=postfix/{name}\n"
                                f"  -o smtpd_tls_security_level=may\n")
                for option in self.listener_options.get(name, ()):
                    master_cf.write(f"  -o {option}\n")
                delay = self.greeting_delays.get(name)
                if delay:
                    master_cf.write(f"  -o smtpd_delay_reject=no\n"
                                    f"  -o smtpd_client_restrictions=$greet_pause_{delay}"
                                    "_restrictions\n")
            master_cf.write(MASTER_CF_SERVICES)

    def _write_certificate(self):
        key = os.path.join(self.config, "key.pem")
        cert = os.path.join(self.config, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        "/CN=mx.politeness.test", "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        chain = os.path.join(self.config, "chain.pem")  # Key then certificate, one PEM.
        with open(chain, "w") as out:
            out.write(open(key).read() + open(cert).read())
        os.chmod(chain, 0o600)
        return chain

    def _wait_for_banner(self, name, address, deadline):
        last_error = None
        while time.monotonic() < deadline:
            if self._master.poll() is not None:
                raise RuntimeError(f"postfix start-fg exited {self._master.returncode}:"
                                   f"\n{self.log_tail()}")
            try:
                with socket.create_connection((address, 25), timeout=2,
                                              source_address=(self.probe_source, 0)) as s:
                    banner = s.recv(512)
                    if banner.startswith(b"220 "):
                        s.sendall(b"QUIT\r\n")
                        return
                    last_error = f"banner {banner!r}"
            except OSError as error:
                last_error = str(error)
            time.sleep(0.1)
        raise RuntimeError(f"listener {name} ({address}:25) never sent 220: {last_error}"
                           f"\n{self.log_tail()}")


# Master signals its children and exits without waiting for them; orphans go to the nearest
# subreaper, else to PID 1, which in containers often never reaps ("[smtpd] <defunct>" left
# behind after every run). As subreaper, this process inherits and reaps them.
_POSTFIX_PROGRAMS = {"master", "postlogd", "smtpd", "anvil", "pickup", "qmgr", "tlsmgr",
                     "proxymap", "trivial-rewrite", "cleanup", "bounce", "error", "scache",
                     "showq", "postfix-script"}


def _become_subreaper():
    pr_set_child_subreaper = 36
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)


def _reap_postfix_orphans(timeout=2.0):
    """Reaps adopted Postfix processes as they exit; only those (the caller's own children
    are left to their Popen objects)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) != os.getpid() or comm not in _POSTFIX_PROGRAMS:
                continue
            if fields[0] == "Z":
                os.waitpid(int(entry), os.WNOHANG)
            else:
                alive = True
        if not alive or time.monotonic() > deadline:
            return
        time.sleep(0.05)
