/*
 * fake_symvers.h - a made-up object's symbol versions and imports, for
 * the unit tests of the repair room's rules (test_repair_policy,
 * test_repair_verdict), which judge what an object requires without
 * building one.
 *
 * fake_symvers_init(f, vers, imps) fills f->sv: each entry of vers
 * (NULL-terminated, or NULL) is "GLIBC_2.17@libc.so.6" or
 * "GLIBC_2.17@libc.so.6:sym1,sym2" (the version, its library, and the
 * symbols using it); each entry of imps is an undefined function, strong
 * ("name") or weak ("~name").  Everything points into f: no allocation,
 * nothing to release.  Header only, like scratch.h: each test is its own
 * program.
 */
#ifndef SPOKE_TESTS_UNIT_FAKE_SYMVERS_H
#define SPOKE_TESTS_UNIT_FAKE_SYMVERS_H

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "worker/elf/symvers.h"

#define FAKE_MAX 8

struct fake_symvers {
	struct symvers sv;
	struct symvers_need needs[FAKE_MAX];
	const char *syms[FAKE_MAX][4];
	struct elf_import imps[FAKE_MAX];
	char buf[FAKE_MAX][64];
};

static void fake_symvers_init(struct fake_symvers *f, const char *const *vers,
			      const char *const *imps)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; vers && vers[i]; i++) {
		struct symvers_need *n = &f->needs[i];
		char *at, *colon, *us, *sym;

		assert_true(i < FAKE_MAX);
		snprintf(f->buf[i], sizeof(f->buf[i]), "%s", vers[i]);
		at = strchr(f->buf[i], '@');
		assert_non_null(at);
		*at = '\0';
		colon = strchr(at + 1, ':');
		if (colon) {
			*colon = '\0';
			for (sym = strtok(colon + 1, ","); sym;
			     sym = strtok(NULL, ",")) {
				assert_true(n->nsyms < 4);
				f->syms[i][n->nsyms++] = sym;
			}
		}
		us = strchr(f->buf[i], '_');
		assert_non_null(us);
		*us = '\0';
		n->ns = symvers_ns_find(f->buf[i]);
		assert_true(n->ns >= 0);
		*us = '_';
		n->name = f->buf[i];
		n->version = us + 1;
		n->file = at + 1;
		n->syms = f->syms[i];
	}
	f->sv.needs = f->needs;
	f->sv.n = i;
	for (i = 0; imps && imps[i]; i++) {
		assert_true(i < FAKE_MAX);
		f->imps[i].name = imps[i][0] == '~' ? imps[i] + 1 : imps[i];
		f->imps[i].bind = imps[i][0] == '~' ? STB_WEAK : STB_GLOBAL;
		f->imps[i].type = STT_FUNC;
	}
	f->sv.imports.syms = f->imps;
	f->sv.imports.n = i;
}

#endif
