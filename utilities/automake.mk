# utilities/: the daemon and the command-line tools.
sbin_PROGRAMS += utilities/ctdpd
utilities_ctdpd_SOURCES = utilities/ctdpd.c
utilities_ctdpd_LDADD = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la

bin_PROGRAMS += utilities/ctdp-dpctl
utilities_ctdp_dpctl_SOURCES = utilities/ctdp-dpctl.c
utilities_ctdp_dpctl_LDADD = lib/libctdp.la $(OVS_LIBDIR)/libopenvswitch.la
