# Shared layout and helpers of the tlsweep lab; sourced by deploy/lab/{up,down,status}.
# shellcheck shell=bash

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_STATE="${TLSWEEP_LAB_STATE:-/run/tlsweep-lab}"
LAB_PYTHON=/usr/bin/python3   # Debian's, not a pyenv shim: daemons must not depend on a shell.

# Namespaces: "the internet" (all mail servers and DNS) and the regions.
NS_INET=tw-inet
LAB_REGIONS="eu us"

# Links. Host-side interface names are the only things the lab creates in the root namespace
# (plus routes through them). Peers live in the namespaces.
#   host  tw-inet0 198.19.0.1/30  <-> tw-inet host0 198.19.0.2/30   (host reaches the listeners)
#   host  tw-eu0   198.19.1.1/30  <-> tw-eu   host0 198.19.1.2/30   (agent -> coordinator)
#   host  tw-us0   198.19.2.1/30  <-> tw-us   host0 198.19.2.2/30
#   tw-inet eu0 198.18.1.1/30     <-> tw-eu   inet0 198.18.1.2/30   (region -> internet)
#   tw-inet us0 198.18.2.1/30     <-> tw-us   inet0 198.18.2.2/30
# IPv6 (RFC 5180 benchmarking prefix 2001:2::/48): listeners 2001:2::/64 on tw-inet's lo,
# links 2001:2:0:1::/64 (eu) and 2001:2:0:2::/64 (us), host link 2001:2:0:100::/64.
LAB_PREFIX4=198.18.0.0/24
LAB_PREFIX6=2001:2::/64
LAB_RESOLVER=198.18.0.53
declare -A REGION_INDEX=([eu]=1 [us]=2)

# Listeners: name address policy host-name (myhostname, and the certificate's name) [ipv6].
# Keep in step with HOSTS and MTA_HOSTS in gen_world.py. Names are shell words (env variables,
# syslog names).
# The hosted_* listeners are hosted providers: many customer MX names share each address
# (hNNNN.mail.protection.hosted-a.test, mx0a-NNNN.hosted-b.test, sNN.sni-host.test); hosted_a
# and hosted_b hold one wildcard certificate, hosted_sni picks a certificate by SNI (sni.txt).
LISTENERS=(
  "modern     198.18.0.10 modern     mx.bigmail.test    2001:2::10"
  "defaults   198.18.0.11 defaults   mx.midhost.test    2001:2::11"
  "legacy     198.18.0.12 legacy     mx.oldcorp.test    -"
  "rsakx      198.18.0.13 rsakx      mx.rsaonly.test    -"
  "nostarttls 198.18.0.14 nostarttls mx.plaintext.test  -"
  "brokentls  198.18.0.15 brokentls  mx.brokentls.test  -"
  "expired    198.18.0.16 expired    mx.expired.test    -"
  "mismatch   198.18.0.17 mismatch   mx.mismatch.test   -"
  "geofenced  198.18.0.18 defaults   mx.geofenced.test  -"
  "hosted_a   198.18.0.20 defaults   mail.protection.hosted-a.test -"
  "hosted_b   198.18.0.21 tls12gcm   mx.hosted-b.test   -"
  "hosted_sni 198.18.0.22 sni        mx.sni-host.test   -"
  # Real non-Postfix MTAs (mtas.py; unpacked by tests/testing/fetch_mtas): their policy names
  # the daemon and its configuration, see LAB_MTA_POLICIES.
  "exim_defaults    198.18.0.23 exim             mx.eximhost.test    -"
  "exim_p384        198.18.0.24 exim_p384        mx.p384mail.test    -"
  "exim_ratelimited 198.18.0.25 exim_ratelimited mx.ratelimited.test -"
  "opensmtpd_broken 198.18.0.26 opensmtpd        mx.opensmtpd.test   -"
  "haraka           198.18.0.27 haraka           mx.harakamail.test  -"
)
# Policies served by a daemon of their own under labd (deploy/lab/mtas.py), not by Postfix.
LAB_MTA_POLICIES="exim exim_p384 exim_ratelimited opensmtpd haraka"
# is_mta_policy POLICY: true for a real non-Postfix MTA's listener.
is_mta_policy() { [[ " $LAB_MTA_POLICIES " == *" $1 "* ]]; }
# mta_listeners: the names of the listeners that run a daemon of their own (services of labd).
mta_listeners() {
  local line name address policy host v6
  for line in "${LISTENERS[@]}"; do
    read -r name address policy host v6 <<<"$line"
    if is_mta_policy "$policy"; then echo "$name"; fi
  done
}
LAB_SNI_ADDRESS=198.18.0.22      # hosted_sni; its table: $LAB_DIR/sni.txt (gen_world.py)
LAB_DEAD_ADDRESS=198.18.0.19     # on tw-inet's lo, nothing listens: connections are refused
LAB_FILTERED_REGION=eu           # drops TCP to port 25 of the geofenced listener
LAB_FILTERED_ADDRESS=198.18.0.18
LAB_DELAYED_REGION=us            # port 25 goes through delay_relay.py
LAB_DELAY_MS="${TLSWEEP_LAB_DELAY_MS:-80}"  # one way
LAB_RELAY_PORT=10025
LAB_RELAY_MARK=0x2a

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# ns_exec NS CMD...: run in a namespace.
ns_exec() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# lab_namespaces: every tw-* namespace that exists (the lab's, also from a half-built run).
lab_namespaces() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^(${NS_INET}|tw-eu|tw-us)$" || true
}

