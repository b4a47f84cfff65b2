//! With the `tch` feature, bakes libtorch's library folder into the binary's run path, so that
//! `brainlike` finds `libtorch*.so` without `LD_LIBRARY_PATH`, and keeps `libtorch_cuda.so`
//! linked (the linker's `--as-needed` would drop it: nothing names its symbols, but it
//! registers LibTorch's CUDA backend when loaded). Does nothing for the default build.
//!
//! The folder is found as torch-sys finds it: with `LIBTORCH_USE_PYTORCH` set (or neither
//! `LIBTORCH_LIB` nor `LIBTORCH`), the `lib` folder of the `torch` package of `python3`
//! (`PYTHON_SYS_EXECUTABLE` overrides the interpreter); otherwise `$LIBTORCH_LIB/lib` or
//! `$LIBTORCH/lib`.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "CARGO_FEATURE_TCH",
        "LIBTORCH",
        "LIBTORCH_LIB",
        "LIBTORCH_USE_PYTORCH",
        "PYTHON_SYS_EXECUTABLE",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    let Some(lib) = torch_lib_dir() else {
        println!(
            "cargo:warning=brainlike: libtorch's folder not found (set LIBTORCH or install torch for python3); \
             run with LD_LIBRARY_PATH=<libtorch>/lib"
        );
        return;
    };
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        return; // DLLs are found through PATH.
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    let cuda = lib.join("libtorch_cuda.so");
    if cuda.exists() {
        println!(
            "cargo:rustc-link-arg=-Wl,--no-as-needed,{},--as-needed",
            cuda.display()
        );
    }
}

fn torch_lib_dir() -> Option<PathBuf> {
    // The same choice as torch-sys: PyTorch's copy, else LIBTORCH_LIB or LIBTORCH.
    if env::var_os("LIBTORCH_USE_PYTORCH").is_none()
        && let Some(dir) = env::var_os("LIBTORCH_LIB").or_else(|| env::var_os("LIBTORCH"))
    {
        return Some(PathBuf::from(dir).join("lib"));
    }
    let python = env::var("PYTHON_SYS_EXECUTABLE").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .args([
            "-c",
            "import os, torch; print(os.path.dirname(torch.__file__))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()).join("lib");
    dir.is_dir().then_some(dir)
}
