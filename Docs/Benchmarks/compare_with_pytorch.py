#!/usr/bin/env python3
"""NearCAIPI's network against PyTorch on this machine, runs alternated.

This kind of virtual machine varies by up to ±25 % from one minute to the next, so one run
of each side is not a fair ratio. This script alternates `nearcaipi bench --json` (one run
per backend asked for) with `pytorch_reference.py`, ROUNDS times, and prints the medians and
ratios as the Markdown table of Docs/Benchmarks.md, with the CPU's vector extensions.

    python3 Docs/Benchmarks/compare_with_pytorch.py [--rounds 3] [--seconds 3]
            [--backends onednn,openblas] [--binary .build/release/nearcaipi]

Needs PyTorch on the developer's machine only (`pip install torch`).
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEYS = [("train_img_s", "training, images/s"), ("infer_img_s", "inference, images/s"),
        ("invrise_1000_s", "InvRISE 1000 masks, s")]


def cpu_features():
    flags = set()
    for line in open("/proc/cpuinfo"):
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile"]
    return ", ".join(f for f in wanted if f in flags) or "none of AVX2/AVX-512"


def run(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--backends", default="onednn,openblas")
    parser.add_argument("--binary", default=str(HERE.parent.parent / ".build/release/nearcaipi"))
    args = parser.parse_args()
    backends = args.backends.split(",")
    ours = {b: [] for b in backends}
    theirs = []
    implementations = {}
    for round_ in range(args.rounds):
        for backend in backends:
            result = run([args.binary, "bench", "--json", "--seconds", str(args.seconds), "--backend", backend])
            ours[backend].append(result["models"])
            if backend == "onednn":
                implementations = {name: model.get("onednn_convolutions", {}) for name, model in result["models"].items()}
            print(f"round {round_ + 1}: {backend} {json.dumps(result['models'])}", file=sys.stderr)
        reference = run([sys.executable, str(HERE / "pytorch_reference.py")])
        theirs.append(reference["models"])
        print(f"round {round_ + 1}: pytorch {reference['torch']} {json.dumps(reference['models'])}", file=sys.stderr)

    def median(runs, model, key):
        return statistics.median(r[model][key] for r in runs)

    print(f"CPU: {cpu_features()}; {args.rounds} alternating rounds, medians\n")
    header = "| network | | " + " | ".join(f"NearCAIPI {b}" for b in backends) + " | PyTorch | " \
        + " | ".join(f"{b} ÷ PyTorch" for b in backends) + " |"
    print(header)
    print("|" + " --- |" * (3 + 2 * len(backends)))
    for model in theirs[0]:
        for key, label in KEYS:
            reference = median(theirs, model, key)
            values = [median(ours[b], model, key) for b in backends]
            # For times, faster is smaller: the ratio is PyTorch's time over ours.
            ratios = [(reference / v if key.endswith("_s") and not key.endswith("img_s") else v / reference) for v in values]
            print(f"| {model} | {label} | " + " | ".join(f"{v:g}" for v in values) + f" | {reference:g} | "
                  + " | ".join(f"{r:.2f}×" for r in ratios) + " |")
    print()
    for model, kernels in implementations.items():
        chosen = sorted(set(kernels.values()))
        print(f"oneDNN implementations, {model}: {', '.join(chosen)}")


if __name__ == "__main__":
    main()
