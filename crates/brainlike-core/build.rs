//! With the `tch` feature, compiles `csrc/backward.cpp` (LibTorch's autograd engine with given
//! output gradients, see `src/models/layers/libtorch.rs`) against the libtorch that torch-sys
//! found (`DEP_TCH_LIBTORCH_LIB`, torch-sys being `links = "tch"`), with its C++ ABI flag,
//! and bakes that folder into the run path of this crate's tests and examples (so `cargo test
//! --features tch` finds `libtorch*.so` without `LD_LIBRARY_PATH`), as the CLI's build.rs does
//! for `brainlike` (`build-support/libtorch.rs`). Does nothing for the default build.

use std::env;
use std::process::Command;

include!("build-support/libtorch.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/backward.cpp");
    println!("cargo:rerun-if-changed=build-support/libtorch.rs");
    for var in [
        "LIBTORCH_CXX11_ABI",
        "LIBTORCH_USE_PYTORCH",
        "PYTHON_SYS_EXECUTABLE",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let Some(lib) = libtorch_lib_dir() else {
        return;
    };
    let root = lib.parent().expect("libtorch's lib folder has a parent");
    let include = root.join("include");
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={}", cxx11_abi()))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file("csrc/backward.cpp");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        build.flag("/std:c++17");
    } else {
        build.flag("-std=c++17");
    }
    build.compile("brainlike_torch");
    libtorch_run_path(&lib);
}

/// As torch-sys decides it: PyTorch's own flag when building against the `torch` package of
/// Python, else `LIBTORCH_CXX11_ABI` (default 1).
fn cxx11_abi() -> String {
    if env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        let python = env::var("PYTHON_SYS_EXECUTABLE").unwrap_or_else(|_| "python3".into());
        if let Ok(out) = Command::new(python)
            .args([
                "-c",
                "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))",
            ])
            .output()
            && out.status.success()
        {
            return String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
    }
    env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into())
}
