import sys

from . import quadruple


def main():
    print("mixedpkg says %d" % quadruple(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
    return 0
