#!/usr/bin/python3
"""PyTorch CPU reference for the model benchmark (bench/models/run.mjs): the
same network as in the browser, the same batch, timed the same way (each
training step and each inference batch alone, after a warm-up).

  /usr/bin/python3 bench/models_reference.py --threads 2 [--batch 32] [--runs 7]
  /usr/bin/python3 bench/models_reference.py --model csp-cae --preset sixteenth --threads 1 [--runs 3] [--warmup 1]
  /usr/bin/python3 bench/models_reference.py --model mobincep|organet --threads 1 --batch 4 --encode-batch 8 [--classes 3] [--runs 3]

cish (default): the CISH autoencoder (bench/cish_torch.py), Adam on the MSE,
300 px tiles, encoder batches. csp-cae: the crosswise-sparse CAE
(bench/cspcae_torch.py) at the preset's width, SGD with momentum (0.03, 0.9)
on the RMSE, 100 px patches, inference = the whole forward pass in eval mode.
mobincep / organet: the seed-002 classifiers (bench/classifiers_torch.py) at
the paper's input (224 x 224 x 3, 382 x 382 x 1), the seed's loss and
optimiser (AMSGrad / Adam, lr 1e-4), inference = forward pass and softmax in
eval mode, in batches of --encode-batch images.

Prints one JSON object on stdout.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cish_torch import time_training_and_inference  # noqa: E402
import cspcae_torch  # noqa: E402
import classifiers_torch  # noqa: E402


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
    parser.add_argument('--encode-batch', type=int, default=None,
                        help='cish, mobincep, organet: tiles per inference batch (default --batch)')
    parser.add_argument('--model', choices=['cish', 'csp-cae', 'mobincep', 'organet'], default='cish')
    parser.add_argument('--classes', type=int, default=3, help='mobincep, organet only')
    parser.add_argument('--preset', choices=list(cspcae_torch.PRESETS), default='sixteenth', help='csp-cae only')
    parser.add_argument('--warmup', type=int, default=None, help='untimed runs first (default: 2 for cish, 1 for the others)')
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    if args.model == 'cish':
        result = time_training_and_inference(torch, batch=args.batch, runs=args.runs, warmup=2 if args.warmup is None else args.warmup,
                                             encode_batch=args.encode_batch)
        print(json.dumps({'model': 'cish', 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'batch': args.batch,
                          'encode_batch': args.encode_batch or args.batch,
                          'matmul_gflops': matmul_gflops(torch), **result}))
        return 0
    if args.model in ('mobincep', 'organet'):
        result = classifiers_torch.time_training_and_inference(torch, net=args.model, batch=args.batch,
                                                               inference_batch=args.encode_batch or args.batch, classes=args.classes,
                                                               warmup=1 if args.warmup is None else args.warmup, runs=args.runs)
        print(json.dumps({'model': args.model, 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'batch': args.batch,
                          'encode_batch': args.encode_batch or args.batch, 'matmul_gflops': matmul_gflops(torch), **result}))
        return 0
    result = cspcae_torch.time_training_and_inference(torch, preset=args.preset, batch=args.batch, runs=args.runs,
                                                      warmup=1 if args.warmup is None else args.warmup)
    print(json.dumps({'model': 'csp-cae', 'preset': args.preset, 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'batch': args.batch, 'matmul_gflops': matmul_gflops(torch), **result}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
