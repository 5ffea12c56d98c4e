#include "worker/zip/zipfmt.h"

int zip_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int n, k;

	while (i < len) {
		if (s[i] == 0)
			return 0;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
		} else {
			return 0;
		}
		if (len - i <= (size_t)n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + (size_t)k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + (size_t)k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += (size_t)n + 1;
	}
	return 1;
}

int zip_name_check(const char *name, size_t len, int flags, struct sp_err *e)
{
	size_t i, start, clen;

	if (len == 0)
		return sp_err_set(e, "the name is empty");
	if (!zip_utf8_valid((const unsigned char *)name, len))
		return sp_err_set(e, "the name is not valid UTF-8");
	if (name[0] == '/')
		return sp_err_set(e, "the name is an absolute path");
	for (i = 0; i < len; i++) {
		if (name[i] == '\\')
			return sp_err_set(e, "the name contains a backslash");
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return sp_err_set(
			    e, "the name contains a control character");
	}
	/* A directory entry ends in one '/'; its components follow the same
	 * rules as a file's.  Every component must be a real name: an empty
	 * one ("a//b") or a dot one would resolve differently on
	 * extraction. */
	if ((flags & ZIP_NAME_DIR) && name[len - 1] == '/')
		len--;
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && name[i] != '/'; i++)
			;
		clen = i - start;
		if (clen == 2 && name[start] == '.' && name[start + 1] == '.')
			return sp_err_set(e, "the name has a '..' component");
		if (clen == 1 && name[start] == '.')
			return sp_err_set(e, "the name has a '.' component");
		if (clen == 0)
			return sp_err_set(e, "the name has an empty component");
	}
	return 0;
}

void b64url_nopad(const uint8_t *in, size_t n, char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = tbl[v >> 18];
		*out++ = tbl[(v >> 12) & 63];
		*out++ = tbl[(v >> 6) & 63];
		*out++ = tbl[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = tbl[v >> 18];
		*out++ = tbl[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = tbl[v >> 18];
		*out++ = tbl[(v >> 12) & 63];
		*out++ = tbl[(v >> 6) & 63];
	}
	*out = '\0';
}
