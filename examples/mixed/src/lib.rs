//! `mixedpkg._native`: double(x) -> int, the native part of the mixed
//! Rust/Python example package.

use pyffi::*;
use std::os::raw::{c_char, c_long};
use std::ptr::{addr_of_mut, null_mut};

unsafe extern "C" fn double(_module: *mut PyObject, x: *mut PyObject) -> *mut PyObject {
    let v = PyLong_AsLong(x);
    if v == -1 && !PyErr_Occurred().is_null() {
        return null_mut();
    }
    match v.checked_mul(2) {
        Some(d) => PyLong_FromLong(d as c_long),
        None => value_error(b"double() result does not fit in a C long\0"),
    }
}

static METHODS: MethodTable<2> = MethodTable([
    PyMethodDef {
        ml_name: b"double\0".as_ptr() as *const c_char,
        ml_meth: double as OneArg as *const _,
        ml_flags: METH_O,
        ml_doc: b"double(x) -> 2 * x\0".as_ptr() as *const c_char,
    },
    PY_METHOD_DEF_SENTINEL,
]);

// CPython writes into the definition (m_base.m_index), so it must be a
// mutable static that outlives the interpreter.
static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PY_MODULE_DEF_HEAD_INIT,
    m_name: b"mixedpkg._native\0".as_ptr() as *const c_char,
    m_doc: b"Native part of mixedpkg.\0".as_ptr() as *const c_char,
    m_size: -1,
    m_methods: &METHODS.0 as *const PyMethodDef,
    m_slots: null_mut(),
    m_traverse: null_mut(),
    m_clear: null_mut(),
    m_free: null_mut(),
};

#[no_mangle]
pub unsafe extern "C" fn PyInit__native() -> *mut PyObject {
    PyModule_Create2(addr_of_mut!(MODULE_DEF), PYTHON_API_VERSION)
}
