//! Run-time backend choice: `flex` (pure Rust, Burn's default), `tch` (LibTorch CPU) and
//! `tch-cuda` (LibTorch CUDA), whichever are compiled in (cargo features `flex`, `tch`).

use burn::tensor::Device;

use crate::error::{Error, Result};

/// The backends usable in this binary, fastest first: `tch-cuda` only where libtorch sees a
/// CUDA device, then `tch`, then `flex` (each only when its feature is compiled in).
pub fn compiled() -> Vec<&'static str> {
    /// A backend name and whether this machine can run it.
    type Candidate = (&'static str, fn() -> bool);
    let candidates: &[Candidate] = &[
        #[cfg(feature = "tch")]
        ("tch-cuda", cuda_available),
        #[cfg(feature = "tch")]
        ("tch", || true),
        #[cfg(feature = "flex")]
        ("flex", || true),
    ];
    candidates
        .iter()
        .filter(|(_, usable)| usable())
        .map(|(name, _)| *name)
        .collect()
}

/// Number of CUDA devices libtorch sees (0 on a CPU-only machine, with a CPU-only libtorch, or
/// where the CUDA driver is missing). Probed once per process, without panicking or printing.
#[cfg(feature = "tch")]
pub fn cuda_device_count() -> usize {
    static COUNT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *COUNT.get_or_init(|| {
        // `Device::enumerate(LibTorch)` lists one device per `tch::Cuda::device_count()`;
        // tch panics if libtorch reports an error, so probe with a silent panic hook.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let n = std::panic::catch_unwind(|| {
            Device::enumerate(burn::tensor::DeviceType::LibTorch)
                .into_vec()
                .len()
        })
        .unwrap_or(0);
        std::panic::set_hook(hook);
        n
    })
}

#[cfg(feature = "tch")]
fn cuda_available() -> bool {
    cuda_device_count() > 0
}

/// LibTorch CPU device (the constructor is deprecated with burn-tch in Burn 0.22).
#[cfg(feature = "tch")]
#[allow(deprecated)]
fn libtorch_cpu() -> Device {
    Device::libtorch()
}

/// LibTorch CUDA device `index`.
#[cfg(feature = "tch")]
#[allow(deprecated)]
fn libtorch_cuda(index: usize) -> Device {
    Device::libtorch_cuda(index)
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
        "tch" => libtorch_cpu(),
        #[cfg(feature = "tch")]
        "tch-cuda" if cuda_available() => libtorch_cuda(0),
        #[cfg(feature = "tch")]
        "tch-cuda" => {
            return Err(Error::Config {
                origin: "device".into(),
                msg: "\"tch-cuda\": libtorch sees no CUDA device (CPU-only libtorch, no GPU or no \
                      driver); available: "
                    .to_string()
                    + &available.join(", "),
            });
        }
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

// The C API of torch-sys (linked into every `tch` build through burn-tch → tch → torch-sys);
// `tch::set_num_threads` wraps the same calls, but burn-tch does not re-export `tch`.
#[cfg(feature = "tch")]
unsafe extern "C" {
    fn at_set_num_threads(n_threads: std::ffi::c_int);
    fn at_get_num_threads() -> std::ffi::c_int;
}

#[cfg(feature = "tch")]
fn tch_threads(threads: usize) {
    // For libraries that read them when first used, and for child processes.
    // SAFETY: called at start-up before other threads read the environment.
    unsafe {
        std::env::set_var("OMP_NUM_THREADS", threads.to_string());
        std::env::set_var("MKL_NUM_THREADS", threads.to_string());
    }
    set_tch_threads(threads);
}

/// Sets LibTorch's intra-op thread count (`at::set_num_threads`: its OpenMP and MKL pools);
/// effective even after LibTorch has run operations. `threads` must be at least 1.
#[cfg(feature = "tch")]
pub fn set_tch_threads(threads: usize) {
    let n = std::ffi::c_int::try_from(threads.max(1)).unwrap_or(std::ffi::c_int::MAX);
    // SAFETY: plain C call with an int; it catches C++ exceptions itself.
    unsafe { at_set_num_threads(n) };
}

/// LibTorch's intra-op thread count now (`at::get_num_threads`).
#[cfg(feature = "tch")]
pub fn tch_threads_now() -> usize {
    // SAFETY: plain C call; it catches C++ exceptions itself.
    let n = unsafe { at_get_num_threads() };
    usize::try_from(n).unwrap_or(0)
}
