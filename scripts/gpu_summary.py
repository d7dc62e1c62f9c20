#!/usr/bin/env python3
"""The GPU check's verdict and summary (scripts/gpu_run.sh runs it as its last step).

Reads what the steps left in the work folder (steps.tsv, gtest and benchmark JSON, the
step logs, the CLI's raw outputs, the plan) and the ncu CSV in the output folder; writes
summary.md (bench/RESULTS.md's format), tests.json, bench.json and sanitizer.txt to the
output folder. Exit status 0 when every step passed (in a dry run: when every step was
walked). Standard library only: the GPU machine's python3 is whatever it has.
"""
import argparse
import csv
import datetime
import json
import re
import struct
from pathlib import Path

# A test that skips on a machine with one GPU: it needs two.
NEEDS_TWO_GPUS = {"SessionControl.SessionOnAnotherThreadRunsOnItsModelsGpu"}
# What the tools print when the machine will not let them work (gVisor, counters locked):
# the step then says so instead of failing the check.
TOOL_UNAVAILABLE = re.compile(r"Device not supported|LibraryNotLoaded|ERR_NVGPUCTRPERM|"
                              r"Failed to initialize the profiler|profiling is not supported", re.I)
# cuDNN that does not load, or not this version: skipped with the reason.
CUDNN_UNAVAILABLE = re.compile(r"error while loading shared libraries|libcudnn\S* cannot open|"
                               r"CUDNN_STATUS_(SUBLIBRARY|VERSION|NOT_INITIALIZED|LICENSE)\w*", re.I)
CLI_BOUND = 1e-3  # max |cuda - sim| of the fp32 colorizer output (tanh, in [-1, 1])


