#!/usr/bin/env python3
"""PyTorch peer of `brainlike bench`: the same CORnet-Z, step and data, timed the same way.

Model: CORnet-Z (V1 7x7/2 64, V2 3x3 128, V4 3x3 256, IT 3x3 512; conv -> ReLU -> maxpool
3x3/2 pad 1), FC 4096-4096-100 head with dropout 0.5 (or --head decoder: avg-pool + linear), Glorot-uniform weights, zero biases.
Step: SGD lr 0.01, batch 128, cross-entropy; with the teacher, 50 V1 pairs per step: the
unique stimuli of those pairs go through the V1 block (a second forward pass, as the paper
describes), the cosine distances of the flattened V1 outputs are compared with the teacher's,
sum of squared differences, lambda = r * CE / T (detached), r = 0.1.
Inference: batch 512, no grad.

Data: the first images of CIFAR-100's training set (from --data-dir, official binary layout)
and the 956 teacher stimuli resized to 32x32, as brainlike uses them; random tensors of the
same shapes if --data-dir is not given (the speed does not depend on pixel values).

Prints one JSON object: images/s for train, train_teacher, inference, and the set-up.
"""
import argparse
import json
import os
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c_in, c_out, k, s):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        return self.pool(F.relu(self.conv(x)))


class CORnetZ(nn.Module):
    def __init__(self, classes=100, side=1, dropout=0.5, head="fc4096"):
        super().__init__()
        self.head = head
        self.v1 = Block(3, 64, 7, 2)
        self.v2 = Block(64, 128, 3, 1)
        self.v4 = Block(128, 256, 3, 1)
        self.it = Block(256, 512, 3, 1)
        self.decoder = nn.Linear(512, classes)
        self.fc1 = nn.Linear(512 * side * side, 4096)
        self.fc2 = nn.Linear(4096, 4096)
        self.fc3 = nn.Linear(4096, classes)
        self.drop = nn.Dropout(dropout)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.it(self.v4(self.v2(self.v1(x))))
        if self.head == "decoder":
            return self.decoder(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
        x = torch.flatten(x, 1)
        x = self.drop(F.relu(self.fc1(x)))
        x = self.drop(F.relu(self.fc2(x)))
        return self.fc3(x)


def load_cifar(data_dir, n):
    folder = os.path.join(data_dir, "cifar-100-binary")
    if os.path.isfile(os.path.join(folder, "train.bin")):
        raw = open(os.path.join(folder, "train.bin"), "rb").read(n * 3074)
    else:
        with tarfile.open(os.path.join(data_dir, "cifar-100-binary.tar.gz")) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("train.bin"))
            raw = tar.extractfile(member).read(n * 3074)
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(n, 3074)
    x = rec[:, 2:].reshape(n, 3, 32, 32).astype(np.float32) / 255.0
    x -= x.mean()
    return torch.from_numpy(x), torch.from_numpy(rec[:, 1].astype(np.int64))


def load_stimuli(pack_dir, size):
    from PIL import Image

    names = sorted(os.listdir(os.path.join(pack_dir, "stimuli")))
    arr = []
    for name in names:
        im = Image.open(os.path.join(pack_dir, "stimuli", name)).convert("L")
        im = im.resize((size, size), Image.BILINEAR)
        a = np.asarray(im, dtype=np.float32) / 255.0
        arr.append(np.stack([a, a, a]))
    pairs = np.loadtxt(os.path.join(pack_dir, "pairs", "v1.tsv"), skiprows=1)
    return torch.from_numpy(np.stack(arr)), pairs


def teacher_term(model, stim, pairs, rng, n_pairs, dev):
    """Sum over `n_pairs` sampled V1 pairs of (d_model - d_V1)^2, d = 1 - cos of the flattened
    V1-block outputs; the unique stimuli of the pairs go through V1 in one pass."""
    chosen = pairs[rng.choice(len(pairs), n_pairs, replace=False)]
    uniq, inv = np.unique(chosen[:, :2].astype(np.int64), return_inverse=True)
    inv = torch.from_numpy(inv.reshape(-1, 2)).to(dev)
    acts = model.v1(stim[torch.from_numpy(uniq).to(dev)]).flatten(1)
    unit = acts / acts.norm(dim=1, keepdim=True).clamp_min(1e-12)
    d = 1 - (unit[inv[:, 0]] * unit[inv[:, 1]]).sum(1)
    target = torch.from_numpy(chosen[:, 2].astype(np.float32)).to(dev)
    return ((d - target) ** 2).sum()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--pack-dir", default="assets/v1-teacher")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--ratio", type=float, default=0.1)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--infer-batch", type=int, default=512)
    ap.add_argument("--head", default="fc4096", choices=["fc4096", "decoder"])
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    n = args.batch * 4
    if args.data_dir:
        xs, ys = load_cifar(args.data_dir, max(n, args.infer_batch))
        data = "cifar100"
    else:
        xs = torch.rand(max(n, args.infer_batch), 3, 32, 32) - 0.5
        ys = torch.randint(0, 100, (max(n, args.infer_batch),))
        data = "random"
    stim, pairs = load_stimuli(args.pack_dir, 32)
    xs, ys, stim = xs.to(dev), ys.to(dev), stim.to(dev)

    model = CORnetZ(head=args.head).to(dev)
    if args.head == "decoder":
        del model.fc1, model.fc2, model.fc3
    else:
        del model.decoder
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step(i, teacher):
        lo = (i * args.batch) % n
        x, y = xs[lo:lo + args.batch], ys[lo:lo + args.batch]
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        ce = F.cross_entropy(logits, y)
        loss = ce
        if teacher:
            term = teacher_term(model, stim, pairs, rng, args.pairs, dev)
            lam = args.ratio * ce.detach() / term.detach().clamp_min(1e-12)
            loss = ce + lam * term
        loss.backward()
        opt.step()

    def time_train(teacher):
        model.train()
        for i in range(args.warmup):
            step(i, teacher)
        sync()
        t = time.perf_counter()
        for i in range(args.steps):
            step(i, teacher)
        sync()
        return args.steps * args.batch / (time.perf_counter() - t)

    def time_infer():
        model.eval()
        x = xs[: args.infer_batch]
        with torch.no_grad():
            for _ in range(args.warmup):
                model(x)
            sync()
            t = time.perf_counter()
            for _ in range(args.steps):
                model(x)
            sync()
        return args.steps * args.infer_batch / (time.perf_counter() - t)

    out = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "data": data,
        "batch": args.batch,
        "head": args.head,
        "steps": args.steps,
        "train": time_train(False),
        "train_teacher": time_train(True),
        "inference": time_infer(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
