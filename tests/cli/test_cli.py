"""The guidingpainter command line: the contract people's scripts rely on.

Run by ctest with GP_CLI=<path of the built binary>; uses the small fixture models
and the bundled sample pictures, on the simulator.
"""
import json
import math
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("GP_CLI", os.path.join(ROOT, "build", "guidingpainter"))
MODEL = os.path.join(ROOT, "tests", "fixtures", "w4_48x40", "model.safetensors")
SKETCH = os.path.join(ROOT, "examples", "samples", "1F3E0-sketch.png")
COLOR = os.path.join(ROOT, "examples", "samples", "1F3E0-color.png")


def run(*args):
    env = dict(os.environ, GP_DEVICE="sim")
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def npy_header(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    (length,) = struct.unpack("<H", data[8:10])
    return data[10:10 + length].decode("latin1"), data[10 + length:]


class CliCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def out(self, name):
        return os.path.join(self.tmp, name)

    def assert_bad_input(self, result, phrase, *outputs):
        """Exit code 2, one line on stderr naming the problem, no output file."""
        self.assertEqual(result.returncode, 2, result.stderr)
        # The simulator's own note of a random schedule's seed (CI's random-schedule pass).
        lines = [l for l in result.stderr.strip().splitlines() if not l.startswith("gpusim: random schedule")]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("guidingpainter: "), lines[0])
        self.assertIn(phrase, lines[0])
        for path in outputs:
            self.assertFalse(os.path.exists(path), path)
        self.assertEqual(os.listdir(self.tmp), [], "nothing may be written, not even a temporary file")


