"""mixedpkg: pure Python around a native core."""
from ._native import double

__all__ = ["double", "quadruple"]


def quadruple(x):
    return double(double(x))
