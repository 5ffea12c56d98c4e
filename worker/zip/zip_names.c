#include "worker/zip/zip_names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct zip_name_slot {
	const char *name; /* NULL: the slot is empty */
	size_t idx;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The slot holding name, or the empty slot where it belongs.  The table
 * is never full, so the probe ends. */
static struct zip_name_slot *slot_of(const struct zip_names *s,
				     const char *name)
{
	size_t mask = s->nslots - 1;
	size_t i = (size_t)name_hash(name) & mask;

	while (s->slots[i].name && strcmp(s->slots[i].name, name))
		i = (i + 1) & mask;
	return &s->slots[i];
}

int zip_names_reserve(struct zip_names *s, size_t n, struct sp_err *e)
{
	struct zip_names old = *s;
	size_t nslots = s->nslots ? s->nslots : 64, i;

	while (nslots < n * 2) {
		if (nslots > SIZE_MAX / 2 / sizeof(*s->slots))
			return sp_err_set(e, "out of memory");
		nslots *= 2;
	}
	if (nslots == s->nslots)
		return 0;
	s->slots = calloc(nslots, sizeof(*s->slots));
	if (!s->slots) {
		*s = old;
		return sp_err_set(e, "out of memory");
	}
	s->nslots = nslots;
	for (i = 0; i < old.nslots; i++)
		if (old.slots[i].name)
			*slot_of(s, old.slots[i].name) = old.slots[i];
	free(old.slots);
	return 0;
}

int zip_names_add(struct zip_names *s, const char *name, size_t idx,
		  size_t *had, struct sp_err *e)
{
	struct zip_name_slot *slot;

	if (zip_names_reserve(s, s->n + 1, e) < 0)
		return -1;
	slot = slot_of(s, name);
	if (slot->name) {
		if (had)
			*had = slot->idx;
		return 1;
	}
	slot->name = name;
	slot->idx = idx;
	s->n++;
	return 0;
}

long zip_names_find(const struct zip_names *s, const char *name)
{
	const struct zip_name_slot *slot;

	if (!s->nslots)
		return -1;
	slot = slot_of(s, name);
	return slot->name ? (long)slot->idx : -1;
}

void zip_names_release(struct zip_names *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
