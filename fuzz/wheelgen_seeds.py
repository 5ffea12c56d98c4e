#!/usr/bin/env python3
"""Writes the seeds of fuzz_wheelgen into fuzz/corpus/wheelgen/.

Each seed is the harness's own encoding (fuzz_wheelgen.c, decode()) of one
case of issue 15: an empty, blank, NUL-holding, CRLF or one-byte RECORD,
WHEEL, METADATA or entry_points.txt; names with a comma, quotes, a control
character, '..', an absolute path; a License-File pointing outside; and the
zip faults the harness can make.  Run it after changing the encoding, and
look at what a seed builds with SPOKE_FUZZ_KEEP=DIR replay_wheelgen SEED.

usage: fuzz/wheelgen_seeds.py [DIR]
"""
import os
import struct
import sys

# Indexes into names[] of fuzz_wheelgen.c, plus one (0 is "the ordinary
# name of entry i").
N_RECORD, N_WHEEL, N_METADATA, N_INIT, N_EP, N_LICENSE = 1, 2, 3, 4, 5, 6
N_SO = 7
N_COMMA, N_QUOTE, N_QUOTE_COMMA, N_TAB, N_ESC = 16, 17, 18, 19, 20
N_DOTDOT, N_ABS, N_BACKSLASH = 22, 23, 24
FUZZED_NAME = 255

# Kinds (enum kind).
K_NATURAL, K_RAW, K_EMPTY, K_RUN, K_ELF = 0, 1, 2, 3, 4

# Entry quirks and archive quirks.
Q_DEFLATE, Q_BAD_CRC, Q_USIZE_LIE, Q_LOCAL_NAME = 1, 2, 4, 8
Q_DESCRIPTOR, Q_SYMLINK, Q_EXEC, Q_CSIZE_LIE = 16, 32, 64, 128
G_PREFIX, G_COMMENT, G_CD_OFF, G_COUNT = 1, 2, 4, 8
G_TRUNCATE, G_ZIP64, G_DUP_CD = 16, 32, 64

# Text modes (text_mode()): ordinary lines, only extra lines, empty,
# blank, raw bytes, one byte.
T_ORDINARY, T_EXTRA, T_EMPTY, T_BLANK, T_RAW, T_ONE = range(6)
# Line ends (line_end()).
E_LF, E_CRLF, E_NONE, E_CR = 0, 1, 2, 3
# Value variants (value()).
V_AS_IS, V_EMPTY, V_FUZZED, V_NUL, V_PADDED = 0, 1, 2, 3, 4


def entry(sel=0, kind=K_NATURAL, quirk=0, recipe=b"", name=None):
    out = bytes([sel if name is None else FUZZED_NAME])
    if name is not None:
        out += bytes([len(name)]) + name
    return out + bytes([kind, quirk]) + struct.pack("<H", len(recipe)) + recipe


def wheel(entries, project=0, gq=0, tail=b""):
    """entries: up to 12 encoded entries; fewer than 4 are completed with
    the ordinary RECORD, WHEEL, METADATA and __init__.py."""
    entries = list(entries)
    while len(entries) < 4:
        entries.append(entry())
    return (bytes([project, len(entries) - 4]) + b"".join(entries) +
            bytes([gq]) + tail)


def record_all(end=E_LF, nlines=3, size=None, hash_=0):
    """An ordinary RECORD for the three other entries, each line ended by
    end; size / hash_ choose a variant for the first line."""
    r = bytes([T_ORDINARY])
    for i in range(nlines):
        r += bytes([0, hash_ if i == 0 else 0])
        r += size if (size is not None and i == 0) else bytes([0])
        r += bytes([0, end])
    r += bytes([0])              # no extra lines
    r += bytes([0, 0, 0, end])   # RECORD's own line
    return r


def fields(n, end=E_LF, nul_at=None, pad_at=None):
    """n ordinary 'Key: value' lines (field()), each three decisions."""
    r = b""
    for i in range(n):
        v = V_NUL if i == nul_at else V_PADDED if i == pad_at else V_AS_IS
        r += bytes([0, v, end])
    return r


def wheel_text(end=E_LF, nul_at=None):
    # Wheel-Version (its value pick, then the field), Generator,
    # Root-Is-Purelib (pick), Tag lines (0: present).
    f = fields(4, end, nul_at)
    return (bytes([T_ORDINARY, 0]) + f[0:3] + f[3:6] + bytes([0]) +
            f[6:9] + bytes([0]) + f[9:12] + bytes([0]))


def metadata_text(end=E_LF, nul_at=None, license_pick=0):
    f = fields(5, end, nul_at)
    return bytes([T_ORDINARY]) + f[0:9] + bytes([license_pick]) + f[9:15]


def text(mode, extra=b""):
    return bytes([mode]) + extra


