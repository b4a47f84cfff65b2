//! A/B timing of the 1x1 stride-1 convolutions of ResNet-50 at 224 px, batch 32: Burn's
//! `Conv2d::forward` (the old path) against `layers::conv2d::pointwise` (one batched matrix
//! product), forward and backward, the two paths alternating in the same period so that
//! machine load hits both alike.
//!
//! `cargo run --release -j 1 -p brainlike-core --example conv1x1_ab [-- BATCH]`

use brainlike_core::bench::profile::time_forward_backward;
use brainlike_core::models::layers::conv2d::{conv2d, pointwise};
use burn::tensor::Device;

fn main() {
    let batch: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(32);
    let device = Device::flex().autodiff();
    // (c_in, c_out, side, calls per ResNet-50 step)
    let shapes = [
        (64, 64, 56, 1),
        (256, 64, 56, 2),
        (64, 256, 56, 4),
        (512, 128, 28, 3),
        (128, 512, 28, 4),
        (1024, 256, 14, 5),
        (256, 1024, 14, 6),
        (2048, 512, 7, 2),
        (512, 2048, 7, 3),
        (256, 128, 56, 1),
        (512, 256, 28, 1),
        (1024, 512, 14, 1),
    ];
    println!("batch {batch}; seconds per call, min of 2 after 1 warm-up");
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9}",
        "c_in->c_out @ side", "burn fwd", "burn bwd", "mm fwd", "mm bwd"
    );
    let (mut tot_burn, mut tot_mm) = (0.0, 0.0);
    for (c_in, c_out, side, calls) in shapes {
        let conv = conv2d(c_in, c_out, 1, 1, 1, false, &device);
        let mut best = [f64::INFINITY; 4];
        for rep in 0..3 {
            for (k, mm) in [false, true].into_iter().enumerate() {
                let (f, b) = time_forward_backward([batch, c_in, side, side], &device, |x| {
                    if mm {
                        pointwise(&conv, x)
                    } else {
                        conv.forward(x)
                    }
                });
                if rep > 0 {
                    best[2 * k] = best[2 * k].min(f);
                    best[2 * k + 1] = best[2 * k + 1].min(b);
                }
            }
        }
        tot_burn += calls as f64 * (best[0] + best[1]);
        tot_mm += calls as f64 * (best[2] + best[3]);
        println!(
            "{:<22} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
            format!("{c_in}->{c_out} @ {side} (x{calls})"),
            best[0],
            best[1],
            best[2],
            best[3]
        );
    }
    println!(
        "per ResNet-50 step (all 1x1 stride-1 layers): burn {tot_burn:.2} s, matmul {tot_mm:.2} s, {:.2}x",
        tot_burn / tot_mm
    );
}
