# tests/: C unit tests (one TAP binary, run by `make check`) and pytest
# integration tests (run by build-aux/run-tests.sh against a build tree).
check_PROGRAMS += tests/unit/ctdp-unit
tests_unit_ctdp_unit_SOURCES = \
	tests/unit/ctdp-unit.c \
	tests/unit/ctdp-unit.h \
	tests/unit/test-command.c \
	tests/unit/test-random.c
tests_unit_ctdp_unit_LDADD = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la
TESTS += tests/unit/ctdp-unit
