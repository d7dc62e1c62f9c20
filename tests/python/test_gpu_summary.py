#!/usr/bin/python3
"""The GPU check's verdict (scripts/gpu_summary.py) on the files a run on a GPU leaves:
what passes, what a skip means, tools the machine does not allow, cuDNN that does not
load, the CLI's cuda-against-sim comparison, the benchmark and ncu tables. No GPU needed:
the inputs are written here in the formats of gtest 1.12, Google Benchmark 1.7 and ncu's
raw CSV page.

Run: /usr/bin/python3 -m unittest tests/python/test_gpu_summary.py   (under a second)
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "scripts" / "gpu_summary.py"

PLAN = """plan of one inference, fp16, on NVIDIA H100 SXM (132 SMs at 1.98 GHz, 67.0 TFLOP/s fp32, 989 TFLOP/s fp16/bf16 tensor, 3.35 TB/s)

colorizer, width 64, 256 x 256:
layer        kernel                         gather    out HxWxC     tile     grid        GFLOP       MB blk/SM waves  roof us issue us   tensor  latency  est. us bound
inc.conv1    conv3x3_mma_bias_relu          colorizer 256x256x64    64x64    1024x1      2.642     8.76     5     2     4.11     1.10     1.20     1.00     2.67 roof
up1.conv1    conv3x3_mma_bias_relu          upconcat  32x32x512     32x64    32x8        9.664    11.80     9     1    15.03     9.00     8.00     7.00     9.77 issue
up2.conv1    conv3x3_mma_bias_relu          upconcat  64x64x256     32x64    128x4       9.664     7.08     9     1    15.03     9.00     8.00     7.00     9.77 issue
up4.conv1    conv3x3_mma_bias_relu          upconcat  256x256x64    64x64    1024x1      9.664    19.02     5     2    15.03     9.00     8.00     7.00     9.77 issue
outc         conv1x1_bias_tanh (16-bit in)  plain     256x256x3     64x64    1024x1      0.025     8.78     -     -     3.28        -        -        -     4.78 memory
total                                                                                   82.393   170.55               141.24                              425.35

colorize step: 19 conv launches, 82.39 GFLOP, roofline 141.2 us, est. 429.8 us
"""

STEPS = ["bundle", "tensor_core_conformance", "graph_capture", "kernel_tests", "engine_tests", "cli_selftest",
         "cli_cuda", "cli_sim", "bench", "plan", "ncu", "memcheck", "racecheck", "synccheck", "cudnn_tests",
         "bench_cudnn"]


def gtest(tests):
    """gtest's JSON for {"Suite.name": "COMPLETED" | "SKIPPED" | "FAILED"}."""
    suites = {}
    for name, result in tests.items():
        suite, test = name.split(".", 1)
        t = {"name": test, "status": "RUN", "result": "SKIPPED" if result == "SKIPPED" else "COMPLETED"}
        if result == "FAILED":
            t["failures"] = [{"failure": "x.cu:12\nExpected equality", "type": ""}]
        suites.setdefault(suite, []).append(t)
    return {"testsuites": [{"name": s, "testsuite": ts} for s, ts in suites.items()]}


def bench(names):
    rows = []
    for i, name in enumerate(names):
        for agg, ms in (("mean", 0.5 + i), ("stddev", 0.01)):
            rows.append({"name": f"{name}/manual_time_{agg}", "run_name": f"{name}/manual_time", "run_type": "aggregate",
                         "aggregate_name": agg, "ms": ms, "GFLOP": 5.06, "GFLOP/s": 5.06 / ms * 1e3, "peak": 0.12})
    return {"context": {}, "benchmarks": rows}


def npy(path, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    Path(path).write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
                           + struct.pack(f"<{len(values)}f", *values))


NCU_COLUMNS = ["ID", "Kernel Name", "Grid Size", "gpu__time_duration.sum",
               "sm__throughput.avg.pct_of_peak_sustained_elapsed",
               "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",
               "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
               "sm__inst_issued.avg.pct_of_peak_sustained_active", "sm__warps_active.avg.pct_of_peak_sustained_active"]


def ncu_csv(durations_us):
    q = lambda row: ",".join(f'"{v}"' for v in row)  # noqa: E731
    lines = ["==PROF== a line that is not CSV", q(NCU_COLUMNS), q(["", "", "", "usecond", "%", "%", "%", "%", "%"])]
    for i, d in enumerate(durations_us):
        lines.append(q([i, "conv3x3_mma_kernel", "(1024, 1, 1)", f"{d:,.2f}", "61.5", "40.1", "35.2", "48.0", "30.3"]))
    return "\n".join(lines) + "\n"


