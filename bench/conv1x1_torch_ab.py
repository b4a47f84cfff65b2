#!/usr/bin/env python3
"""A/B on LibTorch (through PyTorch, the same kernels `brainlike --device tch` runs): a 1x1
stride-1 convolution as `F.conv2d` (oneDNN) against the batched matrix product
`weight[o, c] @ x[b, c, h*w]` that Burn's own backends use (models/layers/conv2d.rs), forward
and backward (`torch.autograd.grad` of input and weight), at every pointwise shape of
ResNet-50 (224 px) and EfficientNet-B1 (240 px) with more than 64 pixels, batch 32.

Prints ms per forward+backward (min of --reps 5 after 1 warm-up, the two paths alternating) per
shape, and the sum over shapes weighted by how often each occurs in the network.
Usage: python3 bench/conv1x1_torch_ab.py [--threads 2] [--batch 32]
"""
import argparse
import time

import torch
import torch.nn.functional as F

# (c_in, c_out, side, occurrences per network)
RESNET50 = [(64, 64, 56, 1), (64, 256, 56, 4), (256, 64, 56, 2), (256, 128, 56, 1),
            (128, 512, 28, 4), (512, 128, 28, 3), (512, 256, 28, 1), (256, 1024, 14, 6),
            (1024, 256, 14, 5), (1024, 512, 14, 1)]
EFFICIENTNET_B1 = [(32, 16, 120, 1), (16, 16, 120, 1), (16, 96, 120, 1), (96, 24, 60, 1),
                   (24, 144, 60, 2), (144, 24, 60, 2), (144, 40, 30, 1), (40, 240, 30, 2),
                   (240, 40, 30, 2), (240, 80, 15, 1), (80, 480, 15, 3), (480, 80, 15, 3),
                   (480, 112, 15, 1), (112, 672, 15, 3), (672, 112, 15, 3)]


def conv(x, w):
    return F.conv2d(x, w)


def matmul(x, w):
    b, c, h, wd = x.shape
    o = w.shape[0]
    return w.reshape(o, c).matmul(x.reshape(b, c, h * wd)).reshape(b, o, h, wd)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}; ms per forward+backward")
    for name, shapes in [("resnet50", RESNET50), ("efficientnet_b1", EFFICIENTNET_B1)]:
        total = {"conv": 0.0, "matmul": 0.0}
        print(f"{name}\n{'c_in->c_out @ side (xN)':<26}{'conv2d':>10}{'matmul':>10}")
        for c_in, c_out, side, n in shapes:
            x = torch.randn(args.batch, c_in, side, side, requires_grad=True)
            w = torch.randn(c_out, c_in, 1, 1, requires_grad=True)
            g = torch.randn(args.batch, c_out, side, side)
            ms = {"conv": [], "matmul": []}
            for rep in range(args.reps + 1):
                for key, f in [("conv", conv), ("matmul", matmul)]:
                    t = time.perf_counter()
                    torch.autograd.grad(f(x, w), [x, w], g)
                    if rep > 0:
                        ms[key].append(1000 * (time.perf_counter() - t))
            mean = {k: min(v) for k, v in ms.items()}
            for k in total:
                total[k] += n * mean[k]
            print(f"{f'{c_in}->{c_out} @ {side} (x{n})':<26}{mean['conv']:>10.1f}{mean['matmul']:>10.1f}")
        print(f"{'per step, weighted':<26}{total['conv']:>10.0f}{total['matmul']:>10.0f}"
              f"   matmul/conv {total['matmul'] / total['conv']:.2f}x\n")


if __name__ == "__main__":
    main()
