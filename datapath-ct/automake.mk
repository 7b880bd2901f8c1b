# datapath-ct/: the connection tracker.  Depends only on the Open vSwitch
# library's primitives and OpenSSL; never on lib/.
noinst_LTLIBRARIES += datapath-ct/libctdp-ct.la
datapath_ct_libctdp_ct_la_SOURCES = \
	datapath-ct/ctdp-random.c \
	datapath-ct/ctdp-random.h