class CliTest(CliCase):

    def test_info(self):
        r = run("info", "--model", MODEL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("width:        4", r.stdout)

    def test_plan_report(self):
        r = run("plan", "--model", MODEL, "--size", "64")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("segmentator, width 4, 64 x 64", r.stdout)
        self.assertIn("up4.conv1", r.stdout)
        self.assertIn("colorize step: 19 conv launches", r.stdout)
        r = run("plan", "--width", "64", "--size", "256", "--gpu", "h100", "--precision", "fp16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("colorize step: 19 conv launches, 82.39 GFLOP, roofline", r.stdout)
        # The model's bounds per tensor-core conv (issue 23): occupancy, waves, roofline, issue,
        # tensor and latency, and which holds; every 3x3 conv of the plan has them.
        self.assertIn("blk/SM waves  roof us issue us   tensor  latency  est. us bound", r.stdout)
        rows = [l.split() for l in r.stdout.splitlines() if "conv3x3_mma_bias_relu" in l]
        self.assertEqual(len(rows), 36)
        for row in rows:
            self.assertIn(row[-1], ("issue", "tensor", "latency", "memory", "compute"), row)
            self.assertGreaterEqual(float(row[14]), max(float(v) for v in row[10:14]), row)
        self.assert_bad_input(run("plan", "--width", "8", "--gpu", "tpu"), "--gpu tpu")
        self.assert_bad_input(run("plan", "--width", "8", "--size", "8"), "too small")

    def test_colorize_writes_png_raw_and_labels(self):
        png, raw, labels = self.out("o.png"), self.out("raw.npy"), self.out("labels.npy")
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "64", "-o", png,
                "--reference", COLOR, "--hints", "3", "--hint", "1=#ff8800", "--raw", raw, "--labels", labels)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        header, data = npy_header(raw)
        self.assertIn("'descr': '<f4'", header)
        self.assertIn("'shape': (3, 64, 64)", header)
        self.assertEqual(len(data), 3 * 64 * 64 * 4)
        header, data = npy_header(labels)
        self.assertIn("'descr': '<i4'", header)
        self.assertIn("'shape': (64, 64)", header)
        ids = struct.unpack(f"<{64 * 64}i", data)
        self.assertTrue(all(0 <= i < 30 for i in ids))

    def test_regions_json_and_overlay(self):
        png, js = self.out("overlay.png"), self.out("regions.json")
        r = run("regions", "--model", MODEL, "--sketch", SKETCH, "--size", "48", "-o", png, "--json", js)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(js) as f:
            regions = json.load(f)
        self.assertGreater(len(regions), 0)
        self.assertEqual([r["rank"] for r in regions], list(range(1, len(regions) + 1)))
        ids = [r["id"] for r in regions]
        self.assertEqual(ids, sorted(ids))
        for reg in regions:
            self.assertEqual(list(reg), ["rank", "id", "pixels", "box"])
            x0, y0, x1, y1 = reg["box"]
            self.assertTrue(0 <= x0 <= x1 < 48 and 0 <= y0 <= y1 < 48)
        self.assertTrue(os.path.exists(png))

    def test_eval_writes_json(self):
        data = self.out("data")
        for sub in ("sketch", "color"):
            os.makedirs(os.path.join(data, sub))
        for name in ("1F3E0", "1F388"):
            shutil.copy(os.path.join(ROOT, "examples", "samples", f"{name}-sketch.png"), os.path.join(data, "sketch", f"{name}.png"))
            shutil.copy(os.path.join(ROOT, "examples", "samples", f"{name}-color.png"), os.path.join(data, "color", f"{name}.png"))
        js = self.out("eval.json")
        r = run("eval", "--model", MODEL, "--data", data, "--size", "32", "--hints", "0,1,2", "--order", "random", "--json", js)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(js) as f:
            result = json.load(f)
        self.assertEqual(result["order"], "random")
        self.assertEqual(result["images"], 2)
        self.assertEqual(result["hints"], [0, 1, 2])
        self.assertEqual(len(result["psnr"]), 3)
        self.assertEqual(len(result["flat_psnr"]), 3)
        self.assertIn("hints", r.stdout)

    # ---- bad input: exit 2, one line, nothing written

    def test_missing_model(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", self.out("nope.safetensors"), "--sketch", SKETCH, "-o", png),
                              "nope.safetensors", png)

    def test_model_not_safetensors(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", SKETCH, "--sketch", SKETCH, "-o", png), "1F3E0-sketch.png", png)

    def test_truncated_model(self):
        bad = os.path.join(tempfile.mkdtemp(), "cut.safetensors")
        with open(MODEL, "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", bad, "--sketch", SKETCH, "-o", png), "cut.safetensors", png)
        shutil.rmtree(os.path.dirname(bad))

    def test_missing_sketch(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", self.out("none.png"), "-o", png),
                              "none.png", png)

    def test_sketch_not_an_image(self):
        fake = os.path.join(tempfile.mkdtemp(), "fake.png")
        with open(fake, "w") as f:
            f.write("this is not a picture\n")
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", fake, "-o", png), "fake.png", png)
        shutil.rmtree(os.path.dirname(fake))

    def jpeg_sketch(self, directory):
        from PIL import Image
        path = os.path.join(directory, "sketch.jpg")
        Image.open(SKETCH).convert("RGB").save(path, quality=92)
        return path

    def test_jpeg_sketch_colorizes(self):
        src = tempfile.mkdtemp()
        png = self.out("o.png")
        r = run("colorize", "--model", MODEL, "--sketch", self.jpeg_sketch(src), "--size", "32", "-o", png,
                "--hint", "1=#ff8800")
        shutil.rmtree(src)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_truncated_jpeg_sketch(self):
        # Cut in the middle of its scan data: refused, not decoded with an invented rest.
        src = tempfile.mkdtemp()
        path = self.jpeg_sketch(src)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:len(data) * 2 // 3])
        png = self.out("o.png")
        r = run("colorize", "--model", MODEL, "--sketch", path, "-o", png)
        shutil.rmtree(src)
        self.assert_bad_input(r, "sketch.jpg: corrupt or unsupported JPEG file", png)

    def test_rank_out_of_range(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", png,
                                  "--hint", "31=#ff0000"), "out of range", png)

    def test_bad_colour(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "-o", png, "--hint", "1=#ff00zz"),
                              "hex digit", png)

    def test_size_not_positive(self):
        png = self.out("o.png")
        for size in ("0", "-3", "abc"):
            self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", size, "-o", png),
                                  "--size", png)

    def test_reference_needs_hint_count(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "-o", png, "--reference", COLOR),
                              "--reference and --hints", png)

    def test_unwritable_output_leaves_nothing(self):
        png = os.path.join(self.tmp, "missing-dir", "o.png")
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", png)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertEqual(os.listdir(self.tmp), [])


