/*
 * zip_names.h - the set of an archive's entry names, for finding an entry
 * by name and for refusing a second entry of the same name.
 *
 * Which of two entries of one name an installer extracts depends on the
 * installer, so the writer never writes a duplicate and the reader
 * reports one; both ask this set.  It maps a name to the index of its
 * entry in the caller's array.  Names are not copied: each must stay
 * valid and unchanged while it is in the set (an entry's own name, whose
 * memory the entry owns, is).
 *
 * An open-addressing hash table (FNV-1a, linear probing) kept at most half
 * full, so that lookups stay short for a wheel of any size.
 */
#ifndef SPOKE_WORKER_ZIP_ZIP_NAMES_H
#define SPOKE_WORKER_ZIP_ZIP_NAMES_H

#include <stddef.h>

#include "common/err.h"

struct zip_name_slot;

struct zip_names {
	struct zip_name_slot *slots;
	size_t nslots; /* a power of two, or 0 before the first name */
	size_t n;      /* names held */
};

/* Makes room for n names in all, so that adding up to that many cannot
 * fail.  Returns 0, or -1 with e filled when memory runs out (the set is
 * then unchanged). */
int zip_names_reserve(struct zip_names *s, size_t n, struct sp_err *e);

/* Adds name as the name of entry idx.  Returns 0; 1 when the set holds
 * name already (it is not added, and *had, when not NULL, gets the index
 * it has); or -1 with e filled when memory runs out. */
int zip_names_add(struct zip_names *s, const char *name, size_t idx,
		  size_t *had, struct sp_err *e);

/* The index of the entry called name, or -1 when there is none. */
long zip_names_find(const struct zip_names *s, const char *name);

/* Frees the table (not the names); the set is empty afterwards and may be
 * used again.  Safe on a zeroed set and twice. */
void zip_names_release(struct zip_names *s);

#endif
