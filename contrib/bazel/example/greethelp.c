/* A library of the extension's own, linked by it and grafted into the
 * wheel by repair. */
int greethelp_add(int a, int b)
{
	return a + b;
}
