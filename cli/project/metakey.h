/*
 * metakey.h - what `cargo metadata --no-deps` answers from, as a cache
 * key (cache.h, filekey.h).
 *
 * The key comes in two parts.  metakey_before() holds what is known
 * before cargo runs: the cargo program ($CARGO, else cargo on PATH, by
 * identity) and what rustup's proxy picks the toolchain from
 * (rust-toolchain(.toml) from the current folder up, rustup's
 * settings.toml, its toolchains/ and each toolchain's cargo), the
 * environment (CARGO*, __CARGO*, RUSTUP*, RUSTC*, HOME), every
 * .cargo/config(.toml) cargo reads (the current folder and each one
 * above, and $CARGO_HOME's), the manifest asked for and every Cargo.toml
 * above it (a workspace root cargo would find).  metakey_after() holds
 * what the answer names: each member's manifest, Cargo.lock, the folders
 * whose listing cargo's discovery reads (each member's folder, src/,
 * src/bin/, examples/, tests/, benches/: new targets, a README), each
 * path dependency's manifest, and every folder between a member and the
 * workspace root (a new crate under a glob member shows there).
 *
 * The arguments are the manifest alone: spoke runs `cargo metadata
 * --no-deps` without features or packages, which it passes only to
 * `cargo build`.
 */
#ifndef SPOKE_CLI_PROJECT_METAKEY_H
#define SPOKE_CLI_PROJECT_METAKEY_H

#include <jansson.h>

/* The first part for cargo program cargo and manifest (NULL: cargo's
 * search from the current folder); NULL when it cannot be keyed.
 * *slot gets the entry's slot (malloc'd): the current folder and the
 * manifest. */
json_t *metakey_before(const char *cargo, const char *manifest, char **slot);

/* The second part, from cargo metadata's answer meta; NULL when it cannot
 * be keyed. */
json_t *metakey_after(const json_t *meta);

#endif
