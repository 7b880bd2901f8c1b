# datapath-ct/: the connection tracker.  Depends only on the Open vSwitch
# library's primitives and OpenSSL; never on lib/.
noinst_LTLIBRARIES += datapath-ct/libctdp-ct.la
datapath_ct_libctdp_ct_la_SOURCES = \
	datapath-ct/ctdp-backer.c \
	datapath-ct/ctdp-backer.h \
	datapath-ct/ctdp-conn.c \
	datapath-ct/ctdp-ct-private.h \
	datapath-ct/ctdp-ct.c \
	datapath-ct/ctdp-ct.h \
	datapath-ct/ctdp-csum.h \
	datapath-ct/ctdp-dump.c \
	datapath-ct/ctdp-event.c \
	datapath-ct/ctdp-expect.c \
	datapath-ct/ctdp-ftp.c \
	datapath-ct/ctdp-ftp.h \
	datapath-ct/ctdp-helper-ftp.c \
	datapath-ct/ctdp-helper-tftp.c \
	datapath-ct/ctdp-helper.c \
	datapath-ct/ctdp-ip.c \
	datapath-ct/ctdp-ip.h \
	datapath-ct/ctdp-ipf.c \
	datapath-ct/ctdp-ipf.h \
	datapath-ct/ctdp-l4-generic.c \
	datapath-ct/ctdp-l4-gre.c \
	datapath-ct/ctdp-l4-icmp.c \
	datapath-ct/ctdp-l4-sctp.c \
	datapath-ct/ctdp-l4-tcp.c \
	datapath-ct/ctdp-l4-udp.c \
	datapath-ct/ctdp-nat.c \
	datapath-ct/ctdp-pool.c \
	datapath-ct/ctdp-pool.h \
	datapath-ct/ctdp-prefetch.c \
	datapath-ct/ctdp-prefetch.h \
	datapath-ct/ctdp-random.c \
	datapath-ct/ctdp-random.h \
	datapath-ct/ctdp-seqadj.c \
	datapath-ct/ctdp-siphash.c \
	datapath-ct/ctdp-siphash.h \
	datapath-ct/ctdp-spin.h \
	datapath-ct/ctdp-sweep.c \
	datapath-ct/ctdp-sysctl.c \
	datapath-ct/ctdp-table.c \
	datapath-ct/ctdp-table.h \
	datapath-ct/ctdp-timeout.c \
	datapath-ct/ctdp-tuple.c \
	datapath-ct/ctdp-tuple.h \
	datapath-ct/ctdp-zone.c
