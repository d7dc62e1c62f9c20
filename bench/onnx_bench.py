"""ONNX Runtime (CPU) against the engine, per U-Net, at 256 x 256.

    PY=$(scripts/onnx_env.sh)
    $PY bench/onnx_bench.py [--size 256] [--reps 5] [--no-w64] [--no-engine] [--no-cli]

Models: the bundled one (weights/, width 16) and a random width-64 model (the published
width; PyTorch's default init, exported in memory). ORT runs tools/export_onnx.py's
files on the CPU execution provider twice: with its default thread pool (all cores) and
with intra_op_num_threads = 1; one warm-up run, then the median of --reps runs of each
U-Net (the sketch examples/samples/1F432-sketch.png, the colorizer on ORT's own labels
and three hints).

The engine, without the CLI: build/bench/engine_bench (Google Benchmark; one U-Net run,
wall clock around run + synchronize, on the simulator in fp32 unless a GPU is there),
BM_Segment / BM_Colorize at the same size and widths. Its models are random weights on
a synthetic sketch, not the bundled model: the fp32 work per run does not depend on the
values. Also the CLI end to end (`guidingpainter colorize --size 256`: process start,
model load, PNG decode, both U-Nets, PNG encode), median of 3, for the bundled model.
Env: GP_CLI, GP_ENGINE_BENCH override the two binaries' paths.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import export_onnx  # noqa: E402
import reference  # noqa: E402

import onnxruntime as ort  # noqa: E402

BUNDLED = os.path.join(REPO, "weights", "guidingpainter-emoji.safetensors")
SKETCH = os.path.join(REPO, "examples", "samples", "1F432-sketch.png")
HINTS = {1: (224, 32, 32), 2: (32, 160, 64), 3: (40, 80, 230)}


def repo_path(env, default):
    p = os.environ.get(env) or default
    return p if os.path.isabs(p) else os.path.join(REPO, p)


def sketch_at(size):
    image = Image.open(SKETCH).convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    return np.asarray(image)


def median_ms(fn, reps):
    fn()  # warm-up: ORT plans its kernels and allocates on the first run
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def bench_ort(onnx_dir, rgb, threads, reps):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    seg, col = (ort.InferenceSession(os.path.join(onnx_dir, name), options, providers=["CPUExecutionProvider"])
                for name in (export_onnx.SEG_FILE, export_onnx.COL_FILE))
    x = export_onnx.sketch_from_rgb8(rgb)
    logits = seg.run(None, {export_onnx.SEG_INPUT: x})[0][0]
    labels = np.argmax(logits, axis=0)
    min_pixels = reference.min_region_pixels(reference.MIN_REGION, labels.size)
    ranked = int((np.bincount(labels.ravel(), minlength=reference.NUM_REGIONS) >= min_pixels).sum())
    colors, active = export_onnx.hint_table(labels, {k: v for k, v in HINTS.items() if k <= ranked})
    inp = export_onnx.colorizer_input(x, labels, colors, active)
    seg_ms = median_ms(lambda: seg.run(None, {export_onnx.SEG_INPUT: x}), reps)
    col_ms = median_ms(lambda: col.run(None, {export_onnx.COL_INPUT: inp}), reps)
    return seg_ms, col_ms


def bench_engine(size, widths, reps):
    """{(net, width): median ms} from engine_bench's fp32 simulator (or cuda) path."""
    binary = repo_path("GP_ENGINE_BENCH", "build/bench/engine_bench")
    if not os.access(binary, os.X_OK):
        print(f"note: {binary} missing, engine rows skipped", file=sys.stderr)
        return {}, None
    pattern = f"^BM_(Segment|Colorize)/(sim|cuda)/size:{size}/width:({'|'.join(map(str, widths))})/"
    out = subprocess.run([binary, f"--benchmark_filter={pattern}", f"--benchmark_repetitions={reps}",
                          "--benchmark_format=json"], capture_output=True, text=True, check=True).stdout
    runs = {}
    path = None
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        parts = b["run_name"].split("/")  # BM_Segment/sim/size:256/width:16/...
        net = "seg" if parts[0] == "BM_Segment" else "col"
        path = parts[1]
        width = int(parts[3].split(":")[1])
        assert b["time_unit"] == "ms", b["time_unit"]
        runs.setdefault((net, width), []).append(b["real_time"])
    return {k: statistics.median(v) for k, v in runs.items()}, path


