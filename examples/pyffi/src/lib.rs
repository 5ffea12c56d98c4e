//! The pieces of the CPython C API that the example modules use, declared
//! by hand (no pyo3, no crates.io), in one crate they all depend on.
//!
//! Only what is ABI-stable across CPython 3.8+ (non free-threaded) is used:
//! PyModule_Create2 with API version 1013, METH_O and METH_FASTCALL
//! functions, and borrowed/new references exactly as the C API documents.
//! No libpython is linked: the symbols resolve against the interpreter that
//! imports the module.

// Each example uses a subset.
#![allow(dead_code)]

use std::os::raw::{c_char, c_int, c_long, c_void};

pub type PySsizeT = isize;

#[repr(C)]
pub struct PyObject {
    pub ob_refcnt: PySsizeT,
    pub ob_type: *mut c_void,
}

#[repr(C)]
pub struct PyModuleDefBase {
    pub ob_base: PyObject,
    pub m_init: Option<unsafe extern "C" fn() -> *mut PyObject>,
    pub m_index: PySsizeT,
    pub m_copy: *mut PyObject,
}

/// The C macro PyModuleDef_HEAD_INIT: a refcount of one, no type.
pub const PY_MODULE_DEF_HEAD_INIT: PyModuleDefBase = PyModuleDefBase {
    ob_base: PyObject {
        ob_refcnt: 1,
        ob_type: std::ptr::null_mut(),
    },
    m_init: None,
    m_index: 0,
    m_copy: std::ptr::null_mut(),
};

/// ml_meth is a PyCFunction in C, cast from whatever signature ml_flags
/// says; a raw pointer keeps that cast explicit.
#[repr(C)]
pub struct PyMethodDef {
    pub ml_name: *const c_char,
    pub ml_meth: *const c_void,
    pub ml_flags: c_int,
    pub ml_doc: *const c_char,
}

/// Method tables are immutable after initialisation, so sharing them
/// between threads is sound even though they hold raw pointers.
#[repr(transparent)]
pub struct MethodTable<const N: usize>(pub [PyMethodDef; N]);
unsafe impl<const N: usize> Sync for MethodTable<N> {}

pub const PY_METHOD_DEF_SENTINEL: PyMethodDef = PyMethodDef {
    ml_name: std::ptr::null(),
    ml_meth: std::ptr::null(),
    ml_flags: 0,
    ml_doc: std::ptr::null(),
};

#[repr(C)]
pub struct PyModuleDef {
    pub m_base: PyModuleDefBase,
    pub m_name: *const c_char,
    pub m_doc: *const c_char,
    pub m_size: PySsizeT,
    pub m_methods: *const PyMethodDef,
    pub m_slots: *mut c_void,
    pub m_traverse: *mut c_void,
    pub m_clear: *mut c_void,
    pub m_free: *mut c_void,
}

pub const METH_O: c_int = 0x0008;
pub const METH_FASTCALL: c_int = 0x0080;
pub const PYTHON_API_VERSION: c_int = 1013;

pub type FastCall =
    unsafe extern "C" fn(*mut PyObject, *const *mut PyObject, PySsizeT) -> *mut PyObject;
pub type OneArg = unsafe extern "C" fn(*mut PyObject, *mut PyObject) -> *mut PyObject;

extern "C" {
    pub static mut PyExc_TypeError: *mut PyObject;
    pub static mut PyExc_ValueError: *mut PyObject;

    pub fn PyModule_Create2(def: *mut PyModuleDef, apiver: c_int) -> *mut PyObject;
    pub fn PyUnicode_FromStringAndSize(s: *const c_char, len: PySsizeT) -> *mut PyObject;
    pub fn PyUnicode_AsUTF8AndSize(o: *mut PyObject, len: *mut PySsizeT) -> *const c_char;
    pub fn PyLong_FromLong(v: c_long) -> *mut PyObject;
    pub fn PyLong_AsLong(o: *mut PyObject) -> c_long;
    pub fn PyErr_Occurred() -> *mut PyObject;
    pub fn PyErr_SetString(exc: *mut PyObject, msg: *const c_char);
}

/// Borrows the UTF-8 bytes of a str object (valid while `o` lives), or
/// returns None with a Python exception set.
pub unsafe fn str_bytes<'a>(o: *mut PyObject) -> Option<&'a [u8]> {
    let mut len: PySsizeT = 0;
    let p = PyUnicode_AsUTF8AndSize(o, &mut len);
    if p.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts(p as *const u8, len as usize))
}

/// Builds a str object from UTF-8 bytes; NULL with an exception on failure.
pub unsafe fn new_str(s: &[u8]) -> *mut PyObject {
    PyUnicode_FromStringAndSize(s.as_ptr() as *const c_char, s.len() as PySsizeT)
}

/// Raises TypeError with a NUL-terminated message and returns NULL.
pub unsafe fn type_error(msg: &'static [u8]) -> *mut PyObject {
    PyErr_SetString(PyExc_TypeError, msg.as_ptr() as *const c_char);
    std::ptr::null_mut()
}

/// Raises ValueError with a NUL-terminated message and returns NULL.
pub unsafe fn value_error(msg: &'static [u8]) -> *mut PyObject {
    PyErr_SetString(PyExc_ValueError, msg.as_ptr() as *const c_char);
    std::ptr::null_mut()
}
