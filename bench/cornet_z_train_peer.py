#!/usr/bin/env python3
"""PyTorch peer of `brainlike train`: the same CORnet-Z, data, loss and schedule, trained for
N epochs, so that training curves (not just images/s) can be compared side by side.

Set-up as `brainlike train` with the paper's defaults (Federer et al. 2019): CORnet-Z with the
FC 4096-4096-100 head (dropout 0.5) or --head decoder, Glorot-uniform weights and zero biases,
plain SGD lr 0.01, batch 128, the first --train-limit CIFAR-100 training images centred by
their global mean pixel, test images centred the same way (brainlike's data.center_eval
default). Teacher (r > 0): 50 V1 pairs per step, the unique stimuli of those pairs through the
V1 block in a second forward pass, sum over pairs of (d_model - d_V1)^2 with d = 1 - cos of the
flattened V1 outputs, lambda = r * CE / T (detached), on for the first --teacher-epochs epochs.
--center-stimuli subtracts the training mean from the stimuli too (brainlike's
teacher.center_stimuli = true); without it they enter as pixels in [0, 1] (the paper's reading).

Not bit-identical to brainlike (different RNG streams for initialisation, data order, pairs and
dropout), so compare curves, not digits: write --out CSV with brainlike's metrics.csv columns.

    python3 bench/cornet_z_train_peer.py --data-dir ../shared/data --epochs 5 --ratio 0.1 \
        --train-limit 10000 --test-limit 2000 --out peer-r0.1.csv
"""
import argparse
import csv
import os
import sys
import tarfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cornet_z_peer import CORnetZ, load_stimuli, teacher_term  # noqa: E402


def read_split(data_dir, name):
    folder = os.path.join(data_dir, "cifar-100-binary")
    if os.path.isfile(os.path.join(folder, name)):
        raw = open(os.path.join(folder, name), "rb").read()
    else:
        with tarfile.open(os.path.join(data_dir, "cifar-100-binary.tar.gz")) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(name))
            raw = tar.extractfile(member).read()
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3074)
    return rec[:, 2:].reshape(-1, 3, 32, 32), rec[:, 1].astype(np.int64), rec[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pack-dir", default="assets/v1-teacher")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--ratio", type=float, default=0.1)
    ap.add_argument("--teacher-epochs", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--center-stimuli", action="store_true")
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--test-limit", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--head", default="fc4096", choices=["fc4096", "decoder"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    xtr, ytr, _ = read_split(args.data_dir, "train.bin")
    xte, yte, cte = read_split(args.data_dir, "test.bin")
    if args.train_limit:
        xtr, ytr = xtr[: args.train_limit], ytr[: args.train_limit]
    if args.test_limit:
        xte, yte, cte = xte[: args.test_limit], yte[: args.test_limit], cte[: args.test_limit]
    # brainlike: the exact mean of the bytes / 255, as f32
    mean = np.float32(xtr.astype(np.uint64).sum() / (xtr.size * 255.0))
    xtr = torch.from_numpy(xtr.astype(np.float32) / 255.0 - mean)
    xte = torch.from_numpy(xte.astype(np.float32) / 255.0 - mean)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    fine_to_coarse = np.zeros(100, dtype=np.int64)
    fine_to_coarse[yte.numpy()] = cte
    stim, pairs = load_stimuli(args.pack_dir, 32)
    if args.center_stimuli:
        stim = stim - mean

    model = CORnetZ(head=args.head)
    if args.head == "decoder":
        del model.fc1, model.fc2, model.fc3
    else:
        del model.decoder
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    n = len(ytr)
    rows = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = torch.from_numpy(rng.permutation(n))
        teacher = args.ratio > 0 and epoch <= args.teacher_epochs
        ce_sum, correct, t_sum, l_sum, steps = 0.0, 0, 0.0, 0.0, 0
        for lo in range(0, n, args.batch):
            idx = order[lo:lo + args.batch]
            x, y = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            ce = F.cross_entropy(logits, y)
            loss = ce
            if teacher:
                term = teacher_term(model, stim, pairs, rng, args.pairs, "cpu")
                lam = args.ratio * ce.detach() / term.detach().clamp_min(1e-12)
                loss = ce + lam * term
                t_sum += term.item()
                l_sum += lam.item()
            loss.backward()
            opt.step()
            ce_sum += ce.item()
            correct += (logits.argmax(1) == y).sum().item()
            steps += 1
        train_secs = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            tl, tc, cc, err, within = 0.0, 0, 0, 0, 0
            for lo in range(0, len(yte), 500):
                x, y = xte[lo:lo + 500], yte[lo:lo + 500]
                lg = model(x)
                tl += F.cross_entropy(lg, y, reduction="sum").item()
                p = lg.argmax(1).numpy()
                yy = y.numpy()
                same = fine_to_coarse[p] == cte[lo:lo + 500]
                tc += (p == yy).sum()
                cc += same.sum()
                err += (p != yy).sum()
                within += (same & (p != yy)).sum()
        m = len(yte)
        rows.append({
            "epoch": epoch,
            "train_loss": ce_sum / steps,
            "train_acc": correct / n,
            "test_loss": tl / m,
            "test_acc": tc / m,
            "test_coarse_acc": cc / m,
            "superclass_error_frac": within / err if err else 0.0,
            "teacher_loss": t_sum / steps if teacher else 0.0,
            "lambda": l_sum / steps if teacher else 0.0,
            "seconds": time.perf_counter() - t0,
            "images_per_sec": n / train_secs,
        })
        print(rows[-1], file=sys.stderr, flush=True)
        with open(args.out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
