#!/usr/bin/env bash
# Build or tear down N netns "hosts" on an underlay switch (a bridge inside a namespace of its own),
# for trying vxmesh by hand the way the tests do.
#   scripts/netns-test.sh up PREFIX N     -> namespaces PREFIX-sw, PREFIX-h1..hN; hK has 198.51.100.K/24 on ul0
#   scripts/netns-test.sh down PREFIX     -> removes exactly those namespaces
# Run an agent on host K in the host's mount namespace (not `ip netns exec`, whose private mount
# namespace would take the agent's sandbox namespaces down with it):
#   nsenter --net=/run/netns/PREFIX-hK bin/vxmesh agent --netns-prefix PREFIXK --data-dir /tmp/PREFIX-hK ...
set -euo pipefail
cmd=${1:?usage: netns-test.sh up PREFIX N | down PREFIX}
prefix=${2:?prefix}
case "$cmd" in
  up)
    n=${3:?number of hosts}
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
    ;;
  down)
    for ns in $(ip netns list | awk '{print $1}'); do
      case "$ns" in "$prefix-sw" | "$prefix"-h[0-9]*) ip netns del "$ns" ;; esac
    done
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
