/*
 * pycache.h - the interpreter's answers kept across runs.
 *
 * pyinfo.h asks the interpreter for its tags and for pyproject.toml
 * documents; a Python start (and, behind a pyenv shim, a dozen bash
 * scripts) costs more than a no-op cargo build.  The answers are kept in
 * the cache (cache.h), for an interpreter that interp.h resolves to an
 * ELF executable:
 *
 *   - the tags, under interp_key() (the executable, its pyvenv.cfg, the
 *     environment that matters), with the identity of each file the
 *     interpreter's answer came from (its real executable, the
 *     _sysconfigdata module, the libpython it loaded), each checked
 *     again on every use; stored only when the interpreter reports
 *     itself (sys.executable) as the executable resolved;
 *   - each pyproject.toml document it read without error, under the
 *     same key, with the file's identity and content hash taken before
 *     the interpreter read it.
 */
#ifndef SPOKE_CLI_PROJECT_PYCACHE_H
#define SPOKE_CLI_PROJECT_PYCACHE_H

#include <jansson.h>
#include <stddef.h>

struct pycache {
	char *exe;    /* interp.h's resolution, NULL: not cached */
	json_t *key;  /* interp_key(), NULL: not cached */
	json_t *docs; /* the entry read: path -> {"file", "entry"} */
	json_t *files; /* path -> its filekey_file() taken at lookup */
};

/* Resolves interpreter and computes its key; a pycache that caches
 * nothing on any failure. */
void pycache_init(struct pycache *c, const char *interpreter);

/* The cached answer without pyprojects (new reference), or NULL. */
json_t *pycache_tags(const struct pycache *c);

/* Looks up the n pyprojects paths[]: each cached one goes into docs
 * (path -> its entry, as the interpreter gave it), the others into
 * missing[] (*nmissing of them; missing has room for n).  Returns 0, or
 * -1 when out of memory. */
int pycache_docs(struct pycache *c, const char *const *paths, size_t n,
		 json_t *docs, const char **missing, size_t *nmissing);

/* Keeps what an interpreter run answered: answer (its whole JSON object)
 * for the tags unless have_tags, and, for the n paths[], each entry of
 * docs without an error.  Failures are silent: the next run asks. */
void pycache_store(struct pycache *c, const json_t *answer, int have_tags,
		   const char *const *paths, size_t n, const json_t *docs);

void pycache_release(struct pycache *c);

#endif
