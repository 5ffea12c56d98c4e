//! Builds `libspokehelper.so.1` (soname `libspokehelper.so.1`) into OUT_DIR
//! with the system C compiler and links the module against it, as a -sys
//! crate would: the module then has DT_NEEDED libspokehelper.so.1 and cargo
//! reports OUT_DIR in its linked paths.  No external crates.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let src = PathBuf::from("csrc/spokehelper.c");
    let real = out.join("libspokehelper.so.1");
    let link = out.join("libspokehelper.so");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());

    println!("cargo:rerun-if-changed=csrc/spokehelper.c");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");

    // -g3: with debug info, so `--split-debug` has DWARF to move out of the
    // bundled copy; the macro tables make it large enough for zstd to pay
    // off (tests/integration/t_splitdebug.sh checks compressed sections).
    let status = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O2", "-g3", "-Wl,-soname,libspokehelper.so.1", "-o"])
        .arg(&real)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {}", cc, e));
    assert!(status.success(), "{} failed to build {}", cc, src.display());

    // The linker looks for libspokehelper.so; the loader for the soname.
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("libspokehelper.so.1", &link).expect("symlink");

    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=dylib=spokehelper");
}
