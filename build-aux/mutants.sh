#!/usr/bin/env bash
# The mutation check: do the tests notice a wrong tracker?
#
# Usage: build-aux/mutants.sh [OPTION]... [NAME...]
#   --ovs-source=DIR  the Open vSwitch tree to build against (default: what
#                     build-aux/ovs-lib.sh prints, building it if needed)
#   --ovs-build=DIR   where that tree was built (default: the same)
#   --rev=REV         test the committed tree REV (git archive) instead of
#                     the working tree's tracked and unignored files
#   --all             run every test layer on every mutant (default: stop
#                     at the first layer that kills it)
#   --keep            keep the work directory
#   NAME...           only the mutants whose names contain one of these
#
# Each tests/mutants/NAME.patch is a small wrong change to the tracker
# (datapath-ct/), a unified diff for `patch -p1` after a few lines that say
# what it breaks.  The script copies the tree into a temporary directory,
# builds it once and checks the unmutated copy: the unit tests, the kdiff
# corpus, and the TCP scripts replayed through the running kernel
# (tests/test_kernel_tcp.py: that compares the scripts' expectations with
# the kernel, not ctdp, so it says the unit tests expect the right thing,
# and cannot see a mutant).  Then for each mutant in turn it applies the
# patch (one that does not apply, or that leaves the built tracker
# unchanged, is an error), rebuilds, runs the layers that test ctdp in
# order until one fails, and takes the patch back out:
#
#   unit      the C unit tests (tests/unit/ctdp-unit, every suite);
#   kdiff     the kernel differential corpus (tests/test_kdiff.py).
#
# It prints "killed by LAYER (failing tests...)" or "SURVIVED" per mutant
# and exits 1 if any mutant survived or could not be tested.  The kernel
# layers need root, nft, conntrack and ip (as `./quickstart test`); without
# them they are skipped, and a mutant only they could kill survives.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ovs_source= ovs_build= rev= all=false keep=false
names=()
for arg; do
    case $arg in
    --ovs-source=*) ovs_source=${arg#*=} ;;
    --ovs-build=*) ovs_build=${arg#*=} ;;
    --rev=*) rev=${arg#*=} ;;
    --all) all=true ;;
    --keep) keep=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutants.sh: unknown option $arg" >&2; exit 2 ;;
    *) names+=("$arg") ;;
    esac
done
[ -n "$ovs_source" ] || ovs_source=$("$top/build-aux/ovs-lib.sh")
[ -n "$ovs_build" ] || ovs_build=$ovs_source
python=/usr/bin/python3

