#!/usr/bin/env python3
"""Checks that the kustomize overlays in deploy/k8s/overlays can be applied and deleted apart.

Each overlay is applied on its own (`kubectl apply -k`) and so can be deleted on its own: no
object may come from two overlays, or `kubectl delete -k overlays/region-eu` would take the
coordinator (or the other region's agents) with it.

Mode "layout" reads the kustomization files, without kubectl:
- there is an overlay "coordinator" (with the Namespace and the StatefulSet);
- no object (kind and name, after nameSuffix/namePrefix) is reached from two overlays;
- a region-* overlay reaches only agent objects (no Namespace, nothing of the coordinator);
- no two workloads' selectors overlap, and a region's selects its tlsweep.io/region label, as
  the labels (includeSelectors) of the kustomizations on the way make them (patches are not modelled: the render mode sees them).

Mode "render" renders every overlay with `kubectl kustomize` and checks the objects:
- no (kind, namespace, name) is emitted by two overlays;
- each workload's selector matches its own pod template and no other workload's pods;
- a region overlay holds only its region's agents, in the coordinator's namespace, with
  --region and the tlsweep.io/region label equal to the overlay's region;
- the coordinator overlay holds the Namespace, the StatefulSet and its Service, and no agents.
Without kubectl (it is not a Debian 12 package) this mode exits 77, which ctest reports as
skipped.

Usage: kustomize_test.py layout|render REPO_ROOT
"""
import pathlib
import shutil
import subprocess
import sys

import yaml

MODE, ROOT = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
OVERLAYS = ROOT / "deploy/k8s/overlays"
AGENT = {"app.kubernetes.io/name": "tlsweep-agent"}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def load(path):
    return [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d]


def key(obj):
    meta = obj["metadata"]
    return (obj["kind"], meta.get("namespace", ""), meta["name"])


def region_of(overlay):
    return overlay.name[len("region-"):] if overlay.name.startswith("region-") else None


def is_agent(obj):
    return AGENT.items() <= obj["metadata"].get("labels", {}).items()


