#!/usr/bin/env bash
# Builds Open vSwitch 3.1 with DPDK 22.11 (both from Debian) for the
# benchmark against Open vSwitch's netdev datapath (`make bench-dp`,
# utilities/ctdp-bench-netdev.py), following the measured recipe of
# /work/shared/bench/OVS-NETDEV.md, section 3:
#
#   - the DPDK .debs are fetched with `apt-get download` and unpacked with
#     `dpkg -x`, never installed (`apt-get install libdpdk-dev` wants some
#     230 packages, systemd and udev upgrades among them);
#   - the .pc files are rewritten to point into the unpacked tree, and the
#     static-only Requires.private/Libs.private dropped;
#   - OVS is configured --with-dpdk=shared, its link-time checks for
#     drivers that only a static DPDK needs skipped.
#
# Usage: build-aux/ovs-dpdk.sh
#   Prints the cache directory on stdout.  In it: openvswitch/ (the OVS
#   build tree: vswitchd/ovs-vswitchd, utilities/ovs-vsctl, ...) and
#   dpdkroot/usr/lib/x86_64-linux-gnu (the DPDK libraries: every program of
#   this build needs it, and its dpdk/pmds-23.0 folder, in
#   LD_LIBRARY_PATH, since RUNPATH covers direct dependencies only).
#   Like build-aux/ovs-lib.sh, the cache is a sibling of the OVS library's,
#   keyed by the openvswitch-source version, the DPDK version and the
#   recipe; a lock serialises builders and a stamp makes a second run free.
#   Fails with one line on stderr (and the build log's tail) on error.
#
# Environment:
#   CTDP_OVS_CACHE  parent of the cache directories (default /var/cache/ctdp)
set -euo pipefail

die() { echo "ovs-dpdk.sh: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)

tarball=/usr/src/openvswitch/openvswitch.tar.gz
ovs_version=$(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null) ||
    die "openvswitch-source is not installed (apt-get install openvswitch-source)"
[ -f "$tarball" ] || die "$tarball is missing (reinstall openvswitch-source)"
dpdk_version=$(apt-cache policy libdpdk-dev 2>/dev/null |
               awk '/Candidate:/ { print $2 }')
case $dpdk_version in
'' | '(none)') die "no libdpdk-dev candidate in apt's lists (apt-get update?)" ;;
esac

recipe=dpdk-$dpdk_version-netdev
cache=${CTDP_OVS_CACHE:-/var/cache/ctdp}/ovs-$ovs_version-$recipe
stamp=$cache/.built

# The DPDK libraries OVS's shared DPDK build links or loads: libdpdk.pc
# names most of them; bus_vdev, mempool_ring, net_pcap and net_null are the
# drivers the benchmark loads with EAL's -d.
dpdk_libs="node graph pipeline table pdump port fib ipsec vhost stack security
 sched reorder rib dmadev regexdev rawdev power pcapng member lpm latencystats
 jobstats ip_frag gso gro gpudev eventdev efd distributor cryptodev
 compressdev cfgfile bpf bitratestats bbdev acl timer hash metrics cmdline pci
 ethdev meter net mbuf mempool rcu ring eal telemetry kvargs bus_vdev bus_pci
 mempool_ring net_pcap net_null"

# fetch_dpdk ROOT: unpacks the DPDK .debs (and the -dev packages of the
# libraries libdpdk.pc names) into ROOT; writes fixed .pc files to ROOT/pc.
fetch_dpdk() {
    local root=$1 debs=$1/debs l pkgs=() lib
    mkdir -p "$debs" "$root/pc"
    for l in $dpdk_libs; do
        pkgs+=("librte-${l//_/-}23=$dpdk_version")
    done
    (cd "$debs" && apt-get download -q "libdpdk-dev=$dpdk_version" \
        libnuma-dev libbsd-dev libmd-dev libfdt1 "${pkgs[@]}")
    for f in "$debs"/*.deb; do
        dpkg -x "$f" "$root"
    done
    lib=$root/usr/lib/x86_64-linux-gnu
    # The -dev .so links point at runtime libraries installed system-wide.
    ln -sf "$(dpkg -L libmd0 | grep -m1 'libmd\.so\.0\.[0-9.]*$')" "$lib/libmd.so"
    ln -sf "$(dpkg -L libnuma1 | grep -m1 'libnuma\.so\.1\.[0-9.]*$')" "$lib/libnuma.so"
    for f in "$lib"/pkgconfig/*.pc; do
        sed "s|^prefix=/usr$|prefix=$root/usr|" "$f" > "$root/pc/${f##*/}"
    done
    # Requires.private (mlx5, ibverbs, xdp, ...) matter for static linking
    # only, but pkg-config checks that they exist.
    sed -i -e '/^Requires.private:/d' -e '/^Libs.private:/d' "$root/pc/libdpdk.pc"
}

# build_ovs ROOT: configures and builds OVS with DPDK in ROOT/openvswitch.
build_ovs() {
    local root=$1 lib=$1/dpdkroot/usr/lib/x86_64-linux-gnu
    tar -xzf "$tarball" -C "$root"
    cd "$root/openvswitch"
    # The ac_cv_* values skip link checks for drivers that only a static
    # DPDK needs.  Debian's python3 has what OVS's generators need.
    PKG_CONFIG_PATH=$root/dpdkroot/pc ./configure --enable-ssl \
        --with-dpdk=shared PYTHON3=/usr/bin/python3 \
        CPPFLAGS="-I$root/dpdkroot/usr/include" \
        LDFLAGS="-L$lib -Wl,-rpath,$lib" \
        ac_cv_have_decl_RTE_NET_MLX5=no ac_cv_have_decl_RTE_NET_MLX4=no \
        ac_cv_have_decl_RTE_NET_AF_XDP=no ac_cv_have_decl_RTE_NET_PCAP=no
    # Only the programs the benchmark runs, after the generated sources.
    local built
    built=$("$here/ovs-built-sources.sh")
    make -j"$(nproc)" $built
    make -j"$(nproc)" vswitchd/ovs-vswitchd utilities/ovs-vsctl \
        utilities/ovs-ofctl utilities/ovs-appctl ovsdb/ovsdb-server \
        ovsdb/ovsdb-tool
}

mkdir -p "$cache"
# One builder at a time; a second caller waits and then finds the stamp.
exec 9>"$cache/.lock"
flock 9

if [ ! -f "$stamp" ]; then
    log=$cache/build.log
    echo "ovs-dpdk.sh: building Open vSwitch $ovs_version with DPDK $dpdk_version in $cache (log: $log)" >&2
    rm -rf "$cache/openvswitch" "$cache/dpdkroot"
    (
        set -euo pipefail
        fetch_dpdk "$cache/dpdkroot"
        build_ovs "$cache"
    ) >"$log" 2>&1 || {
        echo "ovs-dpdk.sh: build failed; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    }
    touch "$stamp"
fi
echo "$cache"
