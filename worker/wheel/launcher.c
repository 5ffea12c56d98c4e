/*
 * launcher.c - the script that runs a program from platlib (launcher.h).
 */
#define _GNU_SOURCE
#include "worker/wheel/launcher.h"

#include <stdio.h>
#include <stdlib.h>

char *launcher_text(const char *target)
{
	const unsigned char *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs("#!python\n"
	      "# Written by spoke.  The ELF executable that would stand here\n"
	      "# lives in platlib, beside the libraries bundled for it,\n"
	      "# where its RPATH finds them; this runs it with the same\n"
	      "# arguments.\n"
	      "import os\n"
	      "import sys\n"
	      "import sysconfig\n"
	      "\n"
	      "if __name__ == \"__main__\":\n"
	      "    target = os.path.join(sysconfig.get_path(\"platlib\"),\n"
	      "                          os.fsdecode(b\"",
	      f);
	for (p = (const unsigned char *)target; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			fputc(*p, f);
		else
			fprintf(f, "\\x%02x", *p);
	}
	fputs("\"))\n"
	      "    os.execv(target, sys.argv)\n",
	      f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
