#include "common/identjson.h"

int64_t ident_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

json_t *ident_json(const struct stat *st)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "dev", (json_int_t)st->st_dev,
			 "ino", (json_int_t)st->st_ino, "size",
			 (json_int_t)st->st_size, "mtime_ns",
			 (json_int_t)ident_ns(&st->st_mtim), "ctime_ns",
			 (json_int_t)ident_ns(&st->st_ctim));
}
