#!/usr/bin/env bash
# Multi-host vxmesh on one machine: N netns "hosts" on an underlay switch (a bridge inside a
# namespace of its own), an etcd in host 1, a vxmesh agent in every host (encrypted gossip, shared
# etcd store), two overlay networks (the second dual-stack) with a workload on every host in each:
# a full mesh of pings inside each network (IPv6 too), none across networks. Prints a summary table
# and removes everything it made (namespaces by its random prefix, processes by PID), also on failure.
#   scripts/netns-test.sh [-n N] [-k]     run it (default N=3; -k keeps everything for a look)
#   scripts/netns-test.sh up PREFIX N     only the hosts: PREFIX-sw, PREFIX-h1..hN with 198.51.100.K/24 on ul0
#   scripts/netns-test.sh down PREFIX     removes exactly those namespaces
# Agents run in the host's mount namespace (nsenter --net, never `ip netns exec`, whose private
# mount namespace would take the agent's sandbox namespaces down with it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

up() { # PREFIX N
  local prefix=$1 n=$2 k h
  ip netns add "$prefix-sw"
  ip -n "$prefix-sw" link add sw0 type bridge
  ip -n "$prefix-sw" link set sw0 up
  for k in $(seq 1 "$n"); do
    h="$prefix-h$k"
    ip netns add "$h"
    ip -n "$h" link set lo up
    ip -n "$prefix-sw" link add "p$k" type veth peer name ul0 netns "$h"
    ip -n "$prefix-sw" link set "p$k" master sw0 up
    ip -n "$h" addr add "198.51.100.$k/24" dev ul0
    ip -n "$h" link set ul0 up
    ip -n "$h" route add default via 198.51.100.254 dev ul0
  done
}

down() { # PREFIX: every namespace whose name starts with it (hosts, switch, workloads, agents' sandboxes)
  local prefix=$1 ns
  for ns in $(ip netns list | awk '{print $1}'); do
    case "$ns" in "$prefix"*) ip netns del "$ns" 2>/dev/null || true ;; esac
  done
}

case "${1:-}" in
  up) up "${2:?prefix}" "${3:?number of hosts}"; exit 0 ;;
  down) down "${2:?prefix}"; exit 0 ;;
esac

N=3
KEEP=0
while getopts "n:k" opt; do
  case "$opt" in
    n) N=$OPTARG ;;
    k) KEEP=1 ;;
    *) echo "usage: $0 [-n N] [-k] | up PREFIX N | down PREFIX" >&2; exit 2 ;;
  esac
done
if ! [[ "$N" =~ ^[0-9]+$ ]] || ((N < 2 || N > 9)); then
  echo "-n: the number of hosts is 2 to 9 (one digit: it is part of each agent's --netns-prefix)" >&2
  exit 2
fi
[[ -f "$ROOT/dist/cli/main.js" ]] || { echo "build first: npx tsc -p tsconfig.json" >&2; exit 2; }

# "m" + 4 hex: with the host digit an agent's --netns-prefix is 6 characters (its limit).
P="m$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
TMP=$(mktemp -d "/tmp/vxmesh-mh-$P.XXXX")
PIDS=()
cleanup() {
  local rc=$?
  if ((KEEP)); then
    echo "kept: namespaces $P*, processes ${PIDS[*]:-}, files $TMP" >&2
    return
  fi
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true; done
  down "$P"
  if ((rc != 0)); then
    for f in "$TMP"/h*.log; do [[ -f "$f" ]] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }; done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

deadline_loop() { # SECONDS CMD...: retry CMD until it succeeds or the deadline passes
  local until=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do ((SECONDS < until)) || return 1; sleep 0.1; done
}

vx() { # HOST-NUMBER ARGS...: the CLI against that host's agent
  local k=$1; shift
  node "$ROOT/dist/cli/main.js" --socket "$TMP/h$k.sock" "$@"
}

echo "== $N hosts, prefix $P"
up "$P" "$N"

# etcd in host 1, data in our temp dir
nsenter --net="/run/netns/$P-h1" /usr/bin/etcd --name "$P" --data-dir "$TMP/etcd" \
  --listen-client-urls http://198.51.100.1:2379 --advertise-client-urls http://198.51.100.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$P=http://127.0.0.1:2380" >"$TMP/etcd.log" 2>&1 &
PIDS+=($!)
# etcd's /health, asked with node (etcdctl and curl are not installed everywhere)
deadline_loop 20 nsenter --net="/run/netns/$P-h1" node -e 'fetch("http://198.51.100.1:2379/health").then((r) => r.json()).then((j) => process.exit(j.health === "true" ? 0 : 1), () => process.exit(1))' ||
  { echo "etcd did not come up" >&2; tail "$TMP/etcd.log" >&2; exit 1; }

node -e 'console.log(require("crypto").randomBytes(16).toString("base64"))' >"$TMP/gossip.key"
chmod 600 "$TMP/gossip.key"

