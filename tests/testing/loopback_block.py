"""A private 127.0.B.0/24 block of loopback addresses for one script-driven test world.

The C++ fixtures take 127.25.B.x (Postfix), 127.26.B.x (Exim), 127.27.B.x (OpenSMTPD), 127.28.B.x
(Haraka) and 127.53+.x.x (unbound); the Python harnesses take
127.0.B.x with B from 2 up, each block claimed with an flock on a file in /tmp, so a bench and a
ctest run started at the same time never bind the same address. The lock lives as long as the
object (and the process): a crashed run frees its block.
"""
import fcntl
import os

FIRST_BLOCK = 2
LAST_BLOCK = 250


class LoopbackBlock:
    def __init__(self):
        self._fd = None
        for block in range(FIRST_BLOCK, LAST_BLOCK + 1):
            fd = os.open(f"/tmp/tlsweep-loopback-127.0.{block}.lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._fd = fd
            self.prefix = f"127.0.{block}."
            return
        raise RuntimeError("no free 127.0.x.0/24 block (all locked)")

    def address(self, host):
        """127.0.B.host; host 1..254."""
        if not 1 <= host <= 254:
            raise ValueError(f"host {host} outside 1..254")
        return f"{self.prefix}{host}"

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
