# tests/: C unit tests (one TAP binary, run by `make check`) and pytest
# integration tests (run by build-aux/run-tests.sh against a build tree).
check_PROGRAMS += tests/unit/ctdp-unit
tests_unit_ctdp_unit_SOURCES = \
	tests/unit/ctdp-unit.c \
	tests/unit/ctdp-unit.h \
	tests/unit/test-command.c \
	tests/unit/test-flows.c \
	tests/unit/test-pipeline.c \
	tests/unit/test-random.c \
	tests/unit/ctdp-pkt.c \
	tests/unit/ctdp-pkt.h \
	tests/unit/test-ct-basic.c \
	tests/unit/test-ct-limits.c \
	tests/unit/test-ct-expect.c \
	tests/unit/test-ct-dump.c \
	tests/unit/test-ct-table.c \
	tests/unit/test-ct-reference.c \
	tests/unit/test-ct-threads.c \
	tests/unit/test-ct-malformed.c \
	tests/unit/test-ct-tcp.c \
	tests/unit/test-ct-ip.c \
	tests/unit/test-ct-ipf.c \
	tests/unit/test-ct-reclaim.c \
	tests/unit/test-ct-nat.c \
	tests/unit/test-ct-ftp.c \
	tests/unit/test-ct-sctp.c \
	tests/unit/test-offload.c \
	tests/unit/test-port-pcap.c
tests_unit_ctdp_unit_LDADD = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la
TESTS += tests/unit/ctdp-unit

# The tracker raced for a while (tests/unit/ctdp-stress.c): 15 s in `make
# check`; `make stress DURATION=SECONDS` for long runs.
check_PROGRAMS += tests/unit/ctdp-stress
tests_unit_ctdp_stress_SOURCES = \
	tests/unit/ctdp-stress.c \
	tests/unit/ctdp-pkt.c \
	tests/unit/ctdp-pkt.h
tests_unit_ctdp_stress_LDADD = $(tests_unit_ctdp_unit_LDADD)
TESTS += tests/unit/ctdp-stress

DURATION = 600
stress: tests/unit/ctdp-stress
	tests/unit/ctdp-stress $(DURATION)
.PHONY: stress

# A soak with real traffic through namespaces (tests/soak.py), by hand:
# `make soak MINUTES=30` writes soak/soak.csv and soak/soak-rss.png.
MINUTES = 30
soak: all
	CTDP_BUILDDIR=$(abs_builddir) /usr/bin/python3 $(srcdir)/tests/soak.py \
		--minutes=$(MINUTES) --out=soak
.PHONY: soak
