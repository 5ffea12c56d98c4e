#!/bin/bash
# blob.sh FILE MB SYM: writes FILE.o, an object file whose .rodata array
# SYM holds MB megabytes of this machine's shared libraries, repeated
# (real machine code, which compresses as a big module does), for the
# fixtures that need a big module or library: bench/bench_repair.sh and
# tests/integration/t_repair_memory.sh.  FILE.bin and FILE.s are left
# beside it.  The same bytes every run on one machine.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: blob.sh FILE MB SYM" >&2; exit 2; }
file=$1 mb=$2 sym=$3
/usr/bin/python3 - "$file.bin" "$mb" <<'EOF'
import glob, os, sys
want = int(sys.argv[2]) << 20
src = sorted(p for p in glob.glob('/usr/lib/x86_64-linux-gnu/*.so*')
             if os.path.isfile(p) and not os.path.islink(p))
with open(sys.argv[1], 'wb') as out:
    n = 0
    while n < want:
        for p in src:
            b = open(p, 'rb').read()[: want - n]
            out.write(b)
            n += len(b)
            if n >= want:
                break
EOF
printf '.section .note.GNU-stack,"",@progbits\n.section .rodata\n.globl %s\n.type %s, @object\n.p2align 4\n%s:\n.incbin "%s"\n.size %s, .-%s\n' \
	"$sym" "$sym" "$sym" "$file.bin" "$sym" "$sym" >"$file.s"
gcc -c -o "$file.o" "$file.s"
