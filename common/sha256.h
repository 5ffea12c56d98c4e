/*
 * sha256.h - SHA-256 through OpenSSL's libcrypto (which uses the CPU's SHA
 * instructions where they exist).
 */
#ifndef SPOKE_COMMON_SHA256_H
#define SPOKE_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sha256 {
	void *ctx; /* EVP_MD_CTX */
};

int sha256_init(struct sha256 *h, struct sp_err *e);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Writes 32 bytes to out and releases the context. */
void sha256_final(struct sha256 *h, uint8_t out[32]);
/* Releases the context without a result (error paths). */
void sha256_release(struct sha256 *h);

/* The stronger digests a wheel's RECORD may use besides sha256 (the spec
 * asks for sha256 or better): algo is "sha256", "sha384" or "sha512".  h
 * is then that digest's context for sha256_update(), and hash_final()
 * writes its digest (at most 64 bytes) and returns the length.  Returns
 * -1 for any other algo, with e naming it. */
int hash_init_named(struct sha256 *h, const char *algo, struct sp_err *e);
size_t hash_final(struct sha256 *h, uint8_t out[64]);

/* One-shot digest of a buffer. */
void sha256_buf(const void *p, size_t n, uint8_t out[32]);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Digest of a whole file into 64 hex chars + NUL. */
int sha256_file_hex(const char *path, char out[65], struct sp_err *e);

#endif
