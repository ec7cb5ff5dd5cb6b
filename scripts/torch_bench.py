#!/usr/bin/env python3
"""Times PyTorch on the same SDXL shapes as gosdxl's kernel benchmarks
(kernels/bench_cuda_test.go) and prints one JSON object: the card, the torch
version and, per case, GPU milliseconds per call and TFLOP/s or GB/s.

fp16 everywhere, batch 2 (classifier-free guidance), channels-last
convolutions, cuBLAS/cuDNN/SDPA as torch picks them. Run on the GPU host:
    python3 torch_bench.py > torch.json
"""
import json
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the bundle still runs everything else
    print(json.dumps({"error": f"torch not available: {e}"}))
    sys.exit(0)

DEV = "cuda"
DT = torch.float16


def timed(fn, iters=20):
    """GPU time of one call in milliseconds (events, after warm-up)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def rnd(*shape, std=1.0):
    return torch.randn(*shape, device=DEV, dtype=DT) * std


def main():
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device"}))
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    results = []

    def add(op, name, ms, flops=0.0, nbytes=0.0):
        r = {"op": op, "shape": name, "ms": round(ms, 4)}
        if flops:
            r["tflops"] = round(flops / (ms / 1e3) / 1e12, 2)
        if nbytes:
            r["gbs"] = round(nbytes / (ms / 1e3) / 1e9, 1)
        results.append(r)

    with torch.no_grad():
        for name, m, k, n in [("4096x640x640", 2 * 4096, 640, 640),
                              ("4096x640x5120", 2 * 4096, 640, 5120),
                              ("1024x1280x1280", 2 * 1024, 1280, 1280)]:
            x, w, b = rnd(m, k), rnd(n, k, std=0.03), rnd(n, std=0.1)
            add("Linear", name, timed(lambda: F.linear(x, w, b)), flops=2.0 * m * n * k)

        for name, hw, cin, cout in [("128x128x320", 128, 320, 320),
                                    ("64x64x640", 64, 640, 640),
                                    ("32x32x1280", 32, 1280, 1280)]:
            x = rnd(2, cin, hw, hw).to(memory_format=torch.channels_last)
            w = rnd(cout, cin, 3, 3, std=0.02).to(memory_format=torch.channels_last)
            b = rnd(cout, std=0.1)
            add("Conv2D", name, timed(lambda: F.conv2d(x, w, b, padding=1)),
                flops=2.0 * 2 * hw * hw * cout * 9 * cin)

        for name, tq, tk, heads in [("self_4096_10h", 4096, 4096, 10),
                                    ("cross_4096x77_10h", 4096, 77, 10),
                                    ("self_1024_20h", 1024, 1024, 20)]:
            q, k, v = rnd(2, heads, tq, 64), rnd(2, heads, tk, 64), rnd(2, heads, tk, 64)
            add("Attention", name, timed(lambda: F.scaled_dot_product_attention(q, k, v)),
                flops=4.0 * 2 * heads * tq * tk * 64)

        for name, hw, c in [("128x128x320", 128, 320), ("64x64x640", 64, 640), ("32x32x1280", 32, 1280)]:
            x = rnd(2, c, hw, hw).to(memory_format=torch.channels_last)
            g, b = rnd(c), rnd(c, std=0.1)
            add("GroupNormSiLU", name, timed(lambda: F.silu(F.group_norm(x, 32, g, b, 1e-5))),
                nbytes=3.0 * x.numel() * 2)

        x = rnd(2, 4096, 640)
        g, b = rnd(640), rnd(640, std=0.1)
        add("LayerNorm", "4096x640", timed(lambda: F.layer_norm(x, (640,), g, b, 1e-5)), nbytes=3.0 * x.numel() * 2)

    print(json.dumps({"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                      "cuda": torch.version.cuda, "results": results}, indent=1))


if __name__ == "__main__":
    main()
