# The Python the example is built for: Debian 12's python3.11.
# tests/integration/t_bazel.sh writes this file again from the interpreter
# it imports the wheel with (sysconfig), so the tags cannot drift from it.
PYTHON_INCLUDE = "/usr/include/python3.11"
PYTHON_TAG = "cp311"
ABI_TAG = "cp311"
EXT_SUFFIX = ".cpython-311-x86_64-linux-gnu.so"