def read(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def load_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def first_match(pattern, text, default=""):
    m = re.search(pattern, text, re.M)
    return m.group(0).strip() if m else default


# ---- steps --------------------------------------------------------------------------------
def read_steps(work):
    steps = {}
    for line in read(work / "steps.tsv").splitlines():
        f = (line.split("\t") + [""] * 6)[:6]
        steps[f[0]] = {"name": f[0], "result": f[1], "seconds": int(f[2] or 0), "timeout": int(f[3] or 0),
                       "rc": int(f[4] or 0), "note": f[5]}
    return steps


def judge_tool(step, log):
    """A sanitizer or ncu step the machine does not allow is 'unavailable', not a failure."""
    if step["result"] == "fail" and TOOL_UNAVAILABLE.search(log):
        step["result"] = "unavailable"
        step["note"] = first_match(TOOL_UNAVAILABLE.pattern + r".*", log)[:160]


# ---- gtest ----------------------------------------------------------------------------------
def gtest_results(doc, gpus):
    """Counts and the names of failed and wrongly skipped tests of one gtest JSON file."""
    r = {"tests": 0, "passed": 0, "failed": [], "skipped": [], "allowed_skips": []}
    for suite in (doc or {}).get("testsuites", []):
        for t in suite.get("testsuite", []):
            name = f"{suite['name']}.{t['name']}"
            r["tests"] += 1
            if t.get("failures"):
                msg = t["failures"][0].get("failure", "").splitlines()
                r["failed"].append(name + (": " + msg[0][:200] if msg else ""))
            elif t.get("result") == "SKIPPED":
                if name in NEEDS_TWO_GPUS and gpus < 2:
                    r["allowed_skips"].append(name)
                else:
                    r["skipped"].append(name)
            else:
                r["passed"] += 1
    return r


def judge_tests(step, doc, gpus, cudnn=False, log=""):
    if step["result"] in ("dry", "skipped", "no time"):
        return None
    if doc is None:
        if cudnn and CUDNN_UNAVAILABLE.search(log):
            step["result"] = "skipped"
            step["note"] = "cuDNN did not load: " + first_match(CUDNN_UNAVAILABLE.pattern + r".*", log)[:160]
        elif step["result"] == "pass":
            step["result"] = "fail"
            step["note"] = "no gtest JSON"
        return None
    r = gtest_results(doc, gpus)
    if r["failed"] or r["skipped"]:
        step["result"] = "fail"
    notes = [f"{r['passed']}/{r['tests']} passed"]
    if r["failed"]:
        notes.append(f"{len(r['failed'])} failed")
    if r["skipped"]:
        notes.append(f"{len(r['skipped'])} skipped on a GPU machine")
    if r["allowed_skips"]:
        notes.append(f"{len(r['allowed_skips'])} skipped as expected (needs two GPUs)")
    step["note"] = ", ".join(notes)
    return r


# ---- the CLI ----------------------------------------------------------------------------------
def read_npy_f32(path):
    """A little-endian float32 .npy file's values (numpy may not be there)."""
    data = Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    major = data[6]
    (hlen,) = struct.unpack_from("<H" if major == 1 else "<I", data, 8)
    start = 10 + hlen if major == 1 else 12 + hlen
    header = data[(10 if major == 1 else 12):start].decode("latin1")
    if "'<f4'" not in header:
        raise ValueError(f"{path}: not float32 ({header.strip()})")
    body = data[start:]
    return struct.unpack(f"<{len(body) // 4}f", body)


def judge_cli(steps, work):
    cuda, sim = steps.get("cli_cuda"), steps.get("cli_sim")
    if not cuda or not sim or cuda["result"] != "pass" or sim["result"] != "pass":
        return None
    try:
        a, b = read_npy_f32(work / "cli_cuda.npy"), read_npy_f32(work / "cli_sim.npy")
    except (OSError, ValueError) as e:
        cuda["result"], cuda["note"] = "fail", str(e)
        return None
    if len(a) != len(b):
        cuda["result"], cuda["note"] = "fail", f"{len(a)} values on cuda, {len(b)} on sim"
        return None
    diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
    cuda["note"] = f"max |cuda - sim| {diff:.2e} over {len(a)} values (bound {CLI_BOUND:g})"
    if not diff <= CLI_BOUND:
        cuda["result"] = "fail"
    return diff


# ---- benchmarks ------------------------------------------------------------------------------
def bench_rows(doc):
    """The mean of each benchmark's repetitions (or its error)."""
    rows = []
    for bm in (doc or {}).get("benchmarks", []):
        name = bm.get("run_name", bm["name"]).removesuffix("/manual_time")
        if bm.get("error_occurred"):
            rows.append({"name": name, "error": bm.get("error_message", "error")})
        elif bm.get("aggregate_name", "mean") == "mean":
            rows.append({"name": name, "ms": bm.get("ms"), "gflop": bm.get("GFLOP"), "peak": bm.get("peak"), "error": ""})
    return rows


def judge_bench(step, doc, log, cudnn=False):
    if step["result"] in ("dry", "skipped", "no time"):
        return
    if cudnn and step["result"] == "fail" and CUDNN_UNAVAILABLE.search(log):
        step["result"] = "skipped"
        step["note"] = "cuDNN did not load: " + first_match(CUDNN_UNAVAILABLE.pattern + r".*", log)[:160]
        return
    rows = bench_rows(doc)
    errors = [r for r in rows if r["error"]]
    if doc is None and step["result"] == "pass":
        step["result"], step["note"] = "fail", "no benchmark JSON"
    elif errors:
        step["result"] = "fail"
        step["note"] = f"{len(errors)} benchmarks reported errors: {errors[0]['name']}: {errors[0]['error']}"[:200]
    elif rows:
        step["note"] = f"{len(rows)} benchmarks"


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def bench_table(rows):
    """One row per U-Net, size and width; one column per path: ms per run (fraction of peak)."""
    cells, paths, keys, gflop = {}, [], [], {}
    for r in rows:
        m = re.match(r"BM_(\w+)/(\w+)/size:(\d+)/width:(\d+)", r["name"])
        if not m:
            continue
        net, path, size, width = m.groups()
        key = (net, int(size), int(width))
        if path not in paths:
            paths.append(path)
        if key not in keys:
            keys.append(key)
        if r.get("gflop"):
            gflop[key] = r["gflop"]
        cells[key, path] = "error" if r["error"] else fmt(r["ms"], ".3f") + (f" ({r['peak']:.0%})" if r.get("peak") else "")
    lines = ["| U-Net | size | width | GFLOP | " + " | ".join(paths) + " |", "|---|---:|---:|---:|" + "---:|" * len(paths)]
    for key in sorted(keys, key=lambda k: (k[0] != "Segment", k[1], k[2])):
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {fmt(gflop.get(key), '.2f')} | "
                     + " | ".join(cells.get((key, p), "") for p in paths) + " |")
    return lines


