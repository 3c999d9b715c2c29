"""A generated mail world for politeness measurements: domains, their MX names, and which
Postfix listener (loopback address) each MX name points at, as zone-file records for unbound.

Everything lives under the `test.` zone (RFC 2606), so that providers can be told apart: an
agent's provider key is the registrable domain of the MX host, and with `test` as the public
suffix `mx3.p1.test` belongs to provider `p1.test`.

Two shapes:
- shared: MX names spread round-robin over listeners, listeners grouped into providers, several
  domains per MX name (a few providers serving many domains under a few names each);
- hosted: every domain has its own MX name (`<domain>.mx.hosted.test`) and all of them point at
  one address, as large hosted-mail providers do.
"""
import collections
import dataclasses

ZONE = "test."


@dataclasses.dataclass
class World:
    domains: list                    # Domain names, in list order.
    mx_of: dict                      # domain -> MX name.
    listener_of: dict                # MX name -> listener name.
    provider_of: dict                # listener name -> provider (registrable domain).
    records: list = dataclasses.field(default_factory=list)  # Zone-file lines.

    def domains_per_listener(self):
        return collections.Counter(self.listener_of[self.mx_of[d]] for d in self.domains)

    def names_per_listener(self):
        return collections.Counter(self.listener_of.values())

    def write_domains(self, path):
        with open(path, "w") as out:
            out.write("".join(f"{d}\n" for d in self.domains))


def shared(listeners, providers, domains, names, prefix="d"):
    """listeners: {name: address}; `providers` groups of consecutive listeners (each group one
    provider, p1.test...); `domains` domains over `names` MX names, round-robin."""
    listener_names = list(listeners)
    provider_of = {name: f"p{1 + i * providers // len(listener_names)}.test"
                   for i, name in enumerate(listener_names)}
    world = World([], {}, {}, provider_of)
    for n in range(names):
        listener = listener_names[n % len(listener_names)]
        mx = f"mx{n}.{provider_of[listener]}"
        world.listener_of[mx] = listener
        world.records.append(f"{mx}. IN A {listeners[listener]}")
    mx_names = list(world.listener_of)
    for i in range(domains):
        domain = f"{prefix}{i}.customers.test"
        world.domains.append(domain)
        world.mx_of[domain] = mx_names[i % len(mx_names)]
        world.records.append(f"{domain}. IN MX 10 {world.mx_of[domain]}.")
    return world


def hosted(listener, address, domains, prefix="h"):
    """`domains` domains, each with its own MX name, all on `address` (provider hosted.test)."""
    world = World([], {}, {}, {listener: "hosted.test"})
    for i in range(domains):
        domain = f"{prefix}{i}.customers.test"
        mx = f"{prefix}{i}-customers.mx.hosted.test"
        world.domains.append(domain)
        world.mx_of[domain] = mx
        world.listener_of[mx] = listener
        world.records += [f"{domain}. IN MX 10 {mx}.", f"{mx}. IN A {address}"]
    return world
