//! Run-time backend choice: `flex` (pure Rust, Burn's default), `tch` (LibTorch CPU) and
//! `tch-cuda` (LibTorch CUDA), whichever are compiled in (cargo features `flex`, `tch`).

use burn::tensor::Device;

use crate::error::{Error, Result};

/// The backends compiled into this binary, fastest first.
pub fn compiled() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(feature = "tch")]
    {
        if cuda_available() {
            v.push("tch-cuda");
        }
        v.push("tch");
    }
    #[cfg(feature = "flex")]
    v.push("flex");
    v
}

#[cfg(feature = "tch")]
fn cuda_available() -> bool {
    // libtorch reports CUDA through tch; probe without panicking.
    std::panic::catch_unwind(|| {
        #[allow(deprecated)]
        let d = Device::libtorch_cuda(0);
        let t = burn::tensor::Tensor::<1>::zeros([1], &d);
        t.into_data();
    })
    .is_ok()
}

/// Resolves a device name (`auto` = the fastest compiled in and present).
pub fn resolve(name: &str) -> Result<(String, Device)> {
    let available = compiled();
    let name = if name == "auto" {
        available
            .first()
            .copied()
            .ok_or_else(|| Error::Other("no backend compiled in (features flex, tch)".into()))?
    } else {
        name
    };
    let device = match name {
        #[cfg(feature = "flex")]
        "flex" => Device::flex(),
        #[cfg(feature = "tch")]
        #[allow(deprecated)]
        "tch" => Device::libtorch(),
        #[cfg(feature = "tch")]
        #[allow(deprecated)]
        "tch-cuda" => Device::libtorch_cuda(0),
        other => {
            return Err(Error::Config {
                origin: "device".into(),
                msg: format!(
                    "{other:?} is not available in this build; compiled in: {} (build with --features tch for LibTorch)",
                    available.join(", ")
                ),
            });
        }
    };
    Ok((name.to_string(), device))
}

/// Sets the CPU thread count for the backends (0 = leave the default: all cores).
pub fn set_threads(threads: usize) {
    if threads == 0 {
        return;
    }
    // flex runs on rayon's global pool; it can be built once per process.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    #[cfg(feature = "tch")]
    tch_threads(threads);
}

#[cfg(feature = "tch")]
fn tch_threads(threads: usize) {
    // burn-tch reads OMP settings from libtorch; set the env before the first op.
    // SAFETY: called at start-up before other threads read the environment.
    unsafe {
        std::env::set_var("OMP_NUM_THREADS", threads.to_string());
    }
}
