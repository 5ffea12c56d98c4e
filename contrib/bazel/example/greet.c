/* A tiny CPython extension: greet.add(a, b) through the helper library,
 * greet.hello() a constant string. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int greethelp_add(int a, int b);

static PyObject *greet_add(PyObject *self, PyObject *args)
{
	int a, b;

	(void)self;
	if (!PyArg_ParseTuple(args, "ii", &a, &b))
		return NULL;
	return PyLong_FromLong(greethelp_add(a, b));
}

static PyObject *greet_hello(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	return PyUnicode_FromString("hello from bazel");
}

static PyMethodDef greet_methods[] = {
	{"add", greet_add, METH_VARARGS, "a + b, by the helper library"},
	{"hello", greet_hello, METH_NOARGS, "a greeting"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef greet_module = {
	PyModuleDef_HEAD_INIT, "greet", NULL, -1, greet_methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_greet(void)
{
	return PyModule_Create(&greet_module);
}
