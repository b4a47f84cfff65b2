"""Peer of `brainlike data bench-folder`: torchvision's ImageFolder + DataLoader decoding the
same folder the same way (decode, Resize(size) on the shorter side, CenterCrop(size),
ToTensor), num_workers = N, images/s of one pass.

    python bench/image_folder_peer.py --make DIR [--count 2000]   # JPEG folder from CIFAR-100
    python bench/image_folder_peer.py DIR --size 224 --batch 64 --workers 1,2

`--make` writes CIFAR-100 test images upscaled to 256x256 (bicubic) as JPEG (quality 90)
into DIR/<class>/, so both sides decode real JPEGs of ImageNet-like size.
"""
import argparse
import io
import os
import sys
import tarfile
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--make", action="store_true")
p.add_argument("--count", type=int, default=2000)
p.add_argument("--cifar", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                               "data", "cifar-100-binary.tar.gz"))
p.add_argument("--size", type=int, default=224)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--workers", default="1,2")
a = p.parse_args()

if a.make:
    from PIL import Image
    with tarfile.open(a.cifar) as t:
        raw = t.extractfile("cifar-100-binary/test.bin").read()
    rec = np.frombuffer(raw, np.uint8).reshape(-1, 3074)[: a.count]
    for k, r in enumerate(rec):
        label = int(r[1])
        img = r[2:].reshape(3, 32, 32).transpose(1, 2, 0)
        d = os.path.join(a.dir, f"c{label:03d}")
        os.makedirs(d, exist_ok=True)
        Image.fromarray(img).resize((256, 256), Image.BICUBIC).save(
            os.path.join(d, f"{k:05d}.jpg"), quality=90)
    print(f"wrote {len(rec)} JPEGs to {a.dir}")
    sys.exit(0)

import torch
from torchvision import datasets, transforms

tf = transforms.Compose([transforms.Resize(a.size), transforms.CenterCrop(a.size),
                         transforms.ToTensor()])
ds = datasets.ImageFolder(a.dir, transform=tf)
print(f"{a.dir}: {len(ds)} images, {len(ds.classes)} classes, {a.size} px, batches of {a.batch}")
for w in [int(x) for x in a.workers.split(",")]:
    torch.set_num_threads(1)
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, num_workers=w, shuffle=False)
    t0 = time.perf_counter()
    n = 0
    for x, _ in dl:
        n += x.shape[0]
    secs = time.perf_counter() - t0
    print(f"workers {w}: {n / secs:.1f} images/s ({secs:.1f} s)")
