"""Server-side connection figures from a Postfix maillog: what a mail server would see of a scanner.

Each smtpd process serves one connection at a time and logs "connect from CLIENT" when it
accepts it and "disconnect from CLIENT" when it ends (after QUIT, a lost connection or a
timeout alike), so pairing the two per (listener, pid) gives every connection's lifetime. The
listener comes from its syslog_name (`postfix/<listener>/smtpd[pid]`, see private_postfix.py).

Two line formats are read:
- "<monotonic seconds> <postfix line>", as private_postfix.py writes them (microsecond stamps);
- plain maillog_file lines ("Dec 01 21:17:03 host postfix/..."): Postfix 3.7 stamps those to the
  second only, so spacing figures from them are meaningless below 1 s (`precise` is False).
"""
import bisect
import collections
import dataclasses
import datetime
import re

_EVENT = re.compile(r"postfix/(?P<listener>[\w.-]+)/smtpd\[(?P<pid>\d+)\]: "
                    r"(?P<kind>connect|disconnect) from (?P<client>\S+)")
_CLIENT_ADDRESS = re.compile(r"\[([^\]]+)\]")


@dataclasses.dataclass
class Connection:
    listener: str
    pid: int
    client: str      # Client address, e.g. "127.0.0.1".
    start: float     # Seconds (monotonic clock for stamped logs).
    end: float       # None while still open when the log was read.


@dataclasses.dataclass
class Log:
    connections: list
    precise: bool    # True when every line had a sub-second stamp.


def _stamp(line):
    """(seconds, precise, rest of the line) or None for a line with no readable stamp."""
    head, _, rest = line.partition(" ")
    try:
        return float(head), True, rest
    except ValueError:
        pass
    try:
        when = datetime.datetime.strptime(line[:15], "%b %d %H:%M:%S")
    except ValueError:
        return None
    return (when - datetime.datetime(when.year, 1, 1)).total_seconds(), False, line[16:]


def read_connections(path, offset=0, exclude_clients=()):
    """Every smtpd connection logged in `path` from byte `offset` on, in start order, leaving
    out those from `exclude_clients` (e.g. a fixture's readiness probes)."""
    open_by_process = {}
    connections = []
    precise = True
    with open(path, "rb") as log:
        log.seek(offset)
        for raw in log:
            line = raw.decode(errors="replace")
            stamped = _stamp(line)
            if stamped is None:
                continue
            when, line_precise, rest = stamped
            event = _EVENT.search(rest)
            if event is None:
                continue
            precise = precise and line_precise
            address = _CLIENT_ADDRESS.search(event["client"])
            client = address.group(1) if address else event["client"]
            key = (event["listener"], int(event["pid"]))
            if event["kind"] == "connect":
                connection = Connection(event["listener"], key[1], client, when, None)
                open_by_process[key] = connection
                if client not in exclude_clients:
                    connections.append(connection)
            elif key in open_by_process:
                open_by_process.pop(key).end = when
    connections.sort(key=lambda c: c.start)
    return Log(connections, precise)


def by_listener(connections):
    grouped = collections.defaultdict(list)
    for connection in connections:
        grouped[connection.listener].append(connection)
    return grouped


def peak_per_window(starts, window=1.0):
    """Most connection starts inside any `window`-second interval (sliding, not clock-aligned)."""
    starts = sorted(starts)
    best = 0
    for i, start in enumerate(starts):
        best = max(best, bisect.bisect_left(starts, start + window, lo=i) - i)
    return best


def mean_rate(starts):
    """Connection starts per second between the first and the last one."""
    if len(starts) < 2 or max(starts) == min(starts):
        return 0.0
    return (len(starts) - 1) / (max(starts) - min(starts))


def min_spacing(starts):
    """Smallest gap between two consecutive starts (seconds); None with fewer than two."""
    starts = sorted(starts)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    return min(gaps) if gaps else None


def close_starts(starts, spacing):
    """Pairs of consecutive starts closer than `spacing` seconds."""
    starts = sorted(starts)
    return sum(1 for a, b in zip(starts, starts[1:]) if b - a < spacing)


def max_open(connections, tolerance=0.0):
    """Most connections open at once. A connection counts as open from its start until
    `tolerance` seconds before its logged end, so that a "disconnect" line stamped a moment
    after the next connection's "connect" (smtpd logs the end after its last reply, while the
    client may already be connecting again) is not taken for two connections at once. Still
    open at the end of the log: open until then."""
    events = []
    last = max((c.end or c.start for c in connections), default=0.0)
    for c in connections:
        end = max(c.start, (c.end if c.end is not None else last) - tolerance)
        # At equal times an end comes before a start (back to back is not overlapping), except
        # a connection's own end, which must follow its start.
        events.append((c.start, 1, 1))
        events.append((end, 2 if end == c.start else 0, -1))
    events.sort()
    current = best = 0
    for _, _, delta in events:
        current += delta
        best = max(best, current)
    return best
