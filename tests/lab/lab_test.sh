#!/usr/bin/env bash
# End-to-end test of the local lab (deploy/lab): builds it, probes it from both regions with the
# real tlsweep binary, tears it down and checks that nothing is left.
# Usage: tests/lab/lab_test.sh [PATH/TO/tlsweep]   (root; exit 0 pass, 1 fail, 77 skipped)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
TLSWEEP="${1:-$ROOT/build/bin/tlsweep}"
PY=/usr/bin/python3
failures=0

pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
skip() { printf 'SKIP  %s\n' "$*"; exit 77; }

[[ $EUID -eq 0 ]] || skip "needs root (network namespaces, port 25)"
[[ -x "$TLSWEEP" ]] || { echo "no tlsweep binary at $TLSWEEP"; exit 1; }
for cmd in ip nft postfix unbound openssl dig; do
  command -v "$cmd" >/dev/null || skip "$cmd is not installed (.ci/install-deps installs it)"
done
[[ -x "$PY" ]] || skip "$PY is not installed"

cleanup_done=
cleanup() {
  [[ -n "$cleanup_done" ]] && return
  cleanup_done=1
  "$LAB/down" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# field JSON_LINE EXPR: evaluates a Python expression over the first JSON object (as `r`).
field() {
  "$PY" -c 'import json,sys
lines=[l for l in sys.argv[1].splitlines() if l.strip().startswith("{")]
r=json.loads(lines[0]) if lines else {}
t=r.get("timings",{})
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# probe REGION TARGET [FLAGS...]: one JSON line per endpoint.
probe() {
  local region="$1" target="$2"; shift 2
  # shellcheck disable=SC2086
  ip netns exec "tw-$region" "$TLSWEEP" probe "$target" $LAB_PROBE_FLAGS --json "$@" 2>&1
}

# domain_of KIND [LISTENER]: the first lab domain of that kind (deploy/lab/expected.csv), on
# that listener if given (name_mismatch, for one, is on several).
domain_of() {
  awk -F, -v k="$1" -v l="${2:-}" '$2 == k && (l == "" || $4 == l) { print $1; exit }' \
    "$LAB/expected.csv"
}

# ---- up, twice ---------------------------------------------------------------------------------
echo "== deploy/lab/up"
if ! "$LAB/up"; then
  fail "deploy/lab/up"
  exit 1
fi
pass "up"
if out=$("$LAB/up" 2>&1) && grep -q "already up" <<<"$out"; then
  pass "up again is a no-op: $out"
else
  fail "up again: $out"
fi
# shellcheck disable=SC1091
source /run/tlsweep-lab/env
"$LAB/status" >/dev/null 2>&1 && pass "status says up" || fail "status"

# ---- modern negotiates TLS 1.3 from both regions ------------------------------------------------
modern=$(domain_of modern)
declare -A banner connect total
for region in $LAB_REGIONS; do
  out=$(probe "$region" "$modern")
  version=$(field "$out" 'r.get("tls",{}).get("version","")')
  if [[ "$version" == TLSV1_3 ]]; then
    pass "$region: $modern (modern) negotiates TLS 1.3"
  else
    fail "$region: $modern negotiated '$version': $out"
  fi
  banner[$region]=$(field "$out" 'int(t.get("banner_us",0))')
  connect[$region]=$(field "$out" 'int(t.get("connect_us",0))')
  total[$region]=$(field "$out" 'int(t.get("total_us",0))')
done

# ---- us is farther away than eu (the delay relay) ----------------------------------------------
banner_eu=${banner[eu]:-0} banner_us=${banner[us]:-0} total_eu=${total[eu]:-0} total_us=${total[us]:-0}
echo "timings (us): eu connect=${connect[eu]:-} banner=$banner_eu total=$total_eu;" \
  "us connect=${connect[us]:-} banner=$banner_us total=$total_us"
# One RTT is 2 x LAB_DELAY_MS; demand at least most of it on top of eu's.
min_extra=$((LAB_DELAY_MS * 2 * 1000 * 3 / 4))
if ((banner_us > banner_eu + min_extra && total_us > total_eu + 3 * min_extra)); then
  pass "us shows the added delay: banner ${banner_us}us vs ${banner_eu}us, total ${total_us}us vs ${total_eu}us"
else
  fail "us is not slower than eu by ${min_extra}us per round trip"
fi

# ---- the geofenced listener: filtered from eu, reachable from us -------------------------------
geo=$(domain_of geofenced)
out=$(probe eu "$geo" --connect-timeout 2000)
failure=$(field "$out" 'r.get("failure","").lower()')
[[ "$failure" == tcp_timeout ]] && pass "eu: $geo ($LAB_FILTERED_ADDRESS) is filtered: tcp_timeout" \
  || fail "eu: $geo gave '$failure': $out"
out=$(probe us "$geo" --connect-timeout 2000)
success=$(field "$out" 'r.get("tls",{}).get("success",False)')
[[ "$success" == True ]] && pass "us: $geo is reachable and negotiates TLS" \
  || fail "us: $geo: $out"

# ---- DNS cases ------------------------------------------------------------------------------------
for pair in null_mx:null_mx nxdomain:dns_nxdomain no_address:dns_no_address; do
  kind=${pair%%:*} want=${pair#*:}
  domain=$(domain_of "$kind")
  out=$(probe eu "$domain")
  failure=$(field "$out" 'r.get("failure","").lower()')
  [[ "$failure" == "$want" ]] && pass "eu: $domain ($kind) gives $want" \
    || fail "eu: $domain ($kind) gave '$failure': $out"
done

# ---- a few policies -------------------------------------------------------------------------------
out=$(probe eu "$(domain_of broken_tls)")
[[ $(field "$out" 'r.get("failure","").lower()') == starttls_refused ]] \
  && pass "brokentls: starttls_refused" || fail "brokentls: $out"
out=$(probe eu "$(domain_of no_starttls)")
[[ $(field "$out" 'r.get("failure","").lower()') == starttls_not_offered ]] \
  && pass "nostarttls: starttls_not_offered" || fail "nostarttls: $out"
out=$(probe eu "$(domain_of rsa_kx)")
[[ $(field "$out" 'r.get("tls",{}).get("suite",{}).get("iana_name","")') == TLS_RSA_WITH_AES_256_CBC_SHA ]] \
  && pass "rsakx: TLS_RSA_WITH_AES_256_CBC_SHA" || fail "rsakx: $out"
out=$(probe eu "$(domain_of legacy)" --legacy)
[[ $(field "$out" 'r.get("tls",{}).get("version","")') == TLSV1_1 ]] \
  && pass "legacy (--legacy): TLS 1.1" || fail "legacy: $out"

# ---- hosted providers: many MX names on one address; hosted_sni picks a certificate by SNI ------
# kind listener version name_match expired: what the customer's own MX name gets.
for want in "hosted_a hosted_a TLSV1_3 True False" \
            "hosted_b hosted_b TLSV1_2 True False" \
            "name_mismatch hosted_b TLSV1_2 False False" \
            "hosted_sni hosted_sni TLSV1_3 True False" \
            "expired_cert hosted_sni TLSV1_3 True True" \
            "name_mismatch hosted_sni TLSV1_3 False False"; do
  read -r kind listener version match expired <<<"$want"
  domain=$(domain_of "$kind" "$listener")
  for region in $LAB_REGIONS; do
    out=$(probe "$region" "$domain")
    got=$(field "$out" '" ".join(str(x) for x in (r.get("address"), r.get("tls",{}).get("version"),
      r.get("tls",{}).get("verification",{}).get("hostname_match",False),
      r.get("tls",{}).get("verification",{}).get("expired",False)))')
    address_var=LAB_LISTENER_$listener
    [[ "$got" == "${!address_var} $version $match $expired" ]] \
      && pass "$region: $domain ($kind on $listener): $version, name match $match," \
        "expired $expired" \
      || fail "$region: $domain ($kind on $listener) gave '$got': $out"
  done
done

# ---- down, twice, and nothing left ----------------------------------------------------------------
lab_pids=$(for ns in tw-inet tw-eu tw-us; do ip netns pids "$ns" 2>/dev/null; done
           cat /run/tlsweep-lab/labd.pid /run/tlsweep-lab/pids/*.pid 2>/dev/null)
echo "== deploy/lab/down"
"$LAB/down" && pass "down" || fail "down"
"$LAB/down" && pass "down again" || fail "down again"
cleanup_done=1
left=$(ip netns list | awk '{print $1}' | grep '^tw-' || true)
[[ -z "$left" ]] && pass "no tw-* namespaces left" || fail "namespaces left: $left"
links=$(ip -br link | awk '{print $1}' | grep -E '^tw-(inet|eu|us)0' || true)
[[ -z "$links" ]] && pass "no lab links left" || fail "links left: $links"
routes=$(ip route show; ip -6 route show) 
grep -qE '198\.1[89]\.|2001:2:' <<<"$routes" && fail "routes left: $routes" || pass "no lab routes left"
[[ ! -e /run/tlsweep-lab ]] && pass "state dir removed" || fail "/run/tlsweep-lab is left"
alive=()
for pid in $lab_pids; do
  state=$(awk '{sub(/^.*\) /, ""); print $1}' "/proc/$pid/stat" 2>/dev/null || true)
  [[ -n "$state" && "$state" != Z && "$state" != X ]] && alive+=("$pid($(cat /proc/$pid/comm))")
done
((${#alive[@]} == 0)) && pass "no lab process left ($(wc -w <<<"$lab_pids") were running)" \
  || fail "lab processes left: ${alive[*]}"
if "$LAB/status" >/dev/null 2>&1; [[ $? -eq 2 ]]; then pass "status says down"; else fail "status after down"; fi

echo
if ((failures)); then
  echo "lab_test: $failures check(s) FAILED"
  exit 1
fi
echo "lab_test: all checks passed"
