#!/usr/bin/python3
"""PyTorch CPU reference for the model benchmark (bench/models/run.mjs): the
same CISH autoencoder (bench/cish_torch.py), the same batch, timed the same
way (each training step and each encoder batch alone, after a warm-up).

  /usr/bin/python3 bench/models_reference.py --threads 2 [--batch 32] [--runs 7]

Prints one JSON object on stdout.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cish_torch import time_training_and_inference  # noqa: E402


def matmul_gflops(torch, n=2048, runs=5):
    """Float32 GFLOP/s of an n×n matrix product (BLAS): the practical peak of this CPU at this thread count."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(runs):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--runs', type=int, default=7)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    result = time_training_and_inference(torch, batch=args.batch, runs=args.runs)
    print(json.dumps({'model': 'cish', 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'batch': args.batch,
                      'matmul_gflops': matmul_gflops(torch), **result}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
