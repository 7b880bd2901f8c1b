/* Forced into every compilation of the fuzz build (-include, from
 * tests/fuzz/automake.mk), the only one that uses clang.
 *
 * Open vSwitch's OVS_GUARDED_BY(MUTEX) is clang's guarded_by attribute,
 * and clang resolves MUTEX only as a variable or, in C++, a member: on a
 * struct member in C, naming a sibling member ("struct ovs_mutex lock;
 * int x OVS_GUARDED_BY(lock);") is "use of undeclared identifier".  OVS's
 * own structs therefore mark members OVS_GUARDED; datapath-ct/'s name
 * their mutex, which gcc, ignoring the attribute, accepts.  Until they
 * say OVS_GUARDED, the fuzz build reads OVS_GUARDED_BY as OVS_GUARDED:
 * the same for code generation, since the attribute only feeds
 * -Wthread-safety. */
#ifndef CTDP_FUZZ_CLANG_COMPAT_H
#define CTDP_FUZZ_CLANG_COMPAT_H 1

#include "openvswitch/compiler.h"

#undef OVS_GUARDED_BY
#define OVS_GUARDED_BY(...) OVS_GUARDED

#endif /* clang-compat.h */
