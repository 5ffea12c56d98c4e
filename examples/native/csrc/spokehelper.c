/*
 * A tiny C library with its own soname, built by build.rs: the example's
 * module needs it at run time, so a wheel must bundle it.
 */
long spokehelper_mul(long a, long b);

long spokehelper_mul(long a, long b)
{
	return a * b;
}
