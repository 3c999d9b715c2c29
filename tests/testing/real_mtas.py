"""Real non-Postfix MTAs on loopback for script tests and the lab (the Python twin of
exim_fixture.cc, opensmtpd_fixture.cc and haraka_fixture.cc).

tests/testing/fetch_mtas unpacks them into ${TLSWEEP_MTA_DIR:-/opt/tlsweep-mtas}. Each start_*
function runs one daemon in the foreground, inside a private mount namespace whose
/etc/resolv.conf names a dead address (host .253 of the listener's /24, which the caller owns, e.g.
through loopback_block.LoopbackBlock), so no DNS query ever leaves the host; it returns once the
listener sends its 220 greeting. Needs root (port 25, unshare). The configure_* functions
write the same configuration and return a MtaSpec (the argv that runs the daemon in the
foreground, its logs) without starting anything: deploy/lab hands those to its supervisor.
What each one is:

- Exim 4.96 (GnuTLS): tls_require_ciphers takes a GnuTLS priority string; the mainlog has a
  "TLSWEEP-TLS ... version=TLS1.2 suite=<IANA name> cipher=..." line per TLS connection.
- OpenSMTPD 6.8: on Debian 12 every handshake fails after the ServerHello (its log says
  "routines::missing private key"): a real broken server.
- Haraka 3: tls.ini ciphers/minVersion/ecdhCurve; Node's defaults otherwise. Its log has
  "[tls] secured: cipher=<OpenSSL name> version=TLSv1.2".
"""
import ctypes
import dataclasses
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time

MTA_DIR = os.environ.get("TLSWEEP_MTA_DIR") or "/opt/tlsweep-mtas"
EXIM = os.path.join(MTA_DIR, "root/usr/sbin/exim4")
SMTPD = os.path.join(MTA_DIR, "root/usr/sbin/smtpd")
HARAKA_MODULE = os.path.join(MTA_DIR, "haraka/node_modules/Haraka")
HARAKA = os.path.join(MTA_DIR, "haraka/node_modules/.bin/haraka")


@dataclasses.dataclass
class MtaSpec:
    """A configured daemon, not started: `argv` runs it in the foreground (in a private mount
    namespace, see _wrap), stdout and stderr belong in `output`."""
    kind: str
    directory: str
    address: str
    port: int
    argv: list
    output: str        # Where the daemon's stdout and stderr go.
    log_path: str      # Its log of connections and handshakes.
    extra_logs: tuple  # Also worth reading when it fails to start.
    probe_source: str  # A source address exempt from delays and rate limits.


