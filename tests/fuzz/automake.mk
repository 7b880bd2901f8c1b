# tests/fuzz/: libFuzzer targets, one per parser of outside input, built
# with `configure --enable-fuzz` (clang; ./quickstart build fuzz sets it up
# in _build/fuzz).  Each runs from its seed corpus, tests/fuzz/corpus/NAME/
# (made by tests/fuzz/make-corpus.py), never changing it: see
# tests/fuzz/README.md.
#
#   make fuzz                    every target for FUZZ_TIME seconds each
#   make fuzz FUZZ_TARGETS=fuzz-flows FUZZ_TIME=3600
#   make fuzz FUZZ_RESULTS=FILE  also one "PASS|FAIL TARGET" line per target
#                                in FILE (the quick start counts them)
EXTRA_DIST += \
	tests/fuzz/README.md \
	tests/fuzz/corpus \
	tests/fuzz/make-corpus.py \
	tests/fuzz/run-fuzz.sh

FUZZ_TARGET_PATHS = \
	tests/fuzz/fuzz-packets \
	tests/fuzz/fuzz-fragments \
	tests/fuzz/fuzz-flows \
	tests/fuzz/fuzz-commands \
	tests/fuzz/fuzz-pcap \
	tests/fuzz/fuzz-ftp
FUZZ_TIME = 60
FUZZ_RESULTS =
FUZZ_TARGETS = fuzz-packets fuzz-fragments fuzz-flows fuzz-commands fuzz-pcap \
	fuzz-ftp

if FUZZ
check_PROGRAMS += $(FUZZ_TARGET_PATHS)
FUZZ_COMMON = tests/fuzz/fuzz-common.c tests/fuzz/fuzz-common.h
FUZZ_LINK_LIBS = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer

tests_fuzz_fuzz_packets_SOURCES = tests/fuzz/fuzz-packets.c $(FUZZ_COMMON)
tests_fuzz_fuzz_packets_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_packets_LDFLAGS = $(FUZZ_LINK_FLAGS)

tests_fuzz_fuzz_fragments_SOURCES = tests/fuzz/fuzz-fragments.c $(FUZZ_COMMON)
tests_fuzz_fuzz_fragments_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_fragments_LDFLAGS = $(FUZZ_LINK_FLAGS)

tests_fuzz_fuzz_flows_SOURCES = tests/fuzz/fuzz-flows.c $(FUZZ_COMMON)
tests_fuzz_fuzz_flows_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_flows_LDFLAGS = $(FUZZ_LINK_FLAGS)

# The command handlers are reached as the daemon's unixctl server reaches
# them, through the callbacks registered with unixctl_command_register(),
# but without a socket: the target supplies the registration and reply
# calls (--wrap), and keeps the callbacks and replies in memory; it also
# moves the monotonic clock, for the streams' timers.
tests_fuzz_fuzz_commands_SOURCES = tests/fuzz/fuzz-commands.c $(FUZZ_COMMON)
tests_fuzz_fuzz_commands_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_commands_LDFLAGS = $(FUZZ_LINK_FLAGS) \
	-Wl,--wrap=unixctl_command_register \
	-Wl,--wrap=unixctl_command_reply \
	-Wl,--wrap=unixctl_command_reply_error \
	-Wl,--wrap=clock_gettime

tests_fuzz_fuzz_pcap_SOURCES = tests/fuzz/fuzz-pcap.c $(FUZZ_COMMON)
tests_fuzz_fuzz_pcap_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_pcap_LDFLAGS = $(FUZZ_LINK_FLAGS)

# The FTP helper's parser alone (a pure function of the payload).
tests_fuzz_fuzz_ftp_SOURCES = tests/fuzz/fuzz-ftp.c
tests_fuzz_fuzz_ftp_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_ftp_LDFLAGS = $(FUZZ_LINK_FLAGS)

# Builds the targets only (not the daemon and tools), for the quick start.
fuzz-targets: $(FUZZ_TARGET_PATHS)

fuzz: $(FUZZ_TARGET_PATHS)
	$(SHELL) $(srcdir)/tests/fuzz/run-fuzz.sh --time=$(FUZZ_TIME) \
	    --corpus=$(srcdir)/tests/fuzz/corpus --bin=tests/fuzz \
	    --work=fuzz-work --results=$(FUZZ_RESULTS) $(FUZZ_TARGETS)
else
fuzz fuzz-targets:
	@echo "fuzz: configure with --enable-fuzz and CC=clang-14 first" \
	    "(./quickstart fuzz does it in _build/fuzz)" >&2; exit 1
endif
.PHONY: fuzz fuzz-targets
