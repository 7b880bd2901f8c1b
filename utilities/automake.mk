# utilities/: the daemon and the command-line tools.
sbin_PROGRAMS += utilities/ctdpd
utilities_ctdpd_SOURCES = utilities/ctdpd.c
utilities_ctdpd_LDADD = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la

bin_PROGRAMS += utilities/ctdp-dpctl
utilities_ctdp_dpctl_SOURCES = utilities/ctdp-dpctl.c
utilities_ctdp_dpctl_LDADD = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la

# Their man pages (tests/test_man.py keeps them in step with --help).
dist_man_MANS += utilities/ctdpd.8 utilities/ctdp-dpctl.8

# The benchmark: ctdp's tracker against Open vSwitch's conntrack.  Run by
# `make bench`, never by `make check`.
bin_PROGRAMS += utilities/ctdp-bench
utilities_ctdp_bench_SOURCES = \
	utilities/ctdp-bench.c \
	utilities/ctdp-bench.h \
	utilities/ctdp-bench-ct.c \
	utilities/ctdp-bench-dp.c \
	utilities/ctdp-bench-mini.c \
	utilities/ctdp-bench-pkt.c \
	utilities/ctdp-bench-report.c \
	utilities/ctdp-bench-work.c
utilities_ctdp_bench_LDADD = datapath-ct/libctdp-ct.la \
	$(OVS_LIBDIR)/libopenvswitch.la
EXTRA_DIST += utilities/ctdp-bench-plot.py

# The whole datapath against Open vSwitch's netdev datapath (`make
# bench-dp`): the runner, its capture generator, and the sender of the
# system-port (veth) part.  Never run by `make check`.
noinst_PROGRAMS += utilities/ctdp-bench-send
utilities_ctdp_bench_send_SOURCES = utilities/ctdp-bench-send.c
EXTRA_DIST += utilities/ctdp-bench-netdev.py utilities/ctdp-bench-pcaps.py