class OutputFilesTest(CliCase):
    """-o and the other outputs are written as cp writes files, and checked first."""

    def colorize(self, out, *extra):
        return run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", out, *extra)

    def reference_png(self):
        ref = self.out("ref.png")
        r = self.colorize(ref)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(ref, "rb") as f:
            return f.read()

    def test_symlink_is_followed_and_kept(self):
        expected = self.reference_png()
        os.makedirs(self.out("real"))
        target = self.out("real/target.png")
        with open(target, "wb") as f:
            f.write(b"old")
        os.symlink("real/target.png", self.out("link.png"))
        r = self.colorize(self.out("link.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.islink(self.out("link.png")))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), expected)

    def test_hard_linked_mode_600_file_keeps_inode_and_mode(self):
        expected = self.reference_png()
        path, other = self.out("a.png"), self.out("b.png")
        with open(path, "wb") as f:
            f.write(b"old")
        os.chmod(path, 0o600)
        os.link(path, other)
        inode = os.stat(path).st_ino
        r = self.colorize(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(path)
        self.assertEqual(st.st_ino, inode)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_nlink, 2)
        with open(other, "rb") as f:
            self.assertEqual(f.read(), expected)

    def test_dev_null_and_a_fifo_are_written(self):
        expected = self.reference_png()
        r = self.colorize("/dev/null")
        self.assertEqual(r.returncode, 0, r.stderr)
        fifo = self.out("pipe")
        os.mkfifo(fifo)
        got = []
        def read():
            with open(fifo, "rb") as f:
                got.append(f.read())

        reader = threading.Thread(target=read)
        reader.start()
        r = self.colorize(fifo)
        reader.join(timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(got, [expected])
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")

    def test_picture_to_a_pipe_on_stdout(self):
        expected = self.reference_png()
        r = subprocess.run([CLI, "colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", "/dev/stdout"],
                           capture_output=True, env=dict(os.environ, GP_DEVICE="sim"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, expected)  # the summary line went to stderr
        self.assertIn(b"colorized", r.stderr)

    def test_dev_full_fails_and_stays_a_device(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        r = self.colorize("/dev/full")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/dev/full", r.stderr)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/full").st_mode))

    def test_empty_name_and_unknown_extensions_are_refused(self):
        self.assert_bad_input(self.colorize(""), '-o ""')
        for name in ("o.jpg", "o.tiff", "o"):
            self.assert_bad_input(self.colorize(self.out(name)), "name the file .png", self.out(name))
        self.assert_bad_input(self.colorize(self.out("o.png"), "--raw", self.out("raw.png")), ".npy", self.out("o.png"))
        self.assert_bad_input(self.colorize(self.out("o.png"), "--labels", self.out("o.png")[:-4] + ".npy",
                                            "--raw", self.out("o.npy")), "name the same file", self.out("o.png"))
        self.assert_bad_input(self.colorize(self.out("o.PNG"), "--raw", ""), '--raw ""')

    def test_missing_folder_is_refused_before_any_work(self):
        png = os.path.join(self.tmp, "missing-dir", "o.png")
        start = time.monotonic()
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "1024", "-o", png)
        elapsed = time.monotonic() - start
        self.assert_bad_input(r, "missing-dir", png)
        self.assertLess(elapsed, 1.5)
        start = time.monotonic()
        r = run("eval", "--model", MODEL, "--data", ROOT, "--json", os.path.join(self.tmp, "missing-dir", "e.json"))
        self.assert_bad_input(r, "missing-dir")
        self.assertLess(time.monotonic() - start, 1.5)

    def test_failed_run_leaves_the_old_file(self):
        png = self.out("o.png")
        with open(png, "wb") as f:
            f.write(b"old picture")
        r = self.colorize(png, "--hint", "99=#ff0000")
        self.assertEqual(r.returncode, 2)
        with open(png, "rb") as f:
            self.assertEqual(f.read(), b"old picture")


class ProgressAndInterruptTest(CliCase):
    def test_terminal_progress_and_sigint(self):
        """2048 x 2048 on the simulator under a pseudo-terminal: the progress line moves,
        SIGINT 5 s in ends it within 3 s with status 130 and no file."""
        import pty
        import select
        import signal
        png = self.out("big.png")
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["GP_DEVICE"] = "sim"
            os.execv(CLI, [CLI, "colorize", "--sketch", SKETCH, "--size", "2048", "-o", png])
        seen = b""

        def drain(seconds):
            nonlocal seen
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if ready:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:  # the child closed the terminal
                        return False
                    if not chunk:
                        return False
                    seen += chunk
            return True

        drain(5.0)
        updates = seen.count(b"\r\x1b[K")
        os.kill(pid, signal.SIGINT)
        sent = time.monotonic()
        status = None
        while status is None and time.monotonic() - sent < 10:
            drain(0.1)
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        elapsed = time.monotonic() - sent
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
        self.assertIsNotNone(status, "still running 10 s after SIGINT")
        self.assertLess(elapsed, 3.0)
        self.assertTrue(os.WIFEXITED(status))
        self.assertEqual(os.WEXITSTATUS(status), 130, seen[-300:])
        self.assertGreaterEqual(updates, 3, seen[-300:])
        self.assertIn(b"cancelled by SIGINT", seen)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_progress_flag_without_a_terminal(self):
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", self.out("o.png"), "--progress")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("segment 1/", r.stderr)
        self.assertIn("colorize 19/19", r.stderr)
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", self.out("o.png"))
        self.assertNotIn("segment", r.stderr)  # quiet when stderr is no terminal


class MemoryCheckTest(CliCase):
    def test_a_size_that_does_not_fit_is_refused_before_allocating(self):
        png = self.out("big.png")
        start = time.monotonic()
        r = subprocess.run([CLI, "colorize", "--sketch", SKETCH, "--size", "2048", "-o", png], capture_output=True,
                           text=True, env=dict(os.environ, GP_DEVICE="sim", GPUSIM_DEVICE_BYTES="100000000"))
        self.assertLess(time.monotonic() - start, 1.5)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("2048 x 2048 needs about", r.stderr)
        self.assertIn("0.08 GiB available", r.stderr)
        self.assertEqual(os.listdir(self.tmp), [])


class SmallFindingsTest(CliCase):
    def test_hint_colour_needs_the_hash(self):
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "-o", self.out("o.png"),
                                  "--hint", "1=FF0000"), "starts with '#'")

    def test_duplicate_rank_is_refused(self):
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "-o", self.out("o.png"),
                                  "--hint", "2=#FF0000", "--hint", "2=#00FF00"), "rank 2 is given twice")

    def test_unknown_command_is_named(self):
        self.assert_bad_input(run("bogus"), "unknown command 'bogus'")

    def test_common_options_before_the_command(self):
        r = run("--device", "sim", "info", "--model", MODEL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("gpusim", r.stdout)
        r = run("--model", MODEL, "--device=sim", "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("width:        4", r.stdout)

    def test_size_that_is_no_number(self):
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "abc", "-o",
                                  self.out("o.png")), "'abc' is not a whole number from 1 to 8192")

    def test_min_region_out_of_range(self):
        r = run("regions", "--model", MODEL, "--sketch", SKETCH, "--min-region", "1.5", "-o", self.out("o.png"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--min-region", r.stderr)
        self.assertFalse(os.path.exists(self.out("o.png")))

    def test_min_region_zero_ranks_every_region(self):
        every = run("regions", "--model", MODEL, "--device", "sim", "--sketch", SKETCH, "--size", "48", "--min-region",
                    "0", "-o", self.out("a.png"), "--json", self.out("a.json"))
        self.assertEqual(every.returncode, 0, every.stderr)
        fewer = run("regions", "--model", MODEL, "--device", "sim", "--sketch", SKETCH, "--size", "48", "--min-region",
                    "0.05", "-o", self.out("b.png"), "--json", self.out("b.json"))
        self.assertEqual(fewer.returncode, 0, fewer.stderr)
        with open(self.out("a.json")) as f:
            a = json.load(f)
        with open(self.out("b.json")) as f:
            b = json.load(f)
        least = math.ceil(0.05 * 48 * 48)
        self.assertEqual([r["id"] for r in b], [r["id"] for r in a if r["pixels"] >= least])

    def test_empty_hint_counts(self):
        self.assert_bad_input(run("eval", "--model", MODEL, "--data", ROOT, "--hints", ""), "at least one hint count")

    def test_ground_truth_of_another_size(self):
        data = self.out("data")
        for sub in ("sketch", "color"):
            os.makedirs(os.path.join(data, sub))
        shutil.copy(SKETCH, os.path.join(data, "sketch", "a.png"))
        # A PNG of another size as the ground truth: the overlay of the sketch at 32.
        r = run("regions", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", os.path.join(data, "color", "a.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("eval", "--model", MODEL, "--data", data)
        self.assertEqual(r.returncode, 2)
        self.assertIn("but its sketch is", r.stderr)

    def test_bad_model_header_prints_no_raw_bytes(self):
        bad = self.out("bad.safetensors")
        header = b'{"a":\xff\xfe\x01\x02 bad'
        with open(bad, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header)
        r = subprocess.run([CLI, "info", "--model", bad], capture_output=True, env=dict(os.environ, GP_DEVICE="sim"))
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"not valid JSON", r.stderr)
        self.assertTrue(all(32 <= c < 127 for c in r.stderr.strip()), r.stderr)
        os.remove(bad)


class NewUserFindingsTest(CliCase):
    """What a new user hit (issue 22): each case failed before its fix."""

    def test_stdout_redirected_to_a_file(self):
        # `-o /dev/stdout > x.png`: the shell's file, not a pipe, behind the name.
        png, x = self.out("o.png"), self.out("x.png")
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", png)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(x, "wb") as f:
            r = subprocess.run([CLI, "colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", "/dev/stdout"],
                               stdout=f, stderr=subprocess.PIPE, text=True, env=dict(os.environ, GP_DEVICE="sim"), timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(png, "rb") as a, open(x, "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertIn("colorized", r.stderr)  # the summary goes to stderr, not into the picture

    def test_output_over_an_input_is_refused(self):
        sketch = self.out("s.png")
        shutil.copy(SKETCH, sketch)
        os.link(sketch, self.out("hard.png"))
        os.symlink("s.png", self.out("soft.png"))
        with open(SKETCH, "rb") as f:
            original = f.read()
        for out in ("s.png", "hard.png", "soft.png"):
            for command in (["colorize", "--model", MODEL, "--sketch", sketch, "--size", "32", "-o", self.out(out)],
                            ["regions", "--model", MODEL, "--sketch", sketch, "--size", "32", "-o", self.out(out)]):
                r = run(*command)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("is the input --sketch " + sketch, r.stderr)
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--reference", sketch, "--hints", "1", "--size", "32",
                "-o", self.out("o.png"), "--flats", self.out("soft.png"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--flats " + self.out("soft.png") + " is the input --reference", r.stderr)
        with open(sketch, "rb") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["hard.png", "s.png", "soft.png"])

    def test_device_bytes_take_units_and_refuse_what_they_cannot_read(self):
        def regions(value, size):
            env = dict(os.environ, GP_DEVICE="sim", GPUSIM_DEVICE_BYTES=value)
            return subprocess.run([CLI, "regions", "--model", MODEL, "--sketch", SKETCH, "--size", size, "-o", self.out("o.png")],
                                  capture_output=True, text=True, env=env, timeout=300)
        for value in ("4X", "G", "-1", "0", "1.5.2G", "4 G"):
            r = regions(value, "32")
            self.assertEqual(r.returncode, 2, value + ": " + r.stderr)
            self.assertIn(f"GPUSIM_DEVICE_BYTES='{value}' is not a byte count", r.stderr)
        # 8192 needs far more than 1 GiB: refused naming the simulated device's 1.00 GiB.
        for value in ("1Gi", "1GiB", "1024Mi", "1073741824"):
            r = regions(value, "8192")
            self.assertEqual(r.returncode, 2, value + ": " + r.stderr)
            self.assertIn("has 1.00 GiB available", r.stderr)
        r = regions("2G", "32")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_an_enlarging_working_size_is_noted(self):
        from PIL import Image
        small = self.out("small.png")
        Image.new("RGB", (16, 20), "white").save(small)
        r = run("regions", "--model", MODEL, "--sketch", small, "--size", "64", "-o", self.out("o.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("note: the working size 51 x 64 enlarges the 16 x 20 sketch 3.2x; it needs about", r.stderr)
        r = run("regions", "--model", MODEL, "--sketch", small, "--size", "40", "-o", self.out("o.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("note:", r.stderr)

    def test_two_points_in_one_area_are_refused(self):
        sketch = os.path.join(ROOT, "examples", "samples", "1F3E0-sketch.png")
        r = run("colorize", "--model", MODEL, "--sketch", sketch, "--size", "32", "--hint-at", "80,210=#7A3B10",
                "--hint-at", "82,212=#00FF00", "-o", self.out("o.png"))
        self.assert_bad_input(r, "--hint-at 82,212 and --hint-at 80,210 lie in the same closed area")

    def test_a_file_that_is_not_safetensors_is_named_so(self):
        r = run("info", "--model", os.path.join(ROOT, "weights", "README.md"))
        self.assert_bad_input(r, "README.md: not a safetensors file (it begins with the text \"#")
        r = run("info", "--model", SKETCH)
        self.assert_bad_input(r, "not a safetensors file (it begins with \"\\x89PNG\", a PNG picture)")


if __name__ == "__main__":
    unittest.main()