def bench_cli(size, reps=3):
    cli = repo_path("GP_CLI", "build/guidingpainter")
    if not os.access(cli, os.X_OK):
        print(f"note: {cli} missing, CLI row skipped", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [cli, "colorize", "--device", "sim", "--precision", "fp32", "--model", BUNDLED, "--sketch", SKETCH,
               "--size", str(size), "-o", os.path.join(tmp, "out.png"), "--hint", "1=#e02020"]
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def gflop(in_channels, out_channels, width, n):
    """FLOPs of one U-Net at n x n as the engine's plan counts them (2 per multiply-add,
    padding not counted), in GFLOP."""
    level = {"inc": 0, "down1": 1, "down2": 2, "down3": 3, "down4": 4, "up1": 3, "up2": 2, "up3": 1, "up4": 0}
    total = 0
    for block, cin, mid, cout in reference.unet_blocks(in_channels, width):
        side = n >> level[block]
        total += 2 * side * side * 9 * (cin * mid + mid * cout)
    return (total + 2 * n * n * width * out_channels) / 1e9


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--reps", type=int, default=5, help="timed runs per U-Net (width 64: at most 3)")
    parser.add_argument("--no-w64", action="store_true", help="skip the random width-64 model")
    parser.add_argument("--no-engine", action="store_true", help="skip engine_bench")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI end-to-end timing")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rgb = sketch_at(args.size)
    rows = []
    widths = [16] + ([] if args.no_w64 else [64])
    with tempfile.TemporaryDirectory(prefix="gp-onnx-bench-") as tmp:
        for width in widths:
            out = os.path.join(tmp, f"w{width}")
            if width == 16:
                export_onnx.export(BUNDLED, out)
                name = "bundled (w16)"
            else:
                import torch
                torch.manual_seed(0)
                export_onnx.export_model(reference.GuidingPainter(64), out)
                name = "random w64"
            reps = args.reps if width == 16 else min(args.reps, 3)
            for threads in (0, 1):
                seg_ms, col_ms = bench_ort(out, rgb, threads, reps)
                label = f"ORT {ort.__version__} CPU, {'default threads' if threads == 0 else '1 thread'}"
                rows.append((name, label, seg_ms, col_ms, f"median of {reps}, after 1 warm-up"))
                print(f"  {name}: {label}: seg {seg_ms:.1f} ms, col {col_ms:.1f} ms", file=sys.stderr)
    path = None
    if not args.no_engine:
        engine, path = bench_engine(args.size, widths, min(args.reps, 3))
        for width in widths:
            if ("seg", width) in engine:
                name = f"w{width}, random weights*"
                reps = min(args.reps, 3)
                rows.append((name, f"engine, engine_bench {path} fp32", engine[("seg", width)],
                             engine[("col", width)], f"median of {reps}, random weights"))
    cli_ms = None if args.no_cli else bench_cli(args.size)

    engine_on = "the gpusim simulator" if path in (None, "sim") else "the GPU"
    print(f"\nGuidingPainter U-Nets at {args.size} x {args.size}, batch 1, float32. Machine: {cpu_name()}, "
          f"{os.cpu_count()} cores; engine on {engine_on}. 1-minute load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after (above ~1 means something else shared the cores).")
    print()
    print("| model | runtime | segmentator ms | colorizer ms | GFLOP/s (seg / col) | note |")
    print("|---|---|---|---|---|---|")
    for name, label, seg_ms, col_ms, note in rows:
        width = 16 if "16" in name else 64
        seg_rate = gflop(reference.SEG_IN_CHANNELS, reference.NUM_REGIONS, width, args.size) / (seg_ms / 1e3)
        col_rate = gflop(reference.COL_IN_CHANNELS, reference.COL_OUT_CHANNELS, width, args.size) / (col_ms / 1e3)
        print(f"| {name} | {label} | {seg_ms:.1f} | {col_ms:.1f} | {seg_rate:.1f} / {col_rate:.1f} | {note} |")
    if cli_ms is not None:
        print(f"| bundled (w16) | engine CLI `colorize` end to end, sim fp32 | {cli_ms:.0f} (both U-Nets + I/O) "
              "| - | - | median of 3; process start, model load, PNG in/out |")
    print(f"\nGFLOP per run at {args.size}: seg {gflop(1, 30, 16, args.size):.2f} / "
          f"col {gflop(35, 3, 16, args.size):.2f} (w16), {gflop(1, 30, 64, args.size):.1f} / "
          f"{gflop(35, 3, 64, args.size):.1f} (w64).")
    print("* engine_bench times the same network shapes with random weights (the fp32 work does not depend on them).")
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
