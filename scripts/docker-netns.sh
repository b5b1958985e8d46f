#!/bin/sh
# Run inside `ip netns exec NS` (a fresh mount namespace with the netns's own /sys):
# mount the cgroup v1 hierarchies dockerd 20.10 needs, start a private containerd and
# exec a private dockerd, everything under DIR so nothing is shared with a real docker.
#   usage: docker-netns.sh DIR [extra dockerd args...]
# DIR gets: containerd.sock, docker.sock, docker.pid, containerd.pid, data/, exec/, containerd/
set -eu
dir=$1; shift

mount_cgroups() {
  # `ip netns exec` remounted /sys, dropping /sys/fs/cgroup; rebuild it inside this mount ns only.
  if ! mountpoint -q /sys/fs/cgroup/devices 2>/dev/null; then
    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
    for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
      mkdir -p /sys/fs/cgroup/$c
      mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
    done
    mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
    mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    mount -t cgroup2 none /sys/fs/cgroup/unified
  fi
}

start_containerd() {
  mkdir -p "$dir/containerd/root" "$dir/containerd/state"
  cat > "$dir/containerd/config.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
  containerd --config "$dir/containerd/config.toml" >"$dir/containerd.log" 2>&1 &
  echo $! > "$dir/containerd.pid"
  i=0
  while [ ! -S "$dir/containerd.sock" ]; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then echo "containerd did not start; see $dir/containerd.log" >&2; exit 1; fi
    sleep 0.05
  done
}

mount_cgroups
ip link set lo up
if [ "${DOCKERD_ONLY:-}" != 1 ]; then start_containerd; fi
mkdir -p "$dir/data" "$dir/exec"
# dockerd stays a child of this shell (not exec'd) so that this shell reaps containerd and dockerd
# when they exit; the caller reaps the shell. The netns has no init that would.
dockerd \
  --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
  -H "unix://$dir/docker.sock" --containerd "$dir/containerd.sock" \
  --storage-driver overlay2 "$@" &
wait
