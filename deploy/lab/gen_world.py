#!/usr/bin/python3
"""Generates the lab's DNS zone and domain list (deterministic: same seed, same files).

Writes, next to this script:
  zone.test     the zone "test." that the lab's unbound serves (MX/A/AAAA of ~5000 domains)
  domains.txt   the lab domain list, "domain,weight" lines (weights are mail volume, skewed)
  expected.csv  ground truth: domain,kind,mx_hosts,listeners (kind says what a scan should find;
                listeners names the lab.sh listener behind each MX host, in the same order)
  sni.txt       the SNI table of the hosted_sni listener: "name certificate" lines, read by `up`

The files are committed; run this again only to change the world, then `deploy/lab/down` and
`deploy/lab/up`. Two shapes of the Internet live side by side:
- dNNNN.lab.test: each provider's MX hosts live under a name of their own (mx.bigmail.test ...),
  so that "provider = registrable domain of the MX" groups them as it would on the Internet.
- hNNNN.lab.test: customers of hosted providers, each with an MX name of its own
  (hNNNN.mail.protection.hosted-a.test, mx0a-NNNN.hosted-b.test, sNN.sni-host.test) that
  resolves to one shared address per provider, so that a scanner can probe each (address, port)
  once, except where the answer depends on SNI (hosted_sni gives each name its own certificate).
- mNNNN.lab.test: domains on real non-Postfix MTAs (Exim, OpenSMTPD, Haraka: mtas.py), each MX
  host under a registrable domain of its own (mx.eximhost.test ...); appended at the end of
  every file.
Addresses come from lab.sh's layout (198.18.0.0/24 and 2001:2::/64 inside the tw-inet
namespace). The dNNNN part is what seed 2544 always made; the hosted part and the MTA part each
draw from a random generator of their own, so adding them changed none of the dNNNN (or hNNNN)
domains, kinds or weights.
"""

import argparse
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

# Provider host -> (IPv4, IPv6 or None). Must match LISTENERS in lab.sh.
HOSTS = {
    "mx.bigmail.test": ("198.18.0.10", "2001:2::10"),      # modern
    "mx.midhost.test": ("198.18.0.11", "2001:2::11"),      # postfix defaults
    "mx.oldcorp.test": ("198.18.0.12", None),              # legacy TLS 1.0/1.1 CBC
    "mx.rsaonly.test": ("198.18.0.13", None),              # TLS 1.2 AES256-SHA only
    "mx.plaintext.test": ("198.18.0.14", None),            # no STARTTLS
    "mx.brokentls.test": ("198.18.0.15", None),            # STARTTLS -> 454
    "mx.expired.test": ("198.18.0.16", None),              # expired certificate
    "mx.mismatch.test": ("198.18.0.17", None),             # certificate for another name
    "mx.geofenced.test": ("198.18.0.18", None),            # defaults; filtered from eu
    "mx.dead.test": ("198.18.0.19", None),                 # nothing listens: refused
    # Hosted providers' own names (the listener's myhostname; customers' MX names are below).
    "mail.protection.hosted-a.test": ("198.18.0.20", None),  # hosted_a: defaults, wildcard
    "mx.hosted-b.test": ("198.18.0.21", None),               # hosted_b: TLS 1.2 ECDHE+AESGCM
    "mx.sni-host.test": ("198.18.0.22", None),               # hosted_sni: certificate per SNI
}
LISTENER_OF = {  # MX host -> lab.sh listener name
    "mx.bigmail.test": "modern", "mx.midhost.test": "defaults", "mx.oldcorp.test": "legacy",
    "mx.rsaonly.test": "rsakx", "mx.plaintext.test": "nostarttls",
    "mx.brokentls.test": "brokentls", "mx.expired.test": "expired",
    "mx.mismatch.test": "mismatch", "mx.geofenced.test": "geofenced", "mx.dead.test": "dead",
    "mail.protection.hosted-a.test": "hosted_a", "mx.hosted-b.test": "hosted_b",
    "mx.sni-host.test": "hosted_sni",
}

