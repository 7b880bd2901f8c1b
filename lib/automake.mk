# lib/: the datapath.  May use datapath-ct/ and the Open vSwitch library.
noinst_LTLIBRARIES += lib/libctdp.la
lib_libctdp_la_SOURCES = \
	lib/ctdp-command.c \
	lib/ctdp-command.h
lib_libctdp_la_LIBADD = datapath-ct/libctdp-ct.la
