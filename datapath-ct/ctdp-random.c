#include <config.h>
#include "ctdp-random.h"

#include <errno.h>
#include <limits.h>
#include <openssl/rand.h>

int
ctdp_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;

    /* RAND_bytes() takes an int length: fill larger buffers in chunks. */
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int) n;

        if (RAND_bytes(p, chunk) != 1) {
            return -EIO;
        }
        p += chunk;
        n -= chunk;
    }
    return 0;
}
