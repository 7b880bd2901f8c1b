dnl CTDP_ENABLE_OPTION([OPTION])
dnl Adds OPTION to WARNING_FLAGS when the C compiler accepts it (with
dnl -Werror, so that an unknown warning option is refused, not ignored).
AC_DEFUN([CTDP_ENABLE_OPTION],
  [AS_VAR_PUSHDEF([ctdp_opt], [ctdp_cv_cc_option_$1])
   AC_CACHE_CHECK([whether $CC accepts $1], [ctdp_opt],
     [ctdp_save_CFLAGS=$CFLAGS
      CFLAGS="$CFLAGS -Werror $1"
      AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
        [AS_VAR_SET([ctdp_opt], [yes])], [AS_VAR_SET([ctdp_opt], [no])])
      CFLAGS=$ctdp_save_CFLAGS])
   AS_VAR_IF([ctdp_opt], [yes], [WARNING_FLAGS="$WARNING_FLAGS $1"])
   AS_VAR_POPDEF([ctdp_opt])
   AC_SUBST([WARNING_FLAGS])])

dnl CTDP_CHECK_OVS
dnl Locates a built Open vSwitch tree, as OVN's configure does:
dnl --with-ovs-source=DIR (the sources) and --with-ovs-build=DIR (where it was
dnl configured and built; defaults to the source directory).  Substitutes
dnl OVS_SRCDIR, OVS_BUILDDIR, OVS_CPPFLAGS and OVS_LIBDIR.
AC_DEFUN([CTDP_CHECK_OVS],
  [AC_ARG_WITH([ovs-source],
     [AS_HELP_STRING([--with-ovs-source=DIR],
                     [Open vSwitch source directory (required)])],
     [OVS_SRCDIR=$withval], [OVS_SRCDIR=])
   AC_ARG_WITH([ovs-build],
     [AS_HELP_STRING([--with-ovs-build=DIR],
                     [Open vSwitch build directory (default: the source directory)])],
     [OVS_BUILDDIR=$withval], [OVS_BUILDDIR=$OVS_SRCDIR])
   AC_MSG_CHECKING([for the Open vSwitch source tree])
   AS_IF([test -z "$OVS_SRCDIR"],
     [AC_MSG_ERROR([--with-ovs-source=DIR is required (build-aux/ovs-lib.sh prints one)])])
   OVS_SRCDIR=`cd "$OVS_SRCDIR" 2>/dev/null && pwd` || OVS_SRCDIR=
   AS_IF([test -z "$OVS_SRCDIR" || test ! -f "$OVS_SRCDIR/lib/dp-packet.h"],
     [AC_MSG_ERROR([the --with-ovs-source directory is not an Open vSwitch source tree])])
   AC_MSG_RESULT([$OVS_SRCDIR])
   AC_MSG_CHECKING([for the Open vSwitch build tree])
   OVS_BUILDDIR=`cd "$OVS_BUILDDIR" 2>/dev/null && pwd` || OVS_BUILDDIR=
   AS_IF([test -z "$OVS_BUILDDIR" || test ! -f "$OVS_BUILDDIR/config.h"],
     [AC_MSG_ERROR([no config.h in the --with-ovs-build directory: configure Open vSwitch there first])])
   AS_IF([test ! -f "$OVS_BUILDDIR/lib/libopenvswitch.la"],
     [AC_MSG_ERROR([$OVS_BUILDDIR/lib/libopenvswitch.la is missing: build it first (make lib/libopenvswitch.la)])])
   AC_MSG_RESULT([$OVS_BUILDDIR])
   OVS_CPPFLAGS="-I$OVS_BUILDDIR -I$OVS_BUILDDIR/include -I$OVS_SRCDIR/include -I$OVS_BUILDDIR/lib -I$OVS_SRCDIR/lib"
   OVS_LIBDIR=$OVS_BUILDDIR/lib
   AC_SUBST([OVS_SRCDIR])
   AC_SUBST([OVS_BUILDDIR])
   AC_SUBST([OVS_CPPFLAGS])
   AC_SUBST([OVS_LIBDIR])])