class RealMta:
    """One running daemon. Use as a context manager, or call stop()."""

    def __init__(self, kind, directory, address, port, log_path, process, extra_logs=()):
        self.kind, self.directory, self.address, self.port = kind, directory, address, port
        self.log_path = log_path
        self._extra_logs = extra_logs  # Also in log_tail(): start-up errors land there.
        self._process = process

    @property
    def endpoint(self):
        return f"{self.address}:{self.port}"

    def log_tail(self, lines=30):
        tails = []
        for path in (self.log_path, *self._extra_logs):
            try:
                with open(path, errors="replace") as log:
                    tails.append(f"{path}:\n" + "".join(log.readlines()[-lines:]))
            except OSError:
                tails.append(f"(no {path})")
        return "\n".join(tails)

    def stop(self, grace=5):
        if self._process is None:
            return
        process, self._process = self._process, None
        pid = process.pid
        _signal_group(pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 2  # Adopted per-connection children (we are subreaper).
        while time.monotonic() < deadline:
            try:
                while os.waitpid(-pid, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                break
            time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def require(path, what):
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{what} is not unpacked ({path} is missing): run "
                           "tests/testing/fetch_mtas as root")


def start_exim(directory, address, port=25, *, timeout=20, **options):
    """Exim in the foreground (see configure_exim for the options), once it greets."""
    return _start(configure_exim(directory, address, port, **options), timeout)


def configure_exim(directory, address, port=25, *, probe_source=None, exempt_hosts=None,
                   cert=None, key=None, tls_require_ciphers="", starttls_fails=False,
                   offer_starttls=True, smtp_accept_max=20, ratelimit=None, greeting_delay=0,
                   banner_lines=None, hostname="mx.example.test", resolver=None):
    """ratelimit: (connections, seconds): the connect ACL then answers 451 to a client address
    beyond that budget. greeting_delay: whole seconds before the banner. banner_lines: more
    than one gives 220- continuation lines. starttls_fails: STARTTLS offered, answers 454.
    probe_source (exempt from delay and rate limit) defaults to host .254 of the /24;
    exempt_hosts (an Exim host list) replaces it in the connect ACL."""
    require(EXIM, "Exim")
    probe_source = probe_source or _host(address, 254)
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)  # Exim drops to Debian-exim before it opens its logs.
    parent = os.path.dirname(os.path.abspath(directory))
    while parent != "/":
        if not os.stat(parent).st_mode & 0o001:
            raise RuntimeError(f"{parent} must be searchable by Debian-exim (chmod o+x)")
        parent = os.path.dirname(parent)
    for sub in ("spool", "log", "tls"):
        os.makedirs(os.path.join(directory, sub), mode=0o750, exist_ok=True)
        shutil.chown(os.path.join(directory, sub), "Debian-exim", "Debian-exim")
    if starttls_fails:  # Fails only when expanded, at STARTTLS time.
        cert = key = "${if def:received_ip_address {/nonexistent/tlsweep-no-certificate.pem}}"
    else:
        cert, key = _certificate(os.path.join(directory, "tls"), cert, key, "Debian-exim")
    connect_acl = f"  accept hosts = {exempt_hosts or probe_source}\n"
    if ratelimit:
        connect_acl += ("  defer message = 451 4.7.1 Too many connections from "
                        "$sender_host_address, slow down\n"
                        f"        ratelimit = {ratelimit[0]} / {ratelimit[1]}s / per_conn / leaky"
                        " / $sender_host_address\n")
    connect_acl += f"  accept delay = {int(greeting_delay)}s\n" if greeting_delay else "  accept\n"
    tls_line = ("TLSWEEP-TLS I=[$received_ip_address]:$received_port version=$tls_in_ver "
                "suite=$tls_in_cipher_std cipher=$tls_in_cipher")
    log_acl = f"  accept condition = ${{if def:tls_in_cipher}}\n         logwrite = {tls_line}\n" \
              "  accept\n"
    banner = ""
    if banner_lines:
        escaped = [line.replace("\\", "\\\\").replace("$", "\\$") for line in banner_lines]
        banner = "smtp_banner = " + "\\n".join(escaped) + "\n"
    config = os.path.join(directory, "exim.conf")
    with open(config, "w") as conf:
        conf.write(f"""# Written by tests/testing/real_mtas.py
exim_path = {EXIM}
spool_directory = {directory}/spool
log_file_path = {directory}/log/%slog
pid_file_path = {directory}/exim.pid
local_interfaces = <; [{address}]:{port}
daemon_smtp_ports = {port}
daemon_startup_retries = 0
keep_environment =
primary_hostname = {hostname}
qualify_domain = example.test
host_lookup =
rfc1413_hosts =
helo_lookup_domains =
smtp_accept_max = {smtp_accept_max}
log_selector = +tls_cipher +tls_peerdn +tls_sni +smtp_connection +incoming_interface +pid
tls_advertise_hosts = {"*" if offer_starttls else ""}
tls_certificate = {cert}
tls_privatekey = {key}
{f"tls_require_ciphers = {tls_require_ciphers}" if tls_require_ciphers else ""}
{banner}acl_smtp_connect = tlsweep_connect
acl_smtp_rcpt = tlsweep_rcpt
acl_smtp_quit = tlsweep_quit
acl_smtp_notquit = tlsweep_notquit

begin acl

tlsweep_connect:
{connect_acl}
tlsweep_rcpt:
  deny message = this test instance never delivers

tlsweep_quit:
{log_acl}
tlsweep_notquit:
{log_acl}
begin routers

begin transports
""")
    return MtaSpec("exim", directory, address, port,
                   _wrap(directory, address, [EXIM, "-C", config, "-bdf"], resolver=resolver),
                   os.path.join(directory, "exim.out"), os.path.join(directory, "log", "mainlog"),
                   (os.path.join(directory, "log", "paniclog"), os.path.join(directory, "exim.out")),
                   probe_source)


