#!/usr/bin/env bash
# Builds the Open vSwitch library that ctdp links against, the way Debian
# builds OVN: from Debian's openvswitch-source tarball, configured like the
# distribution's OVS, in a cache directory outside the checkout.
#
# Usage: build-aux/ovs-lib.sh
#   Prints the OVS build directory (source and build share it) on stdout.
#   The cache is keyed by the openvswitch-source package version and the
#   build recipe, so a second run reuses the finished build and an upgraded
#   package builds anew.
#
# Environment:
#   CTDP_OVS_CACHE  parent of the cache directories (default /var/cache/ctdp)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/openvswitch/openvswitch.tar.gz
version=$(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null) || {
    echo "ovs-lib.sh: openvswitch-source is not installed (apt-get install openvswitch-source)" >&2
    exit 1
}
# Each function and datum in its own section, so that ctdp's programs,
# linked with --gc-sections, keep only the OVS code they reach: the library
# refers to its own conntrack from objects ctdp needs (flow.o leads to
# dpif.o), and ctdpd must not contain it.  The recipe is part of the cache
# key, so a change here rebuilds.
recipe=gc-sections
ovs_cflags="-g -O2 -ffunction-sections -fdata-sections"
cache=${CTDP_OVS_CACHE:-/var/cache/ctdp}/ovs-$version-$recipe
dir=$cache/openvswitch
stamp=$cache/.built

mkdir -p "$cache"
# One builder at a time; a second caller waits and then finds the stamp.
exec 9>"$cache/.lock"
flock 9

if [ ! -f "$stamp" ]; then
    log=$cache/build.log
    echo "ovs-lib.sh: building the Open vSwitch library $version in $cache (log: $log)" >&2
    rm -rf "$dir"
    tar -xzf "$tarball" -C "$cache"
    (
        cd "$dir"
        # The tarball ships a generated configure; Debian's python3 has what
        # OVS's generators need (a pyenv python3 first on PATH may not).
        ./configure --enable-ssl --prefix=/usr --localstatedir=/var \
            --sysconfdir=/etc PYTHON3=/usr/bin/python3 CFLAGS="$ovs_cflags"
        # The generated sources first: lib/libopenvswitch.la needs them.
        built=$("$here/ovs-built-sources.sh")
        make -j"$(nproc)" $built
        make -j"$(nproc)" lib/libopenvswitch.la
    ) >"$log" 2>&1 || { echo "ovs-lib.sh: OVS build failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
    touch "$stamp"
fi
echo "$dir"