def seeds():
    s = {}
    s["valid-zeros"] = b""
    s["valid-deflated"] = wheel([
        entry(N_RECORD, quirk=Q_DEFLATE), entry(N_WHEEL, quirk=Q_DEFLATE),
        entry(N_METADATA, quirk=Q_DEFLATE), entry(N_INIT, quirk=Q_DEFLATE)])
    for f, sel, ordinary in (("record", N_RECORD, record_all),
                             ("wheel", N_WHEEL, wheel_text),
                             ("metadata", N_METADATA, metadata_text)):
        def put(name, recipe, sel=sel):
            ents = [entry(N_RECORD), entry(N_WHEEL), entry(N_METADATA),
                    entry(N_INIT)]
            ents[sel - 1] = entry(sel, recipe=recipe)
            s[name] = wheel(ents)
        put(f + "-empty", text(T_EMPTY))
        put(f + "-blank", text(T_BLANK, bytes([3])))
        put(f + "-one-byte", text(T_ONE, b"x"))
        put(f + "-one-newline", text(T_ONE, b"\n"))
        put(f + "-raw-nuls", text(T_RAW, struct.pack("<H", 4) + b"\0\0\n\0"))
        put(f + "-crlf", ordinary(end=E_CRLF))
        put(f + "-no-newlines", ordinary(end=E_NONE))
        put(f + "-cr-only", ordinary(end=E_CR))
    s["record-nul-in-size"] = wheel([entry(N_RECORD, recipe=record_all(
        size=bytes([3, V_NUL])))])
    s["record-size-plus"] = wheel([entry(N_RECORD, recipe=record_all(
        size=bytes([2, 2, V_AS_IS])))])
    s["record-size-huge"] = wheel([entry(N_RECORD, recipe=record_all(
        size=bytes([2, 5, V_AS_IS])))])
    s["record-sha512"] = wheel([entry(N_RECORD, recipe=record_all(hash_=1))])
    s["record-sha384"] = wheel([entry(N_RECORD, recipe=record_all(hash_=2))])
    s["record-md5"] = wheel([entry(N_RECORD, recipe=record_all(hash_=5))])
    s["record-no-hash"] = wheel([entry(N_RECORD, recipe=record_all(hash_=3))])
    s["wheel-nul"] = wheel([entry(N_RECORD), entry(N_WHEEL, recipe=wheel_text(
        nul_at=0))])
    s["metadata-nul"] = wheel([entry(N_RECORD), entry(N_WHEEL),
                               entry(N_METADATA, recipe=metadata_text(
                                   nul_at=1))])
    s["metadata-license-outside"] = wheel([
        entry(N_RECORD), entry(N_WHEEL),
        entry(N_METADATA, recipe=metadata_text(license_pick=1))])
    s["metadata-license-absolute"] = wheel([
        entry(N_RECORD), entry(N_WHEEL),
        entry(N_METADATA, recipe=metadata_text(license_pick=2))])
    s["license-file"] = wheel([entry(), entry(), entry(), entry(),
                               entry(N_LICENSE, kind=K_RAW,
                                     recipe=struct.pack("<H", 3) + b"MIT")])
    # entry_points.txt: ordinary, and every text shape.
    ep = {"ep-ordinary": bytes([T_ORDINARY]),
          "ep-empty": text(T_EMPTY), "ep-blank": text(T_BLANK, b"\4"),
          "ep-one-byte": text(T_ONE, b"["),
          "ep-crlf": bytes([T_ORDINARY, V_AS_IS, E_CRLF, V_AS_IS, E_CRLF]),
          "ep-nul": bytes([T_ORDINARY, V_NUL, E_LF, V_AS_IS, E_LF])}
    for name, recipe in ep.items():
        s[name] = wheel([entry(), entry(), entry(), entry(),
                         entry(N_EP, recipe=recipe)])
    # Hostile names, each once in a RECORD that lists it as it should.
    for name, sel in (("name-comma", N_COMMA), ("name-quote", N_QUOTE),
                      ("name-quote-comma", N_QUOTE_COMMA),
                      ("name-tab", N_TAB), ("name-escape", N_ESC),
                      ("name-dotdot", N_DOTDOT), ("name-absolute", N_ABS),
                      ("name-backslash", N_BACKSLASH)):
        s[name] = wheel([entry(), entry(), entry(), entry(), entry(sel)])
    s["name-empty"] = wheel([entry(), entry(), entry(), entry(),
                             entry(name=b"")])
    s["name-nul"] = wheel([entry(), entry(), entry(), entry(),
                           entry(name=b"fuzz/a\0b.py")])
    s["name-newline"] = wheel([entry(), entry(), entry(), entry(),
                               entry(name=b"fuzz/a\nb.py")])
    s["name-duplicate"] = wheel([entry(), entry(), entry(), entry(),
                                 entry(N_INIT)])
    s["so-elf-magic"] = wheel([entry(), entry(), entry(), entry(),
                               entry(N_SO, kind=K_ELF, recipe=b"\0")])
    s["long-run"] = wheel([entry(), entry(), entry(), entry(),
                           entry(name=b"fuzz/big.txt", kind=K_RUN,
                                 quirk=Q_DEFLATE, recipe=b"\xff\x7f")])
    # Zip faults.
    for name, q in (("zip-bad-crc", Q_BAD_CRC), ("zip-usize-lie", Q_USIZE_LIE),
                    ("zip-local-name", Q_LOCAL_NAME),
                    ("zip-descriptor", Q_DESCRIPTOR | Q_DEFLATE),
                    ("zip-symlink", Q_SYMLINK), ("zip-exec", Q_EXEC),
                    ("zip-csize-lie", Q_CSIZE_LIE | Q_DEFLATE)):
        s[name] = wheel([entry(), entry(), entry(), entry(N_INIT, quirk=q)])
    for name, gq, tail in (("zip-prefix", G_PREFIX, b"\4junk"),
                           ("zip-comment", G_COMMENT, b"\5hello"),
                           ("zip-cd-offset", G_CD_OFF, b""),
                           ("zip-count", G_COUNT, b""),
                           ("zip-truncated", G_TRUNCATE, b"\x10"),
                           ("zip-zip64", G_ZIP64, b""),
                           ("zip-dup-central", G_DUP_CD, b"")):
        s[name] = wheel([], gq=gq, tail=tail)
    for p in range(1, 5):
        s["project-%d" % p] = wheel([], project=p)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "wheelgen")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
