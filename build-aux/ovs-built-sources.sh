#!/bin/sh
# Prints the BUILT_SOURCES of the configured automake tree in the current
# directory (an Open vSwitch tree, for build-aux/ovs-lib.sh and
# build-aux/ovs-dpdk.sh), on one line.
#
# automake hooks BUILT_SOURCES into all/check/install only, so a build of
# chosen targets in a fresh tree makes them first.  The caller may itself
# run under make (`make bench-dp`): its MAKEFLAGS would have this make
# print "Entering directory" lines into the list, so the list is read
# without them, and without the caller's jobserver.
set -eu
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -s --no-print-directory -f Makefile -f - print-built-sources <<'MK'
print-built-sources: ; @echo $(BUILT_SOURCES)
MK