def start_opensmtpd(directory, address, port=25, *, timeout=20, **options):
    """OpenSMTPD in the foreground (see configure_opensmtpd), once it greets."""
    return _start(configure_opensmtpd(directory, address, port, **options), timeout)


def configure_opensmtpd(directory, address, port=25, *, probe_source=None, cert=None, key=None,
                        offer_starttls=True, hostname="mx.example.test", resolver=None):
    """smtpd -d -v with one listener; its spool and /run are private to the namespace."""
    require(SMTPD, "OpenSMTPD")
    os.makedirs(os.path.join(directory, "spool"), exist_ok=True)
    os.chmod(os.path.join(directory, "spool"), 0o711)
    config = os.path.join(directory, "smtpd.conf")
    with open(config, "w") as conf:
        conf.write("# Written by tests/testing/real_mtas.py\n")
        tls = ""
        if offer_starttls:
            cert, key = _certificate(directory, cert, key)
            conf.write(f'pki tlsweep cert "{cert}"\npki tlsweep key "{key}"\n')
            tls = " tls pki tlsweep"
        conf.write(f"listen on {address} port {port}{tls} hostname {hostname}\n"
                   "match from any for any reject\n")
    log = os.path.join(directory, "smtpd.log")
    argv = _wrap(directory, address, [SMTPD, "-d", "-v", "-f", config], resolver=resolver,
                 binds=[(os.path.join(directory, "spool"), "/var/spool/smtpd")], tmpfs=["/run"])
    return MtaSpec("opensmtpd", directory, address, port, argv, log, log, (),
                   probe_source or _host(address, 254))


def start_haraka(directory, address, port=25, *, timeout=60, **options):
    """Haraka in the foreground (see configure_haraka), once it greets."""
    return _start(configure_haraka(directory, address, port, **options), timeout)


def configure_haraka(directory, address, port=25, *, probe_source=None, cert=None, key=None,
                     offer_starttls=True, ciphers="", min_version="", ecdh_curve="",
                     hostname="mx.example.test", resolver=None):
    """haraka -c DIRECTORY: Haraka's default config, our smtp.ini/tls.ini/plugins over it."""
    require(HARAKA, "Haraka")
    config = os.path.join(directory, "config")
    shutil.copytree(os.path.join(HARAKA_MODULE, "config"), config, dirs_exist_ok=True)
    os.makedirs(os.path.join(directory, "plugins"), exist_ok=True)
    tls_ini = "[main]\nkey=tls_key.pem\ncert=tls_cert.pem\n"
    for name, value in (("ciphers", ciphers), ("minVersion", min_version),
                        ("ecdhCurve", ecdh_curve)):
        tls_ini += f"{name}={value}\n" if value else ""
    if offer_starttls:
        cert, key = _certificate(directory, cert, key)
        shutil.copy(cert, os.path.join(config, "tls_cert.pem"))
        shutil.copy(key, os.path.join(config, "tls_key.pem"))
    # Else Haraka generates DH parameters at start-up and offers DHE only once that is done.
    subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                    "group:ffdhe2048", "-out", os.path.join(config, "dhparams.pem")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files = {
        "config/plugins": "tlsweep_no_rdns\n" + ("tls\n" if offer_starttls else ""),
        "config/smtp.ini": f"[main]\nlisten={address}:{port}\npublic_ip={address}\nnodes=\n"
                           "daemonize=false\n",
        "config/tls.ini": tls_ini,
        "config/me": f"{hostname}\n",
        "config/log.ini": "[main]\nlevel=info\ntimestamps=true\n",
        # Haraka asks DNS for each client's PTR record unless a lookup_rdns hook answers.
        "plugins/tlsweep_no_rdns.js":
            "exports.hook_lookup_rdns = (next, connection) => next(OK, 'client.invalid')\n",
    }
    for path, content in files.items():
        with open(os.path.join(directory, path), "w") as out:
            out.write(content)
    log = os.path.join(directory, "haraka.log")
    return MtaSpec("haraka", directory, address, port,
                   _wrap(directory, address, [HARAKA, "-c", directory], resolver=resolver), log,
                   log, (), probe_source or _host(address, 254))


