#!/usr/bin/env python3
"""Checks a `nas-navigator export` folder in PyTorch.

Loads model.py's build_model(), loads weights.safetensors into it with strict key matching,
runs the check.safetensors inputs in eval mode and prints the largest absolute difference to
the engine's logits. Exits 1 if it is above the tolerance (default 1e-4).

    python3 examples/torch_check.py EXPORT_DIR [--tolerance 1e-4]

Needs torch and safetensors (pip install safetensors numpy).
"""
import argparse
import importlib.util
import pathlib
import sys

import torch
from safetensors.torch import load_file


def load_module(path):
    spec = importlib.util.spec_from_file_location("exported_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", type=pathlib.Path)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    d = args.export_dir
    model = load_module(d / "model.py").build_model()
    weights = load_file(str(d / "weights.safetensors"))
    expected = set(model.state_dict().keys())
    if expected != set(weights.keys()):
        print(f"key mismatch: module only {sorted(expected - set(weights))}, "
              f"file only {sorted(set(weights) - expected)}")
        return 1
    model.load_state_dict(weights, strict=True)
    model.eval()
    check = load_file(str(d / "check.safetensors"))
    with torch.no_grad():
        logits = model(check["inputs"])
    want = check["logits"]
    if logits.shape != want.shape:
        print(f"shape mismatch: torch {tuple(logits.shape)}, engine {tuple(want.shape)}")
        return 1
    diff = (logits - want).abs().max().item()
    agree = (logits.argmax(1) == want.argmax(1)).float().mean().item()
    print(f"{d}: {len(weights)} tensors, {check['inputs'].shape[0]} images, "
          f"max abs logit difference {diff:.3e}, argmax agreement {agree:.0%}")
    return 0 if diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