# banner NS ADDRESS [PORT] [TIMEOUT]: prints the first line an SMTP server sends, or fails.
banner() {
  local ns="$1" address="$2" port="${3:-25}" wait="${4:-5}"
  ns_exec "$ns" timeout "$wait" bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    IFS= read -r line <&3 || exit 1
    printf "QUIT\r\n" >&3
    printf "%s\n" "${line%$'"'"'\r'"'"'}"
    [[ $line == 220* ]]' _ "$address" "$port" 2>/dev/null
}

# dns_ok NS NAME TYPE: unbound answers from NS (any rcode counts as answering).
dns_answer() {
  local ns="$1" name="$2" type="$3"
  ns_exec "$ns" dig +short +time=2 +tries=2 @"$LAB_RESOLVER" "$name" "$type" 2>/dev/null
}

# pid_alive PID: running and not a zombie.
pid_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{sub(/^.*\) /, ""); print $1}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# ---------------------------------------------------------------------------------------------
# Teardown, shared by `down` and by `up` (which cleans a half-built lab before building).
# Idempotent: every step tolerates "already gone".
lab_teardown() {
  local pid ns tries
  # 1. The supervisor stops and reaps every daemon it started.
  if [[ -f "$LAB_STATE/labd.pid" ]]; then
    pid=$(cat "$LAB_STATE/labd.pid" 2>/dev/null || true)
    if pid_alive "$pid" && grep -q labd.py "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((tries = 0; tries < 200; tries++)); do
        pid_alive "$pid" || break
        sleep 0.1
      done
      if pid_alive "$pid"; then
        lab_log "supervisor $pid did not stop in 20 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  # 2. Daemons whose pid files remain (supervisor killed or gone): by their recorded pids.
  local file
  for file in "$LAB_STATE"/pids/*.pid "$LAB_STATE"/postfix/queue/pid/master.pid \
              "$LAB_STATE"/unbound/unbound.pid; do
    [[ -f "$file" ]] || continue
    pid=$(tr -dc '0-9' <"$file" 2>/dev/null || true)
    if pid_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      sleep 0.5
      pid_alive "$pid" && kill -KILL -- "-$pid" "$pid" 2>/dev/null || true
    fi
  done
  # 3. Anything still running inside a lab namespace (only lab processes can be there).
  for ns in $(lab_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    done
  done
  # 4. Links from the root namespace (deleting one end deletes the pair), then namespaces
  #    (their own veth ends and nftables rules go with them).
  local link
  for link in tw-inet0 tw-eu0 tw-us0; do
    ip link show "$link" >/dev/null 2>&1 && ip link del "$link" 2>/dev/null || true
  done
  for ns in $(lab_namespaces); do
    ip netns del "$ns" 2>/dev/null || lab_log "cannot delete namespace $ns"
  done
  # 5. The root namespace's safety routes.
  ip route del unreachable 198.18.0.0/15 2>/dev/null || true
  ip -6 route del unreachable 2001:2::/48 2>/dev/null || true
  # 6. The state directory (only ever our own path).
  if [[ -d "$LAB_STATE" && "$LAB_STATE" == /run/tlsweep-lab* ]]; then
    rm -rf -- "$LAB_STATE"
  elif [[ -d "$LAB_STATE" ]]; then
    rm -rf -- "$LAB_STATE/pki" "$LAB_STATE/postfix" "$LAB_STATE/unbound" "$LAB_STATE/log" \
      "$LAB_STATE/mtas" "$LAB_STATE/pids" "$LAB_STATE"/{env,complete,labd.pid,labd.state,services.json}
    rmdir -- "$LAB_STATE" 2>/dev/null || true
  fi
}

# lab_remnants: true if anything of a lab exists (namespace, host link, state dir).
lab_remnants() {
  [[ -n "$(lab_namespaces)" || -d "$LAB_STATE" ]] && return 0
  local link
  for link in tw-inet0 tw-eu0 tw-us0; do
    ip link show "$link" >/dev/null 2>&1 && return 0
  done
  ip route show type unreachable 2>/dev/null | grep -q '^unreachable 198.18.0.0/15' && return 0
  return 1
}

# lab_check [-v]: the lab is complete and answers. Prints one line per check with -v.
lab_check() {
  local verbose="${1:-}" failed=0 name address policy host v6 pid svc
  check() {  # check DESCRIPTION COMMAND...
    local what="$1"; shift
    if "$@" >/dev/null 2>&1; then
      if [[ -n "$verbose" ]]; then printf '  ok    %s\n' "$what"; fi
    else
      if [[ -n "$verbose" ]]; then printf '  FAIL  %s\n' "$what"; fi
      failed=1
    fi
    return 0
  }
  if [[ -z "${LAB_SKIP_MARKER:-}" ]]; then
    check "state $LAB_STATE/complete" test -f "$LAB_STATE/complete"
  fi
  for ns in "$NS_INET" tw-eu tw-us; do check "namespace $ns" ns_exists "$ns"; done
  check "supervisor running" pid_alive "$(cat "$LAB_STATE/labd.pid" 2>/dev/null)"
  for svc in unbound postfix relay $(mta_listeners); do
    check "$svc running" pid_alive "$(cat "$LAB_STATE/pids/$svc.pid" 2>/dev/null)"
  done
  check "DNS from eu: mx.bigmail.test A" \
    bash -c "[[ \$(ip netns exec tw-eu dig +short +time=2 +tries=1 @$LAB_RESOLVER mx.bigmail.test A) == 198.18.0.10 ]]"
  check "DNS from us: d0001.lab.test MX" \
    bash -c "[[ -n \$(ip netns exec tw-us dig +short +time=2 +tries=1 @$LAB_RESOLVER d0001.lab.test MX) ]]"
  for line in "${LISTENERS[@]}"; do
    read -r name address policy host v6 <<<"$line"
    check "banner $name $address from tw-inet" banner "$NS_INET" "$address"
    if [[ "$v6" != - ]]; then check "banner $name [$v6] from tw-inet" banner "$NS_INET" "$v6"; fi
  done
  check "banner modern from eu" banner tw-eu 198.18.0.10
  check "banner modern from us (through the delay relay)" banner tw-us 198.18.0.10
  check "banner modern from the root namespace" banner_root 198.18.0.10
  check "geofenced filtered from $LAB_FILTERED_REGION" \
    bash -c "! ip netns exec tw-$LAB_FILTERED_REGION timeout 2 bash -c 'exec 3<>/dev/tcp/$LAB_FILTERED_ADDRESS/25'"
  check "geofenced reachable from us" banner tw-us "$LAB_FILTERED_ADDRESS"
  check "hosted_sni: s01.sni-host.test gets its own certificate" \
    bash -c "[[ \$(sni_subject s01.sni-host.test) == *'CN = s01.sni-host.test' ]]"
  check "hosted_sni: a name not in its table gets the default certificate" \
    bash -c "[[ \$(sni_subject unknown.sni-host.test) == *'CN = mx.sni-host.test' ]]"
  unset -f check
  return "$failed"
}

# sni_subject NAME: the certificate subject hosted_sni shows a client sending SNI NAME (tw-inet).
sni_subject() {
  ns_exec "$NS_INET" timeout 5 openssl s_client -starttls smtp -connect "$LAB_SNI_ADDRESS:25" \
    -servername "$1" </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null
}
export -f sni_subject ns_exec
export NS_INET LAB_SNI_ADDRESS

# banner_root ADDRESS: from the root namespace, only through the lab's own link (never by the
# host's default route, e.g. while the lab is half-built).
banner_root() {
  ip route get "$1" 2>/dev/null | grep -q ' dev tw-inet0 ' || return 1
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/25" && IFS= read -r line <&3 && [[ $line == 220* ]]' _ "$1"
}
