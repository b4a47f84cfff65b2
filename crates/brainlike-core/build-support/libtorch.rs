// Shared by the build scripts of brainlike-core and brainlike-cli (`include!`d; not a crate).

/// libtorch's library folder as torch-sys found it (torch-sys is `links = "tch"`, so a package
/// that depends on it directly reads `DEP_TCH_LIBTORCH_LIB`); `None` without the `tch` feature.
fn libtorch_lib_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("CARGO_FEATURE_TCH")?;
    let dir = std::env::var_os("DEP_TCH_LIBTORCH_LIB")
        .expect("torch-sys did not report libtorch's folder (DEP_TCH_LIBTORCH_LIB)");
    Some(dir.into())
}

/// Bakes `lib` into the run path of this package's binaries, tests and examples (no
/// `LD_LIBRARY_PATH` needed while the folder stays where it was at build time), and keeps
/// `libtorch_cuda.so` linked: nothing names its symbols, but loading it registers LibTorch's
/// CUDA backend, and the linker's `--as-needed` would drop it. Windows finds DLLs through PATH.
fn libtorch_run_path(lib: &std::path::Path) {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        return;
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
