#!/bin/sh
# Build ndbpeer (Docker 26.1.5's own NetworkDB driven over stdin/stdout) offline, in GOPATH mode,
# from Debian trixie packages fetched with `apt-get download` into a private apt tree and unpacked
# with `dpkg-deb -x`. The machine's own apt sources are not touched. Needs: apt-get, dpkg-deb,
# network access to deb.debian.org on the first run. Outputs are cached in test/interop/bin/
# (gitignored); later runs only rebuild when main.go changed.
# Usage: build.sh [CACHE_DIR]   -> prints the path of the ndbpeer binary on stdout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/../bin/docker-networkdb}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Docker's networkdb and the closure of its imports (found with `go build` in GOPATH mode).
pkgs="golang-1.24-go golang-1.24-src
  golang-github-docker-docker-dev golang-github-hashicorp-memberlist-dev golang-github-hashicorp-serf-dev
  golang-github-containerd-log-dev golang-github-docker-go-events-dev golang-github-gogo-protobuf-dev
  golang-github-sirupsen-logrus-dev golang-github-armon-go-metrics-dev golang-github-google-btree-dev
  golang-github-hashicorp-go-immutable-radix-dev golang-github-hashicorp-golang-lru-dev
  golang-github-hashicorp-go-msgpack-dev golang-github-hashicorp-go-multierror-dev
  golang-github-hashicorp-errwrap-dev golang-github-hashicorp-go-sockaddr-dev
  golang-github-ishidawataru-sctp-dev golang-github-miekg-dns-dev golang-github-pkg-errors-dev
  golang-golang-x-sys-dev golang-golang-x-net-dev"
# shellcheck disable=SC2086
sh "$here/fetch-trixie.sh" "$cache" $pkgs
root=$cache/root
goroot=$root/usr/lib/go-1.24
src=$cache/gopath/src/ndbpeer
bin=$cache/ndbpeer
mkdir -p "$src"
if [ -x "$bin" ] && cmp -s "$here/ndbpeer/main.go" "$src/main.go"; then
  echo "$bin"
  exit 0
fi
cp "$here/ndbpeer/main.go" "$src/main.go"
cd "$src"
env GOROOT="$goroot" GO111MODULE=off GOPATH="$cache/gopath:$root/usr/share/gocode" GOCACHE="$cache/gocache" \
  GOTOOLCHAIN=local GOFLAGS= GOPROXY=off CGO_ENABLED=0 "$goroot/bin/go" build -o "$bin.tmp" . >&2
mv "$bin.tmp" "$bin"
echo "$bin"
