"""Peer benchmark for crates/brainlike-augment/examples/bench_augment.rs: the same CIFAR-100
test images (first N records of test.bin, upscaled bilinearly to 224 px for the large size),
the same ops with the same parameters in albumentations 2.0.8 (p = 1 for every op), and
torchvision.transforms.v2 for the ops it has. Images/s on one process per op, and for the
whole pipeline over a pool of 1 and 2 worker processes (OpenCV and torch limited to one
thread each, so a worker is a core).

    python bench/augment_peer.py [/work/shared/data/cifar-100-binary.tar.gz] [threads=1,2] [n32=2000] [n224=64]

albumentations runs on uint8 HWC images (its usual input) and on float32 HWC in [0, 1]
(what the Rust crate works on; the u8 -> f32 conversion is inside the timed loop for both).
"""
import multiprocessing as mp
import sys
import tarfile
import time

import albumentations as A
import cv2
import numpy as np
import torch
from torchvision.transforms import v2 as T

cv2.setNumThreads(1)
torch.set_num_threads(1)
MIN_SECS = 1.5


def read_cifar(archive, n):
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar:
            if m.name.endswith("/test.bin"):
                raw = tar.extractfile(m).read(3074 * n)
                break
    recs = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3074)
    return recs[:, 2:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # N x 32 x 32 x 3


def albu_ops(side):
    return [
        ("horizontal_flip", A.HorizontalFlip(p=1)),
        ("shift_scale_rotate", A.ShiftScaleRotate(p=1)),
        ("elastic", A.ElasticTransform(p=1)),
        ("brightness_contrast", A.RandomBrightnessContrast(p=1)),
        ("motion_blur", A.MotionBlur(p=1)),
        ("coarse_dropout", A.CoarseDropout(p=1)),
        ("gauss_noise", A.GaussNoise(std_range=(0.012, 0.028), p=1)),
        ("iso_noise", A.ISONoise(p=1)),
    ], ("random_resized_crop", A.RandomResizedCrop(size=(side, side), p=1))


def tv_ops(side):
    # torchvision's parameterisations differ (ColorJitter, ElasticTransform, RandomErasing);
    # strengths chosen to be of the same order. No motion blur or ISO noise in torchvision.
    return [
        ("horizontal_flip", T.RandomHorizontalFlip(p=1)),
        ("shift_scale_rotate", T.RandomAffine(degrees=45, translate=(0.0625, 0.0625), scale=(0.9, 1.1))),
        ("elastic", T.ElasticTransform()),  # its defaults alpha=50, sigma=5 (sigma=50 does not fit 32 px)
        ("brightness_contrast", T.ColorJitter(brightness=0.2, contrast=0.2)),
        ("coarse_dropout", T.RandomErasing(p=1, scale=(0.01, 0.04), ratio=(0.5, 2.0), value=0)),
        ("gauss_noise", T.GaussianNoise(sigma=0.02)),
    ], ("random_resized_crop", T.RandomResizedCrop(size=(side, side)))


def make_fn(lib, kind, ops):
    """A function image(u8 HWC) -> output, for library `lib` and input `kind`."""
    if lib == "albumentations":
        comp = A.Compose(ops, seed=0)
        if kind == "uint8":
            return lambda im: comp(image=im)["image"]
        return lambda im: comp(image=im.astype(np.float32) * (1.0 / 255.0))["image"]
    comp = T.Compose(ops)
    return lambda im: comp(torch.from_numpy(im).permute(2, 0, 1).to(torch.float32).div_(255.0))


def rate_inline(fn, images):
    fn(images[0])
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < MIN_SECS or done == 0:
        for im in images:
            fn(im)
        done += len(images)
    return done / (time.perf_counter() - start)


_WORKER = {}


def _init(lib, kind, side, images):
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    ops, _ = albu_ops(side) if lib == "albumentations" else tv_ops(side)
    _WORKER["fn"] = make_fn(lib, kind, [op for _, op in ops])
    _WORKER["images"] = images


def _work(idx):
    fn, images = _WORKER["fn"], _WORKER["images"]
    for i in idx:
        fn(images[i])
    return len(idx)


def rate_pool(lib, kind, side, images, threads):
    with mp.get_context("fork").Pool(threads, initializer=_init, initargs=(lib, kind, side, images)) as pool:
        chunks = [list(range(i, len(images), threads * 4)) for i in range(threads * 4)]
        pool.map(_work, chunks)  # warm-up
        start, done = time.perf_counter(), 0
        while time.perf_counter() - start < MIN_SECS or done == 0:
            done += sum(pool.map(_work, chunks))
        return done / (time.perf_counter() - start)


def main():
    archive = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/cifar-100-binary.tar.gz"
    threads = [int(t) for t in (sys.argv[2] if len(sys.argv) > 2 else "1,2").split(",")]
    n32 = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    n224 = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    imgs = read_cifar(archive, max(n32, n224))
    sizes = {32: imgs[:n32], 224: np.stack([cv2.resize(im, (224, 224), interpolation=cv2.INTER_LINEAR) for im in imgs[:n224]])}
    print(f"peer bench: albumentations {A.__version__}, torchvision (torch {torch.__version__}), "
          f"{len(sizes[32])} images at 32 px, {len(sizes[224])} at 224 px")
    print(f"{'size':<5} {'library':<22} {'op':<26} {'threads':>7} {'images/s':>10} {'images/s/core':>14}")
    for side, images in sizes.items():
        for lib, kinds in [("albumentations", ["uint8", "float32"]), ("torchvision", ["float32"])]:
            ops, rrc = albu_ops(side) if lib == "albumentations" else tv_ops(side)
            for kind in kinds:
                label = f"{lib}/{kind}" if lib == "albumentations" else lib
                for name, op in ops + [rrc]:
                    r = rate_inline(make_fn(lib, kind, [op]), images)
                    print(f"{side:<5} {label:<22} {name:<26} {1:>7} {r:>10.0f} {r:>14.0f}", flush=True)
                for t in threads:
                    r = rate_pool(lib, kind, side, images, t)
                    name = f"pipeline: all {len(ops)} ops, p=1"
                    print(f"{side:<5} {label:<22} {name:<26} {t:>7} {r:>10.0f} {r / t:>14.0f}", flush=True)


if __name__ == "__main__":
    main()
