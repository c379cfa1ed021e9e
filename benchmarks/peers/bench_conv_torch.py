"""Peer of benchmarks/micro/bench_conv.cpp: PyTorch 1.13 Conv2d(k x k, 'same' padding) + ReLU,
forward and forward+backward (weight, bias and input gradients), batch 64, float32, on
the same shapes; prints one JSON line per case with ms per iteration and GFLOP/s.

    /usr/bin/python3 benchmarks/peers/bench_conv_torch.py --threads 1
"""
import argparse
import json
import time

import torch

# (channels, size, filters, kernel): the same layers as bench_conv.cpp, 'same' padding.
SHAPES = [(1, 48, 32, 3), (32, 48, 64, 3), (64, 24, 128, 3), (128, 12, 128, 3), (64, 48, 64, 5), (128, 24, 128, 5),
          (32, 24, 64, 3), (64, 12, 128, 3)]
BATCH = 64


def timeit(fn, min_time, repetitions=5):
    """Seconds per call: the fastest of `repetitions` rounds of at least min_time/repetitions
    (on a shared machine the minimum is the least disturbed measurement), and the process
    CPU seconds per call of the fastest round (comparable to Google Benchmark's CPU column)."""
    fn()
    fn()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repetitions):
        n, start, start_cpu = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time / repetitions:
                break
        best = min(best, elapsed / n)
        best_cpu = min(best_cpu, (time.process_time() - start_cpu) / n)
    return best, best_cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--layers", type=int, nargs="*", default=list(range(len(SHAPES))))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for layer in args.layers:
        c, size, f, k = SHAPES[layer]
        conv = torch.nn.Conv2d(c, f, k, padding=k // 2)
        x = torch.rand(BATCH, c, size, size) * 2 - 1
        x.requires_grad_(True)
        dy = torch.rand(BATCH, f, size, size) * 2 - 1
        forward_flops = 2.0 * BATCH * f * c * k * k * size * size

        def forward():
            with torch.no_grad():
                torch.relu(conv(x))

        def forward_backward():
            conv.zero_grad(set_to_none=True)
            x.grad = None
            torch.relu(conv(x)).backward(dy)

        for name, fn, flops in (("forward", forward, forward_flops),
                                ("forward_backward", forward_backward, 3 * forward_flops)):
            seconds, cpu_seconds = timeit(fn, args.min_time)
            print(json.dumps({"peer": "torch", "version": torch.__version__, "case": name, "layer": layer,
                              "threads": args.threads, "ms": seconds * 1e3, "cpu_ms": cpu_seconds * 1e3, "gflops": flops / seconds / 1e9}))


if __name__ == "__main__":
    main()
