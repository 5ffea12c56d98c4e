/*
 * zipfmt.h - the facts of the zip format that spoke's writer and reader
 * both rely on: record signatures and lengths, field limits, flag bits,
 * the entry-name rule, UTF-8 validation, and the digest form a wheel's
 * RECORD uses for an entry.
 *
 * They live in one place so that what the writer (zip_write.h) produces
 * and what the reader (zip_read.h) accepts cannot drift apart: a name the
 * writer takes is one the reader takes, and the other way round.
 */
#ifndef SPOKE_WORKER_ZIP_ZIPFMT_H
#define SPOKE_WORKER_ZIP_ZIPFMT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Record signatures (APPNOTE 4.3), as read from their first four bytes in
 * little-endian order. */
#define ZIP_SIG_LOCAL 0x04034b50u      /* local file header */
#define ZIP_SIG_CENTRAL 0x02014b50u    /* central directory header */
#define ZIP_SIG_DESCRIPTOR 0x08074b50u /* optional data descriptor */
#define ZIP_SIG_EOCD64 0x06064b50u     /* zip64 end of central directory */
#define ZIP_SIG_LOC64 0x07064b50u      /* zip64 end of central dir locator */
#define ZIP_SIG_EOCD 0x06054b50u       /* end of central directory */

/* The fixed part of each record, before its variable fields. */
#define ZIP_LOCAL_LEN 30u
#define ZIP_CENTRAL_LEN 46u
#define ZIP_EOCD_LEN 22u
#define ZIP_EOCD64_LEN 56u
#define ZIP_LOC64_LEN 20u

/* A classic field holding its maximum means "see the zip64 field". */
#define ZIP_U16_MAX 0xffffu
#define ZIP_U32_MAX 0xffffffffu
/* The header id of the zip64 extended information extra field. */
#define ZIP_EXTRA_ZIP64 0x0001u

/* General purpose bit flags. */
#define ZIP_FLAG_ENCRYPTED 0x0001u
#define ZIP_FLAG_DESCRIPTOR 0x0008u /* CRC and sizes follow the data */
#define ZIP_FLAG_UTF8 0x0800u	    /* the name is UTF-8 */

/* The compression methods a wheel may use. */
#define ZIP_METHOD_STORE 0
#define ZIP_METHOD_DEFLATE 8

/* "Version made by" high byte: the external attributes hold st_mode. */
#define ZIP_MADE_BY_UNIX 3
/* "Version needed to extract": plain entries, and zip64 ones. */
#define ZIP_VERSION_DEFAULT 20
#define ZIP_VERSION_ZIP64 45

/* Length of a SHA-256 in urlsafe base64 without padding, plus its NUL. */
#define ZIPW_B64_SHA256 44
/* The same for a sha512 digest (64 bytes: 86 characters). */
#define ZIPW_B64_SHA512 87

/* Flags of zip_name_check(). */
enum {
	/* A trailing '/' is allowed: the name of a directory entry. */
	ZIP_NAME_DIR = 1,
};

/* Checks that the len bytes at s are well-formed UTF-8: no overlong
 * forms, no surrogates, nothing above U+10FFFF, and no NUL byte.  Returns
 * 1 when they are, else 0. */
int zip_utf8_valid(const unsigned char *s, size_t len);

/*
 * The entry-name rule, the one both the writer and the reader hold names
 * to: a name is not empty, is valid UTF-8 (zip_utf8_valid), is relative
 * (no leading '/'), holds no backslash and no control character (bytes
 * below 0x20 and 0x7f), and its '/'-separated components are neither
 * empty, '.' nor '..'.  Such a name extracts to the same place on every
 * system and never outside the folder it is extracted into.  With
 * ZIP_NAME_DIR, one trailing '/' (a directory entry) is allowed.
 *
 * The length of a zip's name field is not part of the rule: the writer
 * checks it (zipw_add).  Returns 0, or -1 with e saying what is wrong
 * with the name without quoting it ("the name has a '..' component"),
 * for the caller to name it.
 */
int zip_name_check(const char *name, size_t len, int flags, struct sp_err *e);

/* Urlsafe base64 of n bytes without '=' padding into out, which needs
 * (4 * n + 2) / 3 + 1 bytes; out is NUL-terminated.  It is the form in
 * which a wheel's RECORD gives an entry's digest, which the writer
 * (zipw_add) and the reader (zip_stream.h) both compute. */
void b64url_nopad(const uint8_t *in, size_t n, char *out);

#endif