work=$(mktemp -d "${TMPDIR:-/tmp}/ctdp-mutants.XXXXXX")
cleanup() {
    if $keep; then
        echo "mutants: work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
src=$work/src build=$work/build log=$work/log
mkdir -p "$src" "$build" "$log"

say() { echo "mutants: $*"; }

# ---- The copy and its build ------------------------------------------------

copy_tree() {
    if [ -n "$rev" ]; then
        git -C "$top" archive "$rev" | tar -x -C "$src"
    else
        (cd "$top" && git ls-files -z -c -o --exclude-standard |
            xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
            tar --null -T - -cf -) | tar -x -C "$src"
    fi
}

configure_tree() {
    (cd "$src" && autoreconf -fi) >"$log/autoreconf" 2>&1 ||
        { cat "$log/autoreconf" >&2; return 1; }
    (cd "$build" && "$src/configure" -q --with-ovs-source="$ovs_source" \
        --with-ovs-build="$ovs_build" CFLAGS="-g -O2") >"$log/configure" 2>&1 ||
        { cat "$log/configure" >&2; return 1; }
}

# Builds the programs, then the unit tests (not as two goals of one make:
# `all` runs a sub-make, which would race the other goal); the log goes to
# $log/build.
build_tree() {
    { make -C "$build" -s -j2 all &&
        make -C "$build" -s -j2 tests/unit/ctdp-unit; } >"$log/build" 2>&1
}

# A checksum of the tracker's code as built, without debug information,
# to tell a mutant that changes nothing the compiler sees.
tracker_sum() {
    local f=$build/datapath-ct/.libs/libctdp-ct.a
    [ -f "$f" ] || f=$(find "$build/datapath-ct" -name '*.a' | head -n1)
    # -r: relocations too, so a mutant that only changes which symbol an
    # instruction refers to counts as a change.
    strip -g -o "$work/tracker.a" "$f" && objdump -dr "$work/tracker.a" |
        grep -v 'file format' | md5sum | cut -d' ' -f1
}

# ---- The test layers ---------------------------------------------------------
# Each prints what failed on its last line and returns non-zero when
# something did.

layer_unit() {
    if "$build/tests/unit/ctdp-unit" >"$log/unit" 2>&1; then
        return 0
    fi
    sed -n 's/^not ok [0-9]* - //p' "$log/unit" | sort -u | head -n 8 |
        paste -sd' ' -
    return 1
}

pytest_layer() {
    local name=$1
    shift
    if (cd "$src" && CTDP_BUILDDIR=$build "$python" -m pytest \
            -p no:cacheprovider -q -rf "$@") >"$log/$name" 2>&1; then
        return 0
    fi
    sed -n 's/^FAILED [^[]*\[\([^]]*\)\].*/\1/p; s/^FAILED \([^ []*\).*/\1/p' \
        "$log/$name" | sort -u | head -n 8 | paste -sd' ' -
    return 1
}

layer_kernel() { pytest_layer kernel tests/test_kernel_tcp.py; }
layer_kdiff() { pytest_layer kdiff tests/test_kdiff.py; }

layers=(unit kdiff)

# Runs the layers on the current build; prints the verdict.  Returns 0 if
# some layer failed (the mutant is killed).
run_layers() {
    local killed=() what l
    for l in "${layers[@]}"; do
        if what=$("layer_$l"); then
            continue
        fi
        killed+=("$l ($what)")
        $all || break
    done
    if [ ${#killed[@]} -eq 0 ]; then
        return 1
    fi
    local IFS=';'
    echo "killed by ${killed[*]}"
}

# ---- Main ----------------------------------------------------------------------

# Whether mutant 'name' is one of those asked for.
wanted() {
    local x
    [ ${#names[@]} -eq 0 ] && return 0
    for x in "${names[@]}"; do
        [[ $1 == *"$x"* ]] && return 0
    done
    return 1
}

patches=()
for p in "$top"/tests/mutants/*.patch; do
    if wanted "$(basename "$p" .patch)"; then
        patches+=("$p")
    fi
done
if [ ${#patches[@]} -eq 0 ]; then
    echo "mutants.sh: no mutant matches ${names[*]}" >&2
    exit 2
fi

say "copying ${rev:-the working tree} to $src"
copy_tree
say "configuring and building (logs in $log)"
configure_tree
build_tree || { cat "$log/build" >&2; exit 1; }
base_sum=$(tracker_sum)
say "the unmutated tree must pass every layer first"
for l in "${layers[@]}" kernel; do
    if ! what=$("layer_$l"); then
        echo "mutants: the unmutated tree fails $l: $what (log: $log/$l)" >&2
        keep=true
        exit 1
    fi
done

n_bad=0
for p in "${patches[@]}"; do
    n=$(basename "$p" .patch)
    if ! (cd "$src" && patch -p1 -s --dry-run <"$p") >/dev/null 2>&1; then
        echo "$n: DOES NOT APPLY"
        n_bad=$((n_bad + 1))
        continue
    fi
    (cd "$src" && patch -p1 -s <"$p")
    if ! build_tree; then
        echo "$n: DOES NOT BUILD (log: $log/build.$n)"
        cp "$log/build" "$log/build.$n"
        n_bad=$((n_bad + 1))
    elif [ "$(tracker_sum)" = "$base_sum" ]; then
        echo "$n: CHANGES NOTHING in the built tracker"
        n_bad=$((n_bad + 1))
    elif verdict=$(run_layers); then
        echo "$n: $verdict"
    else
        echo "$n: SURVIVED"
        n_bad=$((n_bad + 1))
    fi
    (cd "$src" && patch -p1 -s -R <"$p")
done
build_tree || true
say "${#patches[@]} mutants, $n_bad not killed"
[ "$n_bad" -eq 0 ]