class Run:
    """A work and an output folder as gpu_run.sh leaves them after every step passed."""

    def __init__(self, tmp):
        self.work, self.out = Path(tmp, "work"), Path(tmp, "out")
        self.work.mkdir()
        self.out.mkdir()
        self.steps = {name: ["pass", "1", "30", "0", ""] for name in STEPS}
        for name in ("tensor_core_conformance", "graph_capture"):
            self.log(name, "mma m16n8k16 f16: OK\nldmatrix x4: OK\nALL OK\n")
        self.json("kernel_tests.json", gtest({"ConvMmaPlain.Fp16": "COMPLETED", "AreaLabels.Spiral": "COMPLETED"}))
        self.json("engine_tests.json", gtest({"Fixtures/Stages.Seg": "COMPLETED",
                                              "SessionControl.SessionOnAnotherThreadRunsOnItsModelsGpu": "SKIPPED"}))
        self.json("cudnn_tests.json", gtest({"Cudnn.Matches": "COMPLETED"}))
        self.log("cli_selftest", "selftest on NVIDIA H100 80GB HBM3: channel argmax over 30 channels at 33 x 47: ok\n")
        npy(self.work / "cli_cuda.npy", [0.5, -0.25, 0.125])
        npy(self.work / "cli_sim.npy", [0.5, -0.25, 0.12501])
        self.json("bench_cuda.json", bench(["BM_Segment/cuda/size:256/width:16", "BM_Segment/cuda_fp16_graph/size:256/width:16",
                                            "BM_Colorize/cuda/size:512/width:64"]))
        self.json("bench_cudnn.json", bench(["BM_Segment/cudnn/size:256/width:16"]))
        (self.work / "plan_fp16.txt").write_text(PLAN)
        (self.out / "ncu.csv").write_text(ncu_csv([2.5, 9.0, 7.5, 12.0]))
        for tool in ("memcheck", "synccheck"):
            self.log(tool, "[  PASSED  ] 71 tests.\n========= ERROR SUMMARY: 0 errors\n")
        self.log("racecheck", "[  PASSED  ] 71 tests.\n========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)\n")

    def log(self, name, text):
        (self.work / f"{name}.log").write_text(text)

    def json(self, name, doc):
        (self.work / name).write_text(json.dumps(doc))

    def summarise(self, gpus=1, dry=0):
        (self.work / "steps.tsv").write_text("".join("\t".join([n] + f) + "\n" for n, f in self.steps.items()))
        p = subprocess.run([sys.executable, str(SUMMARY), "--work", str(self.work), "--out", str(self.out),
                            "--gpu", "NVIDIA H100 80GB HBM3", "--cap", "9.0", "--driver", "580.159.04",
                            "--gpus", str(gpus), "--dry", str(dry), "--elapsed", "250", "--budget", "420",
                            "--timeouts", "390", "--commit", "abc1234"], capture_output=True, text=True)
        self.summary = (self.out / "summary.md").read_text() if (self.out / "summary.md").exists() else ""
        return p.returncode, p.stderr

    def result(self, step):
        doc = json.loads((self.out / "tests.json").read_text())
        return next(s for s in doc["steps"] if s["name"] == step)


