//! With the `tch` feature, bakes libtorch's library folder (where torch-sys found it) into the
//! binary's run path, so that `brainlike` finds `libtorch*.so` without `LD_LIBRARY_PATH`, and
//! keeps `libtorch_cuda.so` linked (`../brainlike-core/build-support/libtorch.rs`). Does
//! nothing for the default build.

include!("../brainlike-core/build-support/libtorch.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../brainlike-core/build-support/libtorch.rs");
    if let Some(lib) = libtorch_lib_dir() {
        libtorch_run_path(&lib);
    }
}