def reached(directory):
    """(file, object, name, selector) for every object a kustomization reaches, with the
    nameSuffix/namePrefix and selector labels of each kustomization on the way applied."""
    kustomization = load(directory / "kustomization.yaml")[0]
    added = dict(kustomization.get("commonLabels", {}))
    for entry in kustomization.get("labels", []):
        if entry.get("includeSelectors"):
            added.update(entry.get("pairs", {}))
    prefix, suffix = kustomization.get("namePrefix", ""), kustomization.get("nameSuffix", "")
    found = []
    for entry in kustomization.get("resources", []) + kustomization.get("components", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            found += reached(path)
        else:
            for obj in load(path):
                selector = obj["spec"]["selector"]["matchLabels"] if obj["kind"] in WORKLOADS else None
                found.append((path, obj, obj["metadata"]["name"], selector))
    return [(path, obj, prefix + name + suffix, selector if selector is None else {**selector, **added})
            for path, obj, name, selector in found]


def layout(overlays):
    check((OVERLAYS / "coordinator") in overlays, "there is no overlays/coordinator")
    owner, selectors = {}, {}
    for overlay in overlays:
        objects = reached(overlay)
        for path, obj, name, selector in objects:
            where = f"{obj['kind']} {name} ({path.relative_to(ROOT)})"
            check((obj["kind"], name) not in owner,
                  f"{where} comes from both overlays/{owner.get((obj['kind'], name))} and overlays/{overlay.name}")
            owner.setdefault((obj["kind"], name), overlay.name)
            if region_of(overlay):
                check(is_agent(obj), f"overlays/{overlay.name} reaches {where}, not an agent object")
            if selector is not None:
                # Pods carry at least their own selector's labels, so a selector that is a
                # subset of another's selects that workload's pods too.
                for other, other_overlay in selectors.items():
                    check(not (selector.items() <= dict(other).items() or
                               dict(other).items() <= selector.items()),
                          f"{where} in overlays/{overlay.name} and a workload of overlays/{other_overlay} "
                          f"select each other's pods: {selector}, {dict(other)}")
                selectors[tuple(sorted(selector.items()))] = overlay.name
                if region_of(overlay):
                    check(selector.get("tlsweep.io/region") == region_of(overlay),
                          f"{where}: overlays/{overlay.name} selects no tlsweep.io/region={region_of(overlay)}")
        if overlay.name == "coordinator":
            kinds = {obj["kind"] for _, obj, _, _ in objects}
            check({"Namespace", "StatefulSet"} <= kinds, f"overlays/coordinator has only {kinds}")


def render(overlays):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("SKIP: kubectl is not installed; the layout mode still checks the files")
        sys.exit(77)
    rendered = {}
    for overlay in overlays:
        out = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True,
                             timeout=120)
        check(out.returncode == 0, f"kubectl kustomize overlays/{overlay.name}: {out.stderr.strip()}")
        rendered[overlay.name] = [d for d in yaml.safe_load_all(out.stdout) if d]
    emitted = {}
    for name, objects in rendered.items():
        for obj in objects:
            check(key(obj) not in emitted,
                  f"{key(obj)} comes from both overlays/{emitted.get(key(obj))} and overlays/{name}")
            emitted.setdefault(key(obj), name)
    workloads = [(name, obj) for name, objects in rendered.items() for obj in objects
                 if obj["kind"] in WORKLOADS]
    for name, obj in workloads:
        selector = obj["spec"]["selector"]["matchLabels"]
        check(selector.items() <= obj["spec"]["template"]["metadata"]["labels"].items(),
              f"overlays/{name}: {key(obj)} selector {selector} does not match its own pods")
        for other_name, other in workloads:
            same_namespace = obj["metadata"].get("namespace") == other["metadata"].get("namespace")
            if other is not obj and same_namespace:
                check(not selector.items() <= other["spec"]["template"]["metadata"]["labels"].items(),
                      f"{key(obj)} (overlays/{name}) selects the pods of {key(other)} "
                      f"(overlays/{other_name}): {selector}")
    coordinator = rendered.get("coordinator", [])
    namespaces = [obj["metadata"]["name"] for obj in coordinator if obj["kind"] == "Namespace"]
    check(len(namespaces) == 1, f"overlays/coordinator has Namespaces {namespaces}")
    sets = [obj for obj in coordinator if obj["kind"] == "StatefulSet"]
    check(len(sets) == 1, "overlays/coordinator has no coordinator StatefulSet")
    for obj in coordinator:
        check(not is_agent(obj), f"overlays/coordinator holds the agent object {key(obj)}")
        if obj["kind"] == "Service" and sets:
            pods = sets[0]["spec"]["template"]["metadata"]["labels"]
            check(obj["spec"]["selector"].items() <= pods.items(),
                  f"Service {obj['metadata']['name']} does not select the coordinator's pods")
    for overlay in overlays:
        region = region_of(overlay)
        if region is None:
            continue
        objects = rendered[overlay.name]
        check(any(obj["kind"] == "Deployment" for obj in objects), f"overlays/{overlay.name} has no Deployment")
        for obj in objects:
            where = f"overlays/{overlay.name}: {key(obj)}"
            check(is_agent(obj) and obj["kind"] != "Namespace", f"{where} is not an agent object")
            check(obj["metadata"].get("namespace") in namespaces, f"{where} is not in {namespaces}")
            check(obj["metadata"].get("labels", {}).get("tlsweep.io/region") == region,
                  f"{where} lacks the label tlsweep.io/region={region}")
            if obj["kind"] == "Deployment":
                args = [a for c in obj["spec"]["template"]["spec"]["containers"] for a in c.get("args", [])]
                check(f"--region={region}" in args, f"{where} does not pass --region={region}: {args}")


overlays = sorted(p for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists())
{"layout": layout, "render": render}[MODE](overlays)
print(f"{MODE}: {len(overlays)} overlays, {len(failures)} failures")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
