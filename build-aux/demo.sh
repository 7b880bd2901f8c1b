#!/usr/bin/env bash
# The main job: starts ctdpd in a private directory, shows it answering both
# ctdp-dpctl and OVS's ovs-appctl, then stops it.
#
# Usage: build-aux/demo.sh BUILDDIR
set -euo pipefail
build=${1:?usage: build-aux/demo.sh BUILDDIR}
work=$(mktemp -d /tmp/ctdp-demo.XXXXXX)
sock=$work/ctdpd.ctl
pidfile=$work/ctdpd.pid

cleanup() {
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

show() { printf '\n$ %s\n' "$*"; "$@"; }

show "$build/utilities/ctdpd" --detach --no-chdir --pidfile="$pidfile" \
    --unixctl="$sock" --log-file="$work/ctdpd.log"
show "$build/utilities/ctdp-dpctl" --unixctl="$sock" version
show ovs-appctl -t "$sock" version
show "$build/utilities/ctdp-dpctl" --unixctl="$sock" list-commands
show "$build/utilities/ctdp-dpctl" --unixctl="$sock" exit
echo
echo "ctdpd answered and stopped; its log:"
cat "$work/ctdpd.log"
