//! `counter`: count(s, ch) -> int and length(s) -> int, as a CPython
//! extension module built on hand-written FFI declarations.

use pyffi::*;
use std::os::raw::{c_char, c_long};
use std::ptr::{addr_of_mut, null_mut};

/// count(s, ch): how many times the one-character string ch occurs in s.
unsafe extern "C" fn count(
    _module: *mut PyObject,
    args: *const *mut PyObject,
    nargs: PySsizeT,
) -> *mut PyObject {
    if nargs != 2 {
        return type_error(b"count() takes exactly 2 arguments\0");
    }
    let s = match str_bytes(*args) {
        Some(s) => s,
        None => return null_mut(),
    };
    let ch = match str_bytes(*args.add(1)) {
        Some(c) => c,
        None => return null_mut(),
    };
    // Both are valid UTF-8, as CPython hands them out.
    let s = std::str::from_utf8_unchecked(s);
    let ch = std::str::from_utf8_unchecked(ch);
    let mut chars = ch.chars();
    let want = match (chars.next(), chars.next()) {
        (Some(c), None) => c,
        _ => return value_error(b"count() needs a single character\0"),
    };
    let n = s.chars().filter(|&c| c == want).count();
    PyLong_FromLong(n as c_long)
}

/// length(s): the number of characters (code points) in s.
unsafe extern "C" fn length(_module: *mut PyObject, s: *mut PyObject) -> *mut PyObject {
    let s = match str_bytes(s) {
        Some(s) => s,
        None => return null_mut(),
    };
    let n = std::str::from_utf8_unchecked(s).chars().count();
    PyLong_FromLong(n as c_long)
}

static METHODS: MethodTable<3> = MethodTable([
    PyMethodDef {
        ml_name: b"count\0".as_ptr() as *const c_char,
        ml_meth: count as FastCall as *const _,
        ml_flags: METH_FASTCALL,
        ml_doc: b"count(s, ch) -> occurrences of ch in s\0".as_ptr() as *const c_char,
    },
    PyMethodDef {
        ml_name: b"length\0".as_ptr() as *const c_char,
        ml_meth: length as OneArg as *const _,
        ml_flags: METH_O,
        ml_doc: b"length(s) -> number of characters in s\0".as_ptr() as *const c_char,
    },
    PY_METHOD_DEF_SENTINEL,
]);

// CPython writes into the definition (m_base.m_index), so it must be a
// mutable static that outlives the interpreter.
static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PY_MODULE_DEF_HEAD_INIT,
    m_name: b"counter\0".as_ptr() as *const c_char,
    m_doc: b"Example extension module packaged by spoke.\0".as_ptr() as *const c_char,
    m_size: -1,
    m_methods: &METHODS.0 as *const PyMethodDef,
    m_slots: null_mut(),
    m_traverse: null_mut(),
    m_clear: null_mut(),
    m_free: null_mut(),
};

#[no_mangle]
pub unsafe extern "C" fn PyInit_counter() -> *mut PyObject {
    PyModule_Create2(addr_of_mut!(MODULE_DEF), PYTHON_API_VERSION)
}
