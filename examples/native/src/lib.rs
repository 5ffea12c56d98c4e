//! `native`: mul(a, b) -> int, computed by the C library libspokehelper,
//! as a CPython extension module built on hand-written FFI declarations.

use pyffi::*;
use std::os::raw::{c_char, c_long};
use std::ptr::{addr_of_mut, null_mut};

extern "C" {
    // From libspokehelper.so.1, which build.rs builds and links.
    fn spokehelper_mul(a: c_long, b: c_long) -> c_long;
}

unsafe extern "C" fn mul(
    _module: *mut PyObject,
    args: *const *mut PyObject,
    nargs: PySsizeT,
) -> *mut PyObject {
    if nargs != 2 {
        return type_error(b"mul() takes exactly 2 arguments\0");
    }
    let a = PyLong_AsLong(*args);
    if a == -1 && !PyErr_Occurred().is_null() {
        return null_mut();
    }
    let b = PyLong_AsLong(*args.add(1));
    if b == -1 && !PyErr_Occurred().is_null() {
        return null_mut();
    }
    if a.checked_mul(b).is_none() {
        return value_error(b"mul() result does not fit in a C long\0");
    }
    PyLong_FromLong(spokehelper_mul(a, b))
}

static METHODS: MethodTable<2> = MethodTable([
    PyMethodDef {
        ml_name: b"mul\0".as_ptr() as *const c_char,
        ml_meth: mul as FastCall as *const _,
        ml_flags: METH_FASTCALL,
        ml_doc: b"mul(a, b) -> a * b, computed by libspokehelper\0".as_ptr() as *const c_char,
    },
    PY_METHOD_DEF_SENTINEL,
]);

// CPython writes into the definition (m_base.m_index), so it must be a
// mutable static that outlives the interpreter.
static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PY_MODULE_DEF_HEAD_INIT,
    m_name: b"native\0".as_ptr() as *const c_char,
    m_doc: b"Example extension module that needs a C library.\0".as_ptr() as *const c_char,
    m_size: -1,
    m_methods: &METHODS.0 as *const PyMethodDef,
    m_slots: null_mut(),
    m_traverse: null_mut(),
    m_clear: null_mut(),
    m_free: null_mut(),
};

#[no_mangle]
pub unsafe extern "C" fn PyInit_native() -> *mut PyObject {
    PyModule_Create2(addr_of_mut!(MODULE_DEF), PYTHON_API_VERSION)
}