# ---- plan and ncu ----------------------------------------------------------------------------
def plan_convs(text, net="colorizer"):
    """The tensor-core 3x3 convs of one U-Net in the plan, in launch order."""
    rows, on = [], False
    for line in text.splitlines():
        if line.startswith(net + ","):
            on = True
        elif on and not line.strip():
            break
        elif on and "conv3x3_mma" in line:
            # layer kernel gather out tile grid GFLOP MB blk/SM waves roof issue tensor latency est. bound
            t = line.split()
            rows.append({"layer": t[0], "grid": t[5], "gflop": float(t[6]), "mb": float(t[7]),
                         "est_us": float(t[14])})
    return rows


NCU_METRICS = [  # (column, raw metric name patterns, first found wins)
    ("ncu us", [r"^gpu__time_duration\.sum$"]),
    ("SM %", [r"^sm__throughput\.avg\.pct_of_peak_sustained_elapsed$"]),
    ("memory %", [r"^gpu__compute_memory_throughput\.avg\.pct_of_peak_sustained_elapsed$"]),
    ("tensor pipe %", [r"^sm__pipe_tensor_op_hmma_cycles_active\.avg\.pct_of_peak_sustained_active$",
                       r"^sm__pipe_tensor_cycles_active\.avg\.pct_of_peak_sustained_active$",
                       r"^sm__inst_executed_pipe_tensor_op_hmma\.avg\.pct_of_peak_sustained_active$",
                       r"^sm__pipe_tensor.*pct_of_peak_sustained_active$"]),
    ("issue slots %", [r"^sm__inst_issued\.avg\.pct_of_peak_sustained_active$"]),
    ("achieved occupancy %", [r"^sm__warps_active\.avg\.pct_of_peak_sustained_active$"]),
]


def number(s):
    try:
        return float(s.replace(",", ""))
    except (AttributeError, ValueError):
        return None


def ncu_rows(path):
    """Per profiled kernel: its name, grid and the NCU_METRICS values; and the metrics used."""
    lines = [l for l in read(path).splitlines() if l.startswith('"')]
    if len(lines) < 3:
        return [], {}
    table = list(csv.reader(lines))
    header, units = table[0], table[1]
    used = {}
    for col, patterns in NCU_METRICS:
        for p in patterns:
            idx = next((i for i, h in enumerate(header) if re.match(p, h)), None)
            if idx is not None:
                used[col] = idx
                break
    out = []
    for row in table[2:]:
        grid = re.findall(r"\d+", row[header.index("Grid Size")]) if "Grid Size" in header else []
        r = {"kernel": row[header.index("Kernel Name")] if "Kernel Name" in header else "?",
             "grid": "x".join(grid[:2]) or "?"}  # as the plan writes it
        for col, idx in used.items():
            v = number(row[idx])
            if col == "ncu us" and v is not None:
                v *= {"nsecond": 1e-3, "usecond": 1.0, "msecond": 1e3, "second": 1e6}.get(units[idx], 1.0)
            r[col] = v
        out.append(r)
    return out, {col: header[idx] for col, idx in used.items()}


def ncu_table(plan_rows, kernels):
    if not kernels:
        return []
    by_plan = sorted(range(len(plan_rows)), key=lambda i: (plan_rows[i]["est_us"], plan_rows[i]["mb"]), reverse=True)[:3]
    by_ncu = sorted(range(len(kernels)), key=lambda i: kernels[i].get("ncu us") or 0, reverse=True)[:3]
    lines = ["| layer | costliest by | grid (plan / ncu) | plan est. us | " + " | ".join(c for c, _ in NCU_METRICS) + " |",
             "|---|---|---|---:|" + "---:|" * len(NCU_METRICS)]
    for i in sorted(set(by_plan) | set(by_ncu)):
        p = plan_rows[i] if i < len(plan_rows) else {"layer": f"#{i}", "grid": "?", "est_us": None}
        k = kernels[i] if i < len(kernels) else {}
        why = "+".join(w for w, s in (("plan", by_plan), ("ncu", by_ncu)) if i in s)
        vals = " | ".join(fmt(k.get(c), ".1f") for c, _ in NCU_METRICS)
        lines.append(f"| {p['layer']} | {why} | {p['grid']} / {k.get('grid', '?')} | "
                     f"{fmt(p['est_us'], '.2f')} | {vals} |")
    return lines


