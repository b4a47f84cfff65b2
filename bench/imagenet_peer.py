#!/usr/bin/env python3
"""PyTorch peer of `brainlike bench --model resnet50|efficientnet_b1`: the same model, step and
input shapes, timed the same way.

Models: torchvision `resnet50(weights=None)` and timm `create_model('efficientnet_b1')`
(no pretrained weights), 1000 classes.
Step: SGD lr 0.01 (no momentum, no weight decay: the brainlike trainer's defaults),
cross-entropy, train mode (BatchNorm batch statistics), on random tensors
`[batch, 3, size, size]` uniform in -1..1 and labels `i % 1000`.
Inference: eval mode, no grad, `--infer-batch` images.
Timing: `--warmup` steps, then `--steps` timed steps, ending with a sync (CUDA) / a host read
of the last loss; images/s = steps * batch / seconds.

Prints one JSON object: images/s for train and inference, and the set-up.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def build(name):
    if name == "resnet50":
        import torchvision

        return torchvision.models.resnet50(weights=None), "torchvision " + torchvision.__version__
    if name == "efficientnet_b1":
        import timm

        return timm.create_model("efficientnet_b1", pretrained=False), "timm " + timm.__version__
    raise SystemExit(f"unknown model {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet50", choices=["resnet50", "efficientnet_b1"])
    ap.add_argument("--size", type=int, default=0, help="input side (0: 224 resnet50, 240 efficientnet_b1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--infer-batch", type=int, default=0, help="0: the training batch")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    size = args.size or (224 if args.model == "resnet50" else 240)
    infer_batch = args.infer_batch or args.batch
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    torch.manual_seed(0)

    model, lib = build(args.model)
    model = model.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = (torch.rand(args.batch, 3, size, size) * 2 - 1).to(dev)
    y = (torch.arange(args.batch) % 1000).to(dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    model.train()
    for _ in range(args.warmup):
        step()
    sync()
    t = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    loss.item()
    sync()
    train = args.steps * args.batch / (time.perf_counter() - t)

    model.eval()
    xi = (torch.rand(infer_batch, 3, size, size) * 2 - 1).to(dev)
    with torch.no_grad():
        for _ in range(args.warmup):
            model(xi)
        sync()
        t = time.perf_counter()
        for _ in range(args.steps):
            out = model(xi)
        out.sum().item()
        sync()
    inference = args.steps * infer_batch / (time.perf_counter() - t)

    print(json.dumps({
        "peer": "pytorch",
        "torch": torch.__version__,
        "library": lib,
        "model": args.model,
        "size": size,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "data": "random",
        "batch": args.batch,
        "infer_batch": infer_batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "train": train,
        "train_teacher": None,
        "inference": inference,
    }))


if __name__ == "__main__":
    main()
