/*
 * crc32c.c — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of an archive chunk's data frame.
 *
 * Called by the flusher (one checksum per chunk) and the reader.  Uses the
 * SSE4.2 crc32 instruction when the CPU has it (checked once), else a
 * slicing-by-8 table computed on first use.  Both give identical results;
 * the value is the standard CRC-32C (init and final xor 0xFFFFFFFF), so
 * dasf_crc32c(0, "123456789", 9) == 0xE3069283.  `crc` chains calls: pass
 * the previous result to continue a checksum over several buffers.
 */
#include "archive.h"

#include <pthread.h>
#include <string.h>

static uint32_t g_table[8][256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_hw;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        g_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    g_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ g_table[0][(c ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c; /* little-endian: the low byte is processed first */
        c = g_table[7][w & 0xff] ^ g_table[6][(w >> 8) & 0xff] ^ g_table[5][(w >> 16) & 0xff] ^
            g_table[4][(w >> 24) & 0xff] ^ g_table[3][(w >> 32) & 0xff] ^
            g_table[2][(w >> 40) & 0xff] ^ g_table[1][(w >> 48) & 0xff] ^
            g_table[0][(w >> 56) & 0xff];
        p += 8;
        n -= 8;
    }
    while (n--) c = (c >> 8) ^ g_table[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p,
                                                          size_t n) {
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = __builtin_ia32_crc32di(c64, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c64;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t dasf_crc32c(uint32_t crc, const void *p, size_t n) {
    pthread_once(&g_once, crc_init);
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (g_hw) return ~crc_hw(c, p, n);
#endif
    return ~crc_sw(c, p, n);
}

uint32_t dasf_crc32c_portable(uint32_t crc, const void *p, size_t n) {
    pthread_once(&g_once, crc_init);
    return ~crc_sw(~crc, p, n);
}
