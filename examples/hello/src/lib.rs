//! `hello`: greet(name) -> str and add(a, b) -> int, as a CPython
//! extension module built on hand-written FFI declarations.

use pyffi::*;
use std::os::raw::{c_char, c_long};
use std::ptr::{addr_of_mut, null_mut};

unsafe extern "C" fn greet(_module: *mut PyObject, name: *mut PyObject) -> *mut PyObject {
    let name = match str_bytes(name) {
        Some(n) => n,
        None => return null_mut(),
    };
    let mut out = Vec::with_capacity(7 + name.len());
    // `--features loud` changes the greeting: spoke's tests use it to see
    // that cargo features reach the build.
    if cfg!(feature = "loud") {
        out.extend_from_slice(b"HELLO, ");
    } else {
        out.extend_from_slice(b"hello, ");
    }
    out.extend_from_slice(name);
    new_str(&out)
}

unsafe extern "C" fn add(
    _module: *mut PyObject,
    args: *const *mut PyObject,
    nargs: PySsizeT,
) -> *mut PyObject {
    if nargs != 2 {
        return type_error(b"add() takes exactly 2 arguments\0");
    }
    let a = PyLong_AsLong(*args);
    if a == -1 && !PyErr_Occurred().is_null() {
        return null_mut();
    }
    let b = PyLong_AsLong(*args.add(1));
    if b == -1 && !PyErr_Occurred().is_null() {
        return null_mut();
    }
    match a.checked_add(b) {
        Some(sum) => PyLong_FromLong(sum as c_long),
        None => value_error(b"add() result does not fit in a C long\0"),
    }
}

static METHODS: MethodTable<3> = MethodTable([
    PyMethodDef {
        ml_name: b"greet\0".as_ptr() as *const c_char,
        ml_meth: greet as OneArg as *const _,
        ml_flags: METH_O,
        ml_doc: b"greet(name) -> 'hello, <name>'\0".as_ptr() as *const c_char,
    },
    PyMethodDef {
        ml_name: b"add\0".as_ptr() as *const c_char,
        ml_meth: add as FastCall as *const _,
        ml_flags: METH_FASTCALL,
        ml_doc: b"add(a, b) -> a + b\0".as_ptr() as *const c_char,
    },
    PY_METHOD_DEF_SENTINEL,
]);

// CPython writes into the definition (m_base.m_index), so it must be a
// mutable static that outlives the interpreter.
static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PY_MODULE_DEF_HEAD_INIT,
    m_name: b"hello\0".as_ptr() as *const c_char,
    m_doc: b"Example extension module packaged by spoke.\0".as_ptr() as *const c_char,
    m_size: -1,
    m_methods: &METHODS.0 as *const PyMethodDef,
    m_slots: null_mut(),
    m_traverse: null_mut(),
    m_clear: null_mut(),
    m_free: null_mut(),
};

#[no_mangle]
pub unsafe extern "C" fn PyInit_hello() -> *mut PyObject {
    PyModule_Create2(addr_of_mut!(MODULE_DEF), PYTHON_API_VERSION)
}