# The real MTAs (lab.sh listeners served by mtas.py, not Postfix): MX host -> (IPv4, listener).
# Written at the end of zone.test, so that the lines before stay as they were.
MTA_HOSTS = {
    "mx.eximhost.test": ("198.18.0.23", "exim_defaults"),       # Exim, Debian's GnuTLS defaults
    "mx.p384mail.test": ("198.18.0.24", "exim_p384"),           # Exim, groups P-384/P-521 only
    "mx.ratelimited.test": ("198.18.0.25", "exim_ratelimited"),  # Exim, 451 beyond 1 conn/s
    "mx.opensmtpd.test": ("198.18.0.26", "opensmtpd_broken"),   # fails every handshake
    "mx.harakamail.test": ("198.18.0.27", "haraka"),            # Haraka, Node's defaults
}
MTA_SEED_SALT = "mtas"        # its own random generator: the dNNNN and hNNNN parts stay
# kind -> (domains, MX records as (preference, host)). What each kind means for a scan:
#   exim_defaults, haraka    TLS negotiated under any usual client configuration
#   exim_p384                TLS <= 1.2 with ECDHE over P-384/P-521 only: fails a client whose
#                            groups include neither (both of `scan`'s candidates include both)
#   exim_ratelimited         Exim's defaults behind a 451 connection-rate limit: a client that
#                            backs off and retries gets the true verdict
#   broken_server            OpenSMTPD that fails every handshake after its ServerHello
#   broken_server_backup     that broken primary, Haraka as the backup: degraded, not failing
MTA_KINDS = [
    ("exim_defaults", 10, [(10, "mx.eximhost.test")]),
    ("exim_p384", 8, [(10, "mx.p384mail.test")]),
    ("exim_ratelimited", 6, [(10, "mx.ratelimited.test")]),
    ("broken_server", 6, [(10, "mx.opensmtpd.test")]),
    ("haraka", 6, [(10, "mx.harakamail.test")]),
    ("broken_server_backup", 4, [(10, "mx.opensmtpd.test"), (20, "mx.harakamail.test")]),
]
# Their mail volume: Zipf over their own ranking, ranks shifted like the hosted part's.
MTA_RANK_OFFSET = 200

# kind -> (share of the zone's domains, MX records as (preference, host)). Skewed like real
# providers: one big provider serves most domains.
KINDS = [
    ("modern", 0.55, [(10, "mx.bigmail.test")]),
    ("defaults", 0.17, [(10, "mx.midhost.test")]),
    ("geofenced", 0.08, [(10, "mx.geofenced.test")]),
    ("legacy", 0.05, [(10, "mx.oldcorp.test")]),
    ("rsa_kx", 0.03, [(10, "mx.rsaonly.test")]),
    ("no_starttls", 0.03, [(10, "mx.plaintext.test")]),
    ("expired_cert", 0.02, [(10, "mx.expired.test")]),
    ("name_mismatch", 0.02, [(10, "mx.mismatch.test")]),
    ("broken_tls", 0.015, [(10, "mx.brokentls.test")]),
    # Two MX: the primary fails, the backup works.
    ("dead_primary", 0.01, [(10, "mx.dead.test"), (20, "mx.bigmail.test")]),
    ("broken_primary", 0.005, [(10, "mx.brokentls.test"), (20, "mx.midhost.test")]),
]
FIXED = {  # kind -> count, taken out of the total before the shares apply
    "null_mx": 20,          # MX 0 . (RFC 7505)
    "no_address": 10,       # MX host without A/AAAA
    "implicit_mx": 10,      # no MX, an A record (RFC 5321 implicit MX) -> midhost
}
NXDOMAIN = 20               # names in the list that the zone does not have

# The hosted part: hNNNN.lab.test, one MX name per customer, all on the provider's one address.
HOSTED_SEED_SALT = "hosted"   # its own random generator: the dNNNN part stays as it was
HOSTED_A = 1160               # hNNNN.mail.protection.hosted-a.test, wildcard cert: all match
HOSTED_B = 770                # mx0a-NNNN.hosted-b.test, wildcard *.hosted-b.test: all match
HOSTED_B_VANITY = 30          # mail.hNNNN.lab.test on hosted_b's address: name_mismatch
# hosted_sni: sNN.sni-host.test, what each name's SNI gets (sni.txt), in name order.
#   own      its own certificate (SAN = the name)          -> kind hosted_sni (TLS ok, name ok)
#   expired  its own certificate, expired 2021-01-01       -> kind expired_cert
#   other    a certificate for another SNI name (s01's)    -> kind name_mismatch
#   default  not in the SNI table: the listener's default certificate (mx.sni-host.test)
#                                                          -> kind name_mismatch
SNI_MIX = [("own", 28), ("expired", 3), ("other", 2), ("default", 3)]
SNI_DOMAINS = 40              # more domains than names: a few names serve two customers
# Mail volume of the hosted domains: Zipf as for dNNNN, over their own ranking, with the ranks
# shifted by this much so that the top hosted customer is not the world's biggest sender.
# Gives the hosted part about a fifth of the volume for two fifths of the domains.
HOSTED_RANK_OFFSET = 100


