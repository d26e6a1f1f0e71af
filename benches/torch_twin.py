#!/usr/bin/env python3
"""PyTorch twin of `nas-navigator bench`: the identical chain supernet and the same work.

Config `chain-s4-w16-1x28x28-b64`: 4 stages, each a choice of {conv 3x3, conv 5x5,
sep conv 3x3} (conv -> BN -> ReLU) then {max, avg} pooling (2x2 stride 2 in the first two
stages, 3x3 stride 1 "same" after), channels 16 -> 32 -> 64 -> 64, global average pool and a
linear head over 10 classes. Training: batch 64, single-path uniform sampling, SGD (momentum
0.9, Nesterov, weight decay 5e-4), cosine learning rate, 3 warm-up steps then N timed steps.
Scoring: 64 candidates (one group of ours), each re-calibrating batch norm on 2 batches of 64 (cumulative
average, momentum=None) and evaluating 2 batches of 256, one by one (PyTorch eager has no
shared-prefix scoring; the one-by-one fields repeat the figure for a like-for-like ratio).

Prints, last, one JSON object with the same fields as `nas-navigator bench --json`.
"""
import argparse
import json
import math
import random
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_block(cin, cout, k):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def sep_block(cin, cout, k):
    return nn.Sequential(
        nn.Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=True),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(),
    )


class ChainSupernet(nn.Module):
    def __init__(self, stages=4, width=16, in_ch=1, size=28, classes=10):
        super().__init__()
        halvings = 0
        while size >> (halvings + 1) >= 4:
            halvings += 1
        self.convs = nn.ModuleList()
        self.pools = []
        cin, ch = in_ch, width
        for s in range(stages):
            self.convs.append(nn.ModuleList([conv_block(cin, ch, 3), conv_block(cin, ch, 5), sep_block(cin, ch, 3)]))
            if s < halvings:
                self.pools.append([nn.MaxPool2d(2, 2), nn.AvgPool2d(2, 2)])
            else:
                self.pools.append([nn.MaxPool2d(3, 1, padding=1), nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)])
            cin = ch
            if s < halvings:
                ch *= 2
        self.head = nn.Linear(cin, classes)

    def sample(self, rng):
        return [(rng.randrange(3), rng.randrange(2)) for _ in self.convs]

    def forward(self, x, cand):
        for (c, p), convs, pools in zip(cand, self.convs, self.pools):
            x = pools[p](convs[c](x))
        return self.head(x.mean((2, 3)))

    def bns(self, cand):
        return [m for (c, _), convs in zip(cand, self.convs) for m in convs[c].modules() if isinstance(m, nn.BatchNorm2d)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--steps", type=int, default=30)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    rng = random.Random(0)
    net = ChainSupernet().to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batch, warmup, steps = 64, 3, a.steps
    x = torch.randn(batch, 1, 28, 28, device=dev)
    y = torch.arange(batch, device=dev) % 10
    total = warmup + steps
    net.train()
    start = time.perf_counter()
    for step in range(total):
        if step == warmup:
            sync()
            start = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = 0.5 * 0.05 * (1 + math.cos(math.pi * step / total))
        cand = net.sample(rng)
        opt.zero_grad(set_to_none=True)  # unsampled blocks get no update, as in ours
        loss = F.cross_entropy(net(x, cand), y)
        loss.backward()
        opt.step()
    sync()
    train_secs = time.perf_counter() - start

    n_cand, recalib, eval_bs, eval_batches = 64, 2, 256, 2
    ev = torch.randn(eval_bs, 1, 28, 28, device=dev)
    cands = [net.sample(rng) for _ in range(n_cand + 1)]
    with torch.no_grad():
        for i, cand in enumerate(cands):
            if i == 1:
                sync()
                start = time.perf_counter()
            bns = net.bns(cand)
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum = None
            net.train()
            for _ in range(recalib):
                net(x, cand)
            net.eval()
            for _ in range(eval_batches):
                net(ev, cand).sum().item()
            for bn in bns:
                bn.momentum = 0.1
    sync()
    score_secs = time.perf_counter() - start
    images_per_cand = recalib * batch + eval_batches * eval_bs
    result = {
        "config": "chain-s4-w16-1x28x28-b64",
        "framework": f"pytorch {torch.__version__}",
        "device": a.device,
        "threads": torch.get_num_threads(),
        "train_steps_per_s": steps / train_secs,
        "train_images_per_s": steps * batch / train_secs,
        "score_candidates_per_s": n_cand / score_secs,
        "score_images_per_s": n_cand * images_per_cand / score_secs,
        # The twin scores one by one (PyTorch eager has no shared-prefix or batched variant):
        # every scoring field is that one run, the peer of each of ours.
        "score_batched_candidates_per_s": n_cand / score_secs,
        "score_one_by_one_candidates_per_s": n_cand / score_secs,
        "score_one_by_one_images_per_s": n_cand * images_per_cand / score_secs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    if not a.json:
        for k, v in result.items():
            print(f"{k}: {v}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