class Verdict(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_ = Run(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_run_where_everything_passed(self):
        rc, err = self.run_.summarise()
        self.assertEqual(rc, 0, err + self.run_.summary)
        s = self.run_.summary
        self.assertIn("commit abc1234, NVIDIA H100 80GB HBM3 (sm_90, driver 580.159.04)", s)
        self.assertIn("every step passed", s)
        self.assertIn("1 skipped as expected (needs two GPUs)", s)
        self.assertIn("max \\|cuda - sim\\| 1.00e-05", s)
        # The benchmark table: one row per U-Net, size and width, one column per path.
        self.assertIn("| U-Net | size | width | GFLOP | cuda | cuda_fp16_graph | cudnn |", s)
        self.assertIn("| Segment | 256 | 16 | 5.06 | 0.500 (12%) | 1.500 (12%) | 0.500 (12%) |", s)
        # ncu: the plan's three costliest (est. us, then bytes) and ncu's, each once.
        self.assertIn("| up4.conv1 | plan+ncu | 1024x1 / 1024x1 | 9.77 | 12.0 | 61.5 | 40.1 | 35.2 | 48.0 | 30.3 |", s)
        self.assertIn("| up1.conv1 | plan+ncu |", s)
        self.assertIn("| up2.conv1 | plan+ncu |", s)
        self.assertNotIn("| inc.conv1 |", s)
        self.assertIn("RACECHECK SUMMARY: 0 hazards", (self.run_.out / "sanitizer.txt").read_text())
        self.assertEqual(sorted(os.listdir(self.run_.out)), ["bench.json", "ncu.csv", "sanitizer.txt", "summary.md", "tests.json"])

    def test_a_skip_on_a_gpu_machine_is_a_failure(self):
        self.run_.json("kernel_tests.json", gtest({"ConvMmaPlain.Fp16": "SKIPPED"}))
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 1)
        self.assertEqual(self.run_.result("kernel_tests")["result"], "fail")
        self.assertIn("kernel_tests: ConvMmaPlain.Fp16", self.run_.summary)

    def test_the_two_gpu_test_must_run_where_there_are_two(self):
        rc, _ = self.run_.summarise(gpus=2)
        self.assertEqual(rc, 1)
        self.assertIn("SessionControl.SessionOnAnotherThreadRunsOnItsModelsGpu", self.run_.summary)

    def test_a_failed_test_fails_the_step_even_when_the_binary_exited_zero(self):
        self.run_.json("engine_tests.json", gtest({"Fixtures/Stages.Seg": "FAILED"}))
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 1)
        self.assertIn("Fixtures/Stages.Seg: x.cu:12", self.run_.summary)

    def test_conformance_needs_all_ok(self):
        self.run_.log("graph_capture", "no CUDA device: skipped\n")  # exit 77 would already fail; 0 without ALL OK too
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 1)
        self.assertEqual(self.run_.result("graph_capture")["note"], "no ALL OK")

    def test_cli_outputs_that_differ_fail(self):
        npy(self.run_.work / "cli_sim.npy", [0.5, -0.25, 0.2])
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 1)
        self.assertEqual(self.run_.result("cli_cuda")["result"], "fail")

    def test_a_sanitizer_the_machine_refuses_is_unavailable_not_failed(self):
        self.run_.steps["racecheck"][0] = "fail"
        self.run_.log("racecheck", "========= Error: Device not supported\n")
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 0, self.run_.summary)
        self.assertEqual(self.run_.result("racecheck")["result"], "unavailable")

    def test_a_hazard_fails(self):
        self.run_.steps["racecheck"][0:5] = ["fail", "3", "35", "97"]
        self.run_.log("racecheck", "========= Error: Race reported between Write access at areas.cu:101\n"
                                   "========= RACECHECK SUMMARY: 1 hazard displayed (1 error, 0 warnings)\n")
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 1)
        self.assertIn("Race reported between Write access at areas.cu:101", (self.run_.out / "sanitizer.txt").read_text())

    def test_cudnn_that_does_not_load_is_skipped_with_the_reason(self):
        self.run_.steps["cudnn_tests"][0] = "fail"
        (self.run_.work / "cudnn_tests.json").unlink()
        self.run_.log("cudnn_tests", "cudnn_tests: error while loading shared libraries: libcudnn.so.9: cannot open shared object file\n")
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 0, self.run_.summary)
        step = self.run_.result("cudnn_tests")
        self.assertEqual(step["result"], "skipped")
        self.assertIn("cuDNN did not load: error while loading shared libraries", step["note"])

    def test_a_timeout_fails_and_keeps_what_was_printed(self):
        self.run_.steps["bench"][0:5] = ["timeout", "55", "55", "124"]
        (self.run_.work / "bench_cuda.json").write_text('{"benchmarks": [')  # cut off
        self.run_.log("bench", "BM_Segment/cuda/size:256/width:16/manual_time_mean 0.5 ms\n")
        rc, _ = self.run_.summarise()
        self.assertEqual(rc, 1)
        doc = json.loads((self.run_.out / "bench.json").read_text())
        self.assertIn("BM_Segment/cuda/size:256", doc["bench"]["partial console output"])

    def test_a_dry_run_passes_when_every_step_was_walked(self):
        for name in self.run_.steps:
            self.run_.steps[name] = ["dry", "0", "30", "0", ""]
        self.run_.steps["plan"][0] = "pass"
        rc, _ = self.run_.summarise(gpus=0, dry=1)
        self.assertEqual(rc, 0, self.run_.summary)
        self.assertIn("**Dry run**", self.run_.summary)


if __name__ == "__main__":
    unittest.main()
