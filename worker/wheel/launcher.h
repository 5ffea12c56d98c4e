/*
 * launcher.h - the script that stands in a wheel's <dist>.data/scripts/
 * for an ELF program that lives in platlib.
 *
 * Installers copy a wheel's scripts to the environment's bin/, a folder
 * with no fixed path to platlib, where <pkg>.libs/ lies: a program that
 * needs libraries bundled there cannot reach them by an RPATH from bin/.
 * Such a program is put at <pkg>.scripts/<name> in platlib instead, with
 * an RPATH of $ORIGIN/../<pkg>.libs, and this launcher takes its place
 * among the scripts (as auditwheel and maturin do): both `spoke build`'s
 * programs (build_wheel.h) and `spoke repair`'s (repair_wheel.h).
 */
#ifndef SPOKE_WORKER_WHEEL_LAUNCHER_H
#define SPOKE_WORKER_WHEEL_LAUNCHER_H

/*
 * The launcher's text: a Python script whose "#!python" line installers
 * rewrite to the environment's interpreter, which executes the program
 * at target (its path in the wheel, relative to platlib, as sysconfig
 * finds platlib) with the arguments it was given.  The path is a bytes
 * literal, every byte but plain ASCII escaped, so no name can end the
 * string.  malloc'd (NUL-terminated); NULL on out-of-memory.
 */
char *launcher_text(const char *target);

#endif