for k in $(seq 1 "$N"); do
  join=()
  ((k > 1)) && join=(--join 198.51.100.1)
  nsenter --net="/run/netns/$P-h$k" node "$ROOT/dist/cli/main.js" agent \
    --data-dir "$TMP/h$k" --socket "$TMP/h$k.sock" --netns-prefix "$P$k" --no-plugin \
    --advertise-addr "198.51.100.$k" --store etcd://198.51.100.1:2379 \
    --gossip-key-file "$TMP/gossip.key" "${join[@]}" >"$TMP/h$k.log" 2>&1 &
  PIDS+=($!)
done
for k in $(seq 1 "$N"); do
  deadline_loop 60 grep -q 'vxmesh agent ready' "$TMP/h$k.log" || { echo "agent $k did not get ready" >&2; exit 1; }
done
alive() { [[ $(vx "$1" status --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).gossip?.alive??0))') == "$N" ]]; }
for k in $(seq 1 "$N"); do deadline_loop 20 alive "$k" || { echo "host $k does not see $N alive members" >&2; exit 1; }; done
echo "== gossip: $N members alive on every host (encrypted)"

vx 1 network create --subnet 10.71.0.0/24 "${P}a" >/dev/null
vx 2 network create --subnet 10.72.0.0/24 --ipv6 --subnet-v6 fd71:72::/64 "${P}b" >/dev/null
for k in $(seq 1 "$N"); do
  deadline_loop 10 vx "$k" network inspect "${P}a" && deadline_loop 10 vx "$k" network inspect "${P}b" ||
    { echo "host $k does not list both networks" >&2; exit 1; }
done
echo "== networks ${P}a (10.71.0.0/24) and ${P}b (10.72.0.0/24 + fd71:72::/64) seen by every host"

declare -A IP4 IP6
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];console.log(v?String(v).split("/")[0]:"")})' "$1"; }
for k in $(seq 1 "$N"); do
  for net in a b; do
    w="$P-w$k$net"
    ip netns add "$w"
    out=$(vx "$k" endpoint attach --netns "/run/netns/$w" --network "$P$net" --json)
    IP4[$k$net]=$(field ipv4 <<<"$out")
    IP6[$k$net]=$(field ipv6 <<<"$out")
  done
done
echo "== a workload per host per network attached"

ping_ok() { # WORKLOAD-NS ADDR
  nsenter --net="/run/netns/$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1
}
FAIL=0
declare -A OK TOTAL
check() { # LABEL EXPECT(yes|no) WORKLOAD ADDR
  local label=$1 expect=$2 w=$3 addr=$4
  TOTAL[$label]=$((${TOTAL[$label]:-0} + 1))
  if [[ $expect == yes ]]; then
    if deadline_loop 10 ping_ok "$w" "$addr"; then OK[$label]=$((${OK[$label]:-0} + 1)); else FAIL=1; echo "FAIL: $w cannot reach $addr" >&2; fi
  else
    if ping_ok "$w" "$addr"; then FAIL=1; echo "FAIL: $w reaches $addr across networks" >&2; else OK[$label]=$((${OK[$label]:-0} + 1)); fi
  fi
}
for i in $(seq 1 "$N"); do
  for j in $(seq 1 "$N"); do
    ((i == j)) && continue
    check "net a IPv4" yes "$P-w${i}a" "${IP4[${j}a]}"
    check "net b IPv4" yes "$P-w${i}b" "${IP4[${j}b]}"
    check "net b IPv6" yes "$P-w${i}b" "${IP6[${j}b]}"
  done
done
# Across networks nothing answers: each is one ping that must time out, run side by side.
CROSS="$TMP/cross"
mkdir -p "$CROSS"
CROSS_PIDS=()
for i in $(seq 1 "$N"); do
  for j in $(seq 1 "$N"); do
    (ping_ok "$P-w${i}a" "${IP4[${j}b]}" && echo "$P-w${i}a reaches ${IP4[${j}b]}" >"$CROSS/$i-$j" || true) &
    CROSS_PIDS+=($!)
  done
done
wait "${CROSS_PIDS[@]}"
LEAKS=$(find "$CROSS" -type f | wc -l)
[[ $LEAKS == 0 ]] || { FAIL=1; cat "$CROSS"/* >&2; }
OK["a -> b (must fail)"]=$((N * N - LEAKS))
TOTAL["a -> b (must fail)"]=$((N * N))

printf '\n%-22s %8s %8s\n' "pings" "ok" "of"
for label in "net a IPv4" "net b IPv4" "net b IPv6" "a -> b (must fail)"; do
  printf '%-22s %8s %8s\n' "$label" "${OK[$label]:-0}" "${TOTAL[$label]:-0}"
done
if ((FAIL)); then echo "RESULT: FAIL"; exit 1; fi
echo "RESULT: ok ($N hosts)"
