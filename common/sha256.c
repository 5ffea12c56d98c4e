#include "common/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

int sha256_init(struct sha256 *h, struct sp_err *e)
{
	return hash_init_named(h, "sha256", e);
}

int hash_init_named(struct sha256 *h, const char *algo, struct sp_err *e)
{
	const EVP_MD *md = strcmp(algo, "sha256") == 0	  ? EVP_sha256()
			   : strcmp(algo, "sha384") == 0 ? EVP_sha384()
			   : strcmp(algo, "sha512") == 0 ? EVP_sha512()
							 : NULL;
	EVP_MD_CTX *ctx;

	h->ctx = NULL;
	if (!md)
		return sp_err_set(e, "unknown digest '%s'", algo);
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return sp_err_set(e, "cannot initialise %s", algo);
	}
	h->ctx = ctx;
	return 0;
}

size_t hash_final(struct sha256 *h, uint8_t out[64])
{
	unsigned int len = 64;

	EVP_DigestFinal_ex(h->ctx, out, &len);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	return len;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void sha256_final(struct sha256 *h, uint8_t out[32])
{
	unsigned int len = 32;

	EVP_DigestFinal_ex(h->ctx, out, &len);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void sha256_release(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void sha256_buf(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int sha256_file_hex(const char *path, char out[65], struct sp_err *e)
{
	struct sha256 h;
	uint8_t buf[1 << 16], md[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sp_err_sys(e, "cannot open '%s'", path);
	if (sha256_init(&h, e) < 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha256_update(&h, buf, (size_t)n);
	if (n < 0) {
		sp_err_sys(e, "cannot read '%s'", path);
		sha256_release(&h);
		close(fd);
		return -1;
	}
	close(fd);
	sha256_final(&h, md);
	hex_encode(md, 32, out);
	return 0;
}
