# lib/: the datapath.  May use datapath-ct/ and the Open vSwitch library.
noinst_LTLIBRARIES += lib/libctdp.la
lib_libctdp_la_SOURCES = \
	lib/ctdp-clock.c \
	lib/ctdp-clock.h \
	lib/ctdp-command.c \
	lib/ctdp-command.h \
	lib/ctdp-ct-commands.c \
	lib/ctdp-ct-commands.h \
	lib/ctdp-ct-format.c \
	lib/ctdp-ct-format.h \
	lib/ctdp-dp-commands.c \
	lib/ctdp-dp-commands.h \
	lib/ctdp-dp.c \
	lib/ctdp-dp.h \
	lib/ctdp-dp-private.h \
	lib/ctdp-dpcache.c \
	lib/ctdp-dpcache.h \
	lib/ctdp-event-commands.c \
	lib/ctdp-event-commands.h \
	lib/ctdp-feed.c \
	lib/ctdp-flows.c \
	lib/ctdp-flows.h \
	lib/ctdp-inject.c \
	lib/ctdp-inject.h \
	lib/ctdp-ipf-commands.c \
	lib/ctdp-ipf-commands.h \
	lib/ctdp-offload.c \
	lib/ctdp-offload.h \
	lib/ctdp-pcap.c \
	lib/ctdp-pcap.h \
	lib/ctdp-pipeline.c \
	lib/ctdp-pipeline.h \
	lib/ctdp-port.c \
	lib/ctdp-port.h \
	lib/ctdp-replay.c \
	lib/ctdp-replay.h \
	lib/ctdp-ring.c \
	lib/ctdp-ring.h \
	lib/ctdp-rx.c \
	lib/ctdp-stream.c \
	lib/ctdp-stream.h \
	lib/ctdp-xlate.c \
	lib/ctdp-xlate.h
lib_libctdp_la_LIBADD = datapath-ct/libctdp-ct.la