def zipf(rank, offset=0):
    return max(1, int(1_000_000 / ((rank + offset) ** 1.1)))


def hosted_world(seed):
    """The hosted domains: [(domain, kind, [mx hosts], {host: address})], sni.txt lines."""
    rng = random.Random(f"{seed}-{HOSTED_SEED_SALT}")
    a4, b4, sni4 = (HOSTS[h][0] for h in ("mail.protection.hosted-a.test", "mx.hosted-b.test",
                                          "mx.sni-host.test"))
    sni_names = []
    for certificate, count in SNI_MIX:
        sni_names += [certificate] * count
    names = [f"s{i:02d}.sni-host.test" for i in range(1, len(sni_names) + 1)]
    sni_lines = ["# hosted_sni's SNI table (gen_world.py): name certificate",
                 "# own | expired: a certificate of its own; other NAME: NAME's certificate;",
                 "# default: not in the table (the listener's default certificate)"]
    sni_kind = {}
    for name, certificate in zip(names, sni_names):
        if certificate == "other":
            sni_lines.append(f"{name} other {names[0]}")
        else:
            sni_lines.append(f"{name} {certificate}")
        sni_kind[name] = {"own": "hosted_sni", "expired": "expired_cert"}.get(
            certificate, "name_mismatch")
    # Every name gets a customer; the rest of the customers share a random few.
    sni_of = names + rng.sample(names, SNI_DOMAINS - len(names))

    shapes = (["a"] * HOSTED_A + ["b"] * HOSTED_B + ["vanity"] * HOSTED_B_VANITY
              + ["sni"] * SNI_DOMAINS)
    rng.shuffle(shapes)
    world = []
    sni_next = iter(rng.sample(sni_of, len(sni_of)))
    for i, shape in enumerate(shapes, start=1):
        domain = f"h{i:04d}.lab.test"
        if shape == "a":
            host = f"h{i:04d}.mail.protection.hosted-a.test"
            world.append((domain, "hosted_a", host, a4, "hosted_a"))
        elif shape == "b":
            host = f"mx0a-{i:04d}.hosted-b.test"
            world.append((domain, "hosted_b", host, b4, "hosted_b"))
        elif shape == "vanity":
            host = f"mail.{domain}"  # the customer's own name for the provider's address
            world.append((domain, "name_mismatch", host, b4, "hosted_b"))
        else:
            host = next(sni_next)
            world.append((domain, sni_kind[host], host, sni4, "hosted_sni"))
    return world, sni_lines, rng


