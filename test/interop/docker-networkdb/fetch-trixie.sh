#!/bin/sh
# Fetch Debian trixie .debs into a private apt tree (the machine's own apt sources stay as they are)
# and unpack them with dpkg-deb -x. Usage: fetch-trixie.sh CACHE_DIR PKG...
set -eu
cache=$1; shift
apt_root=$cache/apt
mkdir -p "$apt_root/etc/apt/sources.list.d" "$apt_root/etc/apt/preferences.d" "$apt_root/etc/apt/apt.conf.d" \
  "$apt_root/state/lists/partial" "$apt_root/cache/archives/partial" "$cache/debs" "$cache/root"
touch "$apt_root/state/status"
keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
[ -f "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] http://deb.debian.org/debian trixie main" > "$apt_root/etc/apt/sources.list"
apt_opts="-o Dir::Etc=$apt_root/etc/apt -o Dir::Etc::sourcelist=$apt_root/etc/apt/sources.list
  -o Dir::Etc::sourceparts=$apt_root/etc/apt/sources.list.d -o Dir::Etc::parts=$apt_root/etc/apt/apt.conf.d
  -o Dir::Etc::preferencesparts=$apt_root/etc/apt/preferences.d
  -o Dir::State=$apt_root/state -o Dir::State::status=$apt_root/state/status -o Dir::Cache=$apt_root/cache
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Languages=none"
update() {
  # shellcheck disable=SC2086
  apt-get $apt_opts -q update >&2
  touch "$apt_root/state/updated"
}
[ -f "$apt_root/state/updated" ] || update
cd "$cache/debs"
for pkg in "$@"; do
  if ls "${pkg}"_*.deb >/dev/null 2>&1; then continue; fi
  # A cached package list can name a version the archive has since replaced: refresh once, retry.
  # shellcheck disable=SC2086
  apt-get $apt_opts -q download "$pkg" >&2 || { update && apt-get $apt_opts -q download "$pkg" >&2; }
done
for deb in "$cache"/debs/*.deb; do
  stamp="$cache/root/.$(basename "$deb").done"
  [ -f "$stamp" ] && continue
  dpkg-deb -x "$deb" "$cache/root"
  touch "$stamp"
done