def _start(spec, timeout):
    process = _spawn(spec.argv, spec.output)
    mta = RealMta(spec.kind, spec.directory, spec.address, spec.port, spec.log_path, process,
                  extra_logs=spec.extra_logs)
    _wait_for_greeting(mta, spec.probe_source, timeout)
    return mta


def _host(address, host):
    return address.rsplit(".", 1)[0] + f".{host}"


def _certificate(directory, cert, key, owner=None):
    """The given pair copied into `directory` (readable by `owner`), or a fresh self-signed
    RSA one for mx.example.test."""
    out_cert, out_key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if cert and key:
        shutil.copy(cert, out_cert)
        shutil.copy(key, out_key)
    else:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=mx.example.test", "-addext",
                        "subjectAltName=DNS:mx.example.test", "-keyout", out_key, "-out",
                        out_cert], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    os.chmod(out_key, 0o600)
    if owner:
        for path in (out_cert, out_key):
            shutil.chown(path, owner, owner)
    return out_cert, out_key


def _wrap(directory, address, argv, binds=(), tmpfs=(), resolver=None):
    """The argv that runs `argv` in a private mount namespace: /etc/resolv.conf names
    `resolver`, by default a dead address of the block (host .253), plus `binds` and `tmpfs`."""
    resolv = os.path.join(directory, "resolv.conf")
    with open(resolv, "w") as out:
        out.write(f"nameserver {resolver or _host(address, 253)}\n"
                  "options timeout:1 attempts:1\nlookup file\n")
    script = "set -e\n"
    home = os.path.abspath(directory)
    for target in tmpfs:
        if os.path.commonpath([home, os.path.abspath(target)]) != os.path.abspath(target):
            script += f"mount -t tmpfs -o mode=0755 tlsweep {shlex.quote(target)}\n"
            continue
        # The tmpfs would hide `directory` (the lab keeps its daemons' folders in /run): it is
        # held on a bind mount meanwhile and moved back on top.
        script += (f"keep=$(mktemp -d)\nmount --bind {shlex.quote(home)} \"$keep\"\n"
                   f"mount -t tmpfs -o mode=0755 tlsweep {shlex.quote(target)}\n"
                   f"mkdir -p {shlex.quote(home)}\nmount --move \"$keep\" {shlex.quote(home)}\n"
                   'rmdir "$keep"\n')
    for source, target in [(resolv, "/etc/resolv.conf"), *binds]:
        script += f"mount --bind {shlex.quote(source)} {shlex.quote(target)}\n"
    script += 'exec "$@"\n'
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
            "tlsweep-mta", *argv]


def _spawn(argv, log_path):
    """argv (from _wrap) in its own process group, stdout and stderr to log_path; we become a
    child subreaper, so that its orphaned children are ours to reap."""
    pr_set_child_subreaper = 36
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, process_group=0)


def _signal_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _wait_for_greeting(mta, probe_source, timeout):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if mta._process.poll() is not None:
            mta.stop()
            raise RuntimeError(f"{mta.kind} exited during start-up:\n{mta.log_tail()}")
        try:
            with socket.create_connection((mta.address, mta.port), timeout=5,
                                          source_address=(probe_source, 0)) as s:
                reply = b""
                while not _complete_reply(reply):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                if reply.startswith(b"220") and _complete_reply(reply):
                    s.sendall(b"QUIT\r\n")
                    return
                last_error = f"greeting {reply!r}"
        except OSError as error:
            last_error = str(error)
        time.sleep(0.05)
    mta.stop()
    raise RuntimeError(f"{mta.kind} on {mta.endpoint} never sent 220: {last_error}\n"
                       f"{mta.log_tail()}")


def _complete_reply(data):
    """True once `data` holds a whole SMTP reply (a CRLF line that is not "ddd-")."""
    for line in data.split(b"\r\n")[:-1]:
        if len(line) < 4 or line[3:4] != b"-":
            return True
    return False