def mta_world(seed):
    """The real-MTA domains, in list order: [(domain, kind, [(preference, host)], weight)]."""
    rng = random.Random(f"{seed}-{MTA_SEED_SALT}")
    kinds = []
    for kind, count, _ in MTA_KINDS:
        kinds += [kind] * count
    rng.shuffle(kinds)
    mx_of = {kind: mx for kind, _, mx in MTA_KINDS}
    domains = [f"m{i:04d}.lab.test" for i in range(1, len(kinds) + 1)]
    ranking = domains[:]
    rng.shuffle(ranking)
    weight = {d: zipf(rank, MTA_RANK_OFFSET) for rank, d in enumerate(ranking, 1)}
    return [(d, kind, mx_of[kind], weight[d]) for d, kind in zip(domains, kinds)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=3000, help="domains in the zone")
    parser.add_argument("--seed", type=int, default=2544)
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    kinds = []
    for kind, count in FIXED.items():
        kinds += [kind] * count
    rest = args.domains - len(kinds)
    counts = [int(round(share * rest)) for _, share, _ in KINDS]
    counts[0] += rest - sum(counts)  # rounding goes to the big provider
    for (kind, _, _), count in zip(KINDS, counts):
        kinds += [kind] * count
    rng.shuffle(kinds)
    mx_of = {kind: mx for kind, _, mx in KINDS}

    domains = [(f"d{i:04d}.lab.test", kind) for i, kind in enumerate(kinds, start=1)]
    nx = [f"gone{i:02d}.lab.test" for i in range(1, NXDOMAIN + 1)]

    zone = [
        "; Generated by deploy/lab/gen_world.py; do not edit by hand.",
        "$TTL 3600",
        "test. IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300",
        "test. IN NS ns.lab.test.",
        "ns.lab.test. IN A 198.18.0.53",
    ]
    for host, (v4, v6) in sorted(HOSTS.items()):
        zone.append(f"{host}. IN A {v4}")
        if v6:
            zone.append(f"{host}. IN AAAA {v6}")
    expected = {}  # domain -> its expected.csv line
    for domain, kind in domains:
        if kind == "null_mx":
            zone.append(f"{domain}. IN MX 0 .")
            expected[domain] = f"{domain},{kind},.,-"
        elif kind == "no_address":
            zone.append(f"{domain}. IN MX 10 mx.{domain}.")
            zone.append(f"mx.{domain}. IN TXT \"no address here\"")
            expected[domain] = f"{domain},{kind},mx.{domain},-"
        elif kind == "implicit_mx":
            zone.append(f"{domain}. IN A {HOSTS['mx.midhost.test'][0]}")
            expected[domain] = f"{domain},{kind},{domain},defaults"
        else:
            for preference, host in mx_of[kind]:
                zone.append(f"{domain}. IN MX {preference} {host}.")
            expected[domain] = (f"{domain},{kind}," + " ".join(h for _, h in mx_of[kind]) + ","
                                + " ".join(LISTENER_OF[h] for _, h in mx_of[kind]))
    for domain in nx:
        expected[domain] = f"{domain},nxdomain,,"

    # Mail volume: Zipf over a random ranking, so a few domains carry most of the mail.
    listed = [d for d, _ in domains] + nx
    ranking = listed[:]
    rng.shuffle(ranking)
    weight = {d: zipf(rank) for rank, d in enumerate(ranking, 1)}

    hosted, sni_lines, hosted_rng = hosted_world(args.seed)
    zone.append("; Hosted providers' customers: one MX name each, a few shared addresses.")
    seen = set()
    for domain, kind, host, address, listener in hosted:
        zone.append(f"{domain}. IN MX 10 {host}.")
        if host not in seen:  # hosted_sni names can serve several customers
            seen.add(host)
            zone.append(f"{host}. IN A {address}")
        expected[domain] = f"{domain},{kind},{host},{listener}"
    hosted_names = [d for d, *_ in hosted]
    ranking = hosted_names[:]
    hosted_rng.shuffle(ranking)
    weight.update({d: zipf(rank, HOSTED_RANK_OFFSET) for rank, d in enumerate(ranking, 1)})
    # Hosted customers sit among the others (keeping both orders), as in a real list: every
    # shard then holds names of the shared addresses.
    slots = set(hosted_rng.sample(range(len(listed) + len(hosted_names)), len(hosted_names)))
    rest, customers, order = iter(listed), iter(hosted_names), []
    for slot in range(len(listed) + len(hosted_names)):
        order.append(next(customers) if slot in slots else next(rest))

    lines = ["# tlsweep lab domain list: domain,weight (mail volume). Generated by gen_world.py."]
    lines += [f"{d},{weight[d]}" for d in order]
    rows = ["domain,kind,mx_hosts,listeners"] + [expected[d] for d in order]

    # The real MTAs' domains: appended to every file (what came before stays as it was).
    mtas = mta_world(args.seed)
    zone.append("; Real non-Postfix MTAs (Exim, OpenSMTPD, Haraka): a provider name each.")
    for host, (v4, _) in sorted(MTA_HOSTS.items()):
        zone.append(f"{host}. IN A {v4}")
    for domain, kind, mx, weight_of in mtas:
        for preference, host in mx:
            zone.append(f"{domain}. IN MX {preference} {host}.")
        lines.append(f"{domain},{weight_of}")
        rows.append(f"{domain},{kind}," + " ".join(h for _, h in mx) + ","
                    + " ".join(MTA_HOSTS[h][1] for _, h in mx))

    for name, content in (("zone.test", zone), ("domains.txt", lines),
                          ("expected.csv", rows), ("sni.txt", sni_lines)):
        with open(os.path.join(args.out, name), "w") as out:
            out.write("\n".join(content) + "\n")
    hosted_weight = sum(weight[d] for d in hosted_names)
    print(f"{len(domains)} + {len(hosted)} hosted + {len(mtas)} real-MTA domains in the zone, "
          f"{len(nx)} NXDOMAIN names, {len(lines) - 1} in domains.txt; hosted volume share "
          f"{hosted_weight / sum(weight.values()):.1%}")


if __name__ == "__main__":
    main()