# ---- sanitizers ------------------------------------------------------------------------------
def sanitizer_report(steps, work, args):
    text = [f"compute-sanitizer on kernel_tests_cuda --gtest_filter='{args.sanitize_filter}'", ""]
    for tool in ("memcheck", "racecheck", "synccheck"):
        s = steps.get(tool)
        if not s:
            continue
        log = read(work / f"{tool}.log")
        judge_tool(s, log)
        summary = first_match(r"(ERROR|RACECHECK) SUMMARY:.*", log, "no summary line")
        tests = first_match(r"\[  PASSED  \].*", log, "") or first_match(r"\[  FAILED  \].*", log, "")
        if s["result"] in ("pass", "fail", "timeout"):
            s["note"] = "; ".join(x for x in (summary, tests) if x)
            if s["result"] == "timeout":
                s["note"] += " (cut off by its timeout)"
        text += [f"== {tool}: {s['result']} ({s['seconds']} s of {s['timeout']} s) {s['note']}"]
        findings = [l for l in log.splitlines() if l.startswith("=========") and "SUMMARY" not in l]
        text += findings[:80] + ([f"... {len(findings) - 80} more lines"] if len(findings) > 80 else []) + [""]
    return "\n".join(text) + "\n"


# ---- main -------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    for a in ("work", "out", "gpu", "cap", "driver", "commit", "bench-args", "manifest", "sanitize-filter"):
        ap.add_argument("--" + a, default="")
    for a in ("gpus", "dry", "elapsed", "budget", "timeouts"):
        ap.add_argument("--" + a, type=int, default=0)
    args = ap.parse_args()
    work, out = Path(args.work), Path(args.out)
    steps = read_steps(work)
    dry = args.dry == 1

    # Conformance programs: exit 0 and "ALL OK" (77, no device, is a failure here).
    for name in ("tensor_core_conformance", "graph_capture"):
        s = steps.get(name)
        if s and s["result"] == "pass":
            log = read(work / f"{name}.log")
            if "ALL OK" not in log or "FAILED" in log:
                s["result"], s["note"] = "fail", "no ALL OK"
            else:
                s["note"] = f"{log.count(': OK')} checks OK"
    tests = {}
    for name in ("kernel_tests", "engine_tests", "cudnn_tests"):
        if name in steps:
            doc = load_json(work / f"{name}.json")
            r = judge_tests(steps[name], doc, args.gpus, cudnn=name == "cudnn_tests", log=read(work / f"{name}.log"))
            if r:
                tests[name] = {"summary": r, "gtest": doc}
    if steps.get("cli_selftest", {}).get("result") == "pass":
        steps["cli_selftest"]["note"] = first_match(r"selftest on .*", read(work / "cli_selftest.log"))
    judge_cli(steps, work)
    bench_docs = {}
    for name, file, cudnn in (("bench", "bench_cuda.json", False), ("bench_cudnn", "bench_cudnn.json", True)):
        if name in steps:
            doc = load_json(work / file)
            judge_bench(steps[name], doc, read(work / f"{name}.log"), cudnn)
            bench_docs[name] = doc if doc is not None else {"partial console output": read(work / f"{name}.log")[-20000:]}
    if "ncu" in steps:
        judge_tool(steps["ncu"], read(work / "ncu.log"))
    sanitizer_text = sanitizer_report(steps, work, args)
    plan16 = read(work / "plan_fp16.txt")
    kernels, used = ncu_rows(out / "ncu.csv")
    if "ncu" in steps and steps["ncu"]["result"] == "pass":
        steps["ncu"]["note"] = f"{len(kernels)} kernels profiled"
        if not kernels:
            steps["ncu"]["result"], steps["ncu"]["note"] = "fail", "no kernel in the ncu report"

    # A step that failed with nothing to say: the last line it printed.
    for s in steps.values():
        if s["result"] in ("fail", "timeout") and not s["note"]:
            lines = [l for l in read(work / f"{s['name']}.log").splitlines() if l.strip()]
            s["note"] = (lines[-1][:160] if lines else "no output") + (" (cut off by its timeout)" if s["result"] == "timeout" else "")

    # Files.
    (out / "tests.json").write_text(json.dumps(
        {"steps": list(steps.values()), "results": tests,
         "conformance": {n: read(work / f"{n}.log")[-4000:] for n in ("tensor_core_conformance", "graph_capture")}},
        indent=1))
    (out / "bench.json").write_text(json.dumps(bench_docs, indent=1))
    (out / "sanitizer.txt").write_text(sanitizer_text)

    ok_results = {"dry", "pass"} if dry else {"pass", "skipped", "unavailable"}
    failed = [s for s in steps.values() if s["result"] not in ok_results]
    today = datetime.date.today().isoformat()
    manifest = read(args.manifest).splitlines() if args.manifest else []
    built = manifest[0].removeprefix("built: ") if manifest else "of scripts/gpu_bundle.sh"
    commit = args.commit or first_match(r"(?<=commit )\S+", built, "unknown")
    md = []
    gpu = args.gpu + (f" (sm_{args.cap.replace('.', '')}, driver {args.driver})" if args.cap else "")
    md += [f"### {today}, commit {commit}, {gpu}" + (f", {args.gpus} GPU{'s' if args.gpus > 1 else ''}" if args.gpus else ""), ""]
    if dry:
        md += ["**Dry run**: nothing was launched on a device; the steps below are what a GPU machine runs.", ""]
    md += [f"Command: `gpu-carry/run.sh` (bundle {built}); "
           f"{args.elapsed} s of the {args.budget} s budget; "
           f"{'all steps walked' if dry else ('every step passed' if not failed else f'{len(failed)} steps did not pass')}.", ""]
    md += ["| step | result | s | timeout s | note |", "|---|---|---:|---:|---|"]
    for s in steps.values():
        note = s["note"].replace("|", "\\|")  # a | inside a cell would end it
        md.append(f"| {s['name']} | {s['result']} | {s['seconds']} | {s['timeout']} | {note} |")
    md += ["", f"The step timeouts add up to {args.timeouts} s of the {args.budget} s budget."]
    bad_tests = [(n, t) for n, r in tests.items() for t in r["summary"]["failed"] + r["summary"]["skipped"]]
    if bad_tests:
        md += ["", "Failed or skipped tests:", ""] + [f"- {n}: {t}" for n, t in bad_tests[:25]]
        if len(bad_tests) > 25:
            md.append(f"- ... {len(bad_tests) - 25} more (tests.json)")

    rows = [r for name in ("bench", "bench_cudnn") for r in bench_rows(bench_docs.get(name))]
    if rows:
        md += ["", f"Engine benchmark, ms per run (fraction of the GPU's dense peak for the path's arithmetic); "
               f"CUDA events, mean of the repetitions, `engine_bench {args.bench_args}`:", ""] + bench_table(rows)
    table = ncu_table(plan_convs(plan16), kernels)
    if table:
        md += ["", "ncu, one colorize step (width 64, 256 x 256, fp16), the three costliest 3x3 convs by the plan "
               "and by ncu (`--clock-control none`; all of them in ncu.csv):", ""] + table
        missing = [c for c, _ in NCU_METRICS if c not in used]
        if missing:
            md += ["", "Not in the report: " + ", ".join(missing) + "."]
    totals = [l for l in plan16.splitlines() + read(work / "plan_fp32.txt").splitlines()
              if re.match(r"^(segmentation|colorize step):", l) or l.startswith("plan of one")]
    if totals:
        md += ["", "Roofline estimates (`guidingpainter plan --width 64 --size 256`, fp16 then fp32):", "", "```"]
        md += totals + ["```"]
    (out / "summary.md").write_text("\n".join(md) + "\n")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
