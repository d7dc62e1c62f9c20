"""The Python API (python/guidingpainter) against the CLI and the library's own rules.

Run by ctest (`python.api`, on the build tree's package) and by scripts/check_python.sh
(on the package `pip install .` put in a fresh virtual environment). GP_CLI names the
guidingpainter program to compare with; GP_DEVICE=sim is set by both.
"""

import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import guidingpainter as gp

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "samples" / "1F3E0-sketch.png"
REFERENCE = ROOT / "examples" / "samples" / "1F3E0-color.png"
SMALL_MODEL = ROOT / "tests" / "fixtures" / "w4_48x40" / "model.safetensors"
CLI = os.environ.get("GP_CLI", str(ROOT / "build" / "guidingpainter"))
SIZE = 64  # working size: small enough for the simulator, not a multiple of any tile


@pytest.fixture(scope="module")
def model():
    return gp.Model.load(SMALL_MODEL, device="sim")


@pytest.fixture(scope="module")
def bundled():
    return gp.Model.load(device="sim")


def cli(*args):
    run = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env={**os.environ, "GP_DEVICE": "sim"})
    assert run.returncode == 0, run.stderr
    return run


def test_version_is_the_library_s():
    assert gp.__version__ == cli("--version").stdout.split()[-1]
    assert gp.__version__.count(".") == 2


def test_bundled_model_loads_without_a_path(bundled):
    assert Path(bundled.path).name == "guidingpainter-emoji.safetensors"
    assert Path(bundled.path).resolve() == Path(gp.bundled_model_path()).resolve()
    assert bundled.precision == "fp32" and "gpusim" in bundled.device
    assert bundled.num_regions == 30 and bundled.width > 0 and bundled.train_size > 0


def test_missing_model_raises_error_with_the_library_s_message():
    with pytest.raises(gp.Error, match="nope.safetensors") as e:
        gp.Model.load("/nonexistent/nope.safetensors")
    assert e.value.kind == "io"
    assert isinstance(e.value, RuntimeError)


def test_bad_model_file_is_a_format_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(gp.Error) as e:
        gp.Model.load(bad, device="sim")
    assert e.value.kind == "format" and "bad.safetensors" in str(e.value)


def test_bad_options_are_argument_errors():
    for kwargs in ({"device": "tpu"}, {"precision": "fp8"}, {"gpu_index": -1}):
        with pytest.raises(gp.Error) as e:
            gp.Model.load(SMALL_MODEL, **kwargs)
        assert e.value.kind == "argument", kwargs


def test_regions_cover_the_working_picture(model):
    s = gp.Session(model, SAMPLE, size=SIZE, min_region=0)   # every non-empty region ranked
    assert (s.width, s.height) == (SIZE, SIZE)
    regions = s.regions
    assert [r.rank for r in regions] == list(range(1, len(regions) + 1))
    assert [r.id for r in regions] == sorted(r.id for r in regions)
    assert sum(r.pixels for r in regions) == SIZE * SIZE
    labels = s.labels
    assert labels.dtype == np.int32 and labels.shape == (SIZE, SIZE)
    for r in regions:
        mask = s.region_mask(r.rank)
        assert mask.dtype == np.uint8 and mask.shape == (SIZE, SIZE)
        np.testing.assert_array_equal(mask, (labels == r.id).astype(np.uint8))
        ys, xs = np.nonzero(mask)
        assert r.box == (xs.min(), ys.min(), xs.max(), ys.max())
        assert r.pixels == len(xs)
        assert repr(r).startswith(f"Region(rank={r.rank}, id={r.id}")


def test_small_regions_get_no_rank(model):
    every = gp.Session(model, SAMPLE, size=SIZE, min_region=0).regions
    for fraction in (None, 0.001, 0.05):
        s = gp.Session(model, SAMPLE, size=SIZE) if fraction is None else gp.Session(model, SAMPLE, size=SIZE,
                                                                                     min_region=fraction)
        least = max(4, math.ceil((0.001 if fraction is None else fraction) * SIZE * SIZE))
        assert [r.id for r in s.regions] == [r.id for r in every if r.pixels >= least], fraction
    for bad in (-0.5, 1.0):
        with pytest.raises(gp.Error) as e:
            gp.Session(model, SAMPLE, size=SIZE, min_region=bad)
        assert e.value.kind == "argument" and "min_region" in str(e.value)


def test_array_path_grey_and_strided_inputs_agree(model):
    rgb = gp.load_image(SAMPLE)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    from_path = gp.Session(model, SAMPLE, size=SIZE)
    from_pathlike = gp.Session(model, Path(SAMPLE), size=SIZE)
    from_array = gp.Session(model, rgb, size=SIZE)
    for other in (from_pathlike, from_array):
        np.testing.assert_array_equal(other.labels, from_path.labels)
    # A sketch is grey: H x W gives what H x W x 3 of the same values gives.
    grey = np.ascontiguousarray(rgb[:, :, 0])
    np.testing.assert_array_equal(gp.Session(model, grey, size=SIZE).labels,
                                  gp.Session(model, np.repeat(grey[:, :, None], 3, axis=2), size=SIZE).labels)
    # Any strides: a mirrored view is read as the mirrored picture.
    mirrored = rgb[:, ::-1, :]
    assert not mirrored.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(gp.Session(model, mirrored, size=SIZE).labels,
                                  gp.Session(model, np.ascontiguousarray(mirrored), size=SIZE).labels)


@pytest.mark.parametrize("bad", [
    np.zeros((8, 8), dtype=np.float32) + 0.5,
    np.full((8, 8, 4), 200, dtype=np.uint8),
    np.full((8,), 200, dtype=np.uint8),
    np.full((0, 8), 200, dtype=np.uint8),
    42,
])
def test_bad_images_are_refused(model, bad):
    with pytest.raises(gp.Error) as e:
        gp.Session(model, bad, size=SIZE)
    assert e.value.kind == "argument"


def test_bad_sketch_file_is_refused(model, tmp_path):
    with pytest.raises(gp.Error) as e:
        gp.Session(model, tmp_path / "missing.png")
    assert e.value.kind == "io" and "missing.png" in str(e.value)
    not_png = tmp_path / "x.png"
    not_png.write_bytes(b"this is not a picture")
    with pytest.raises(gp.Error) as e:
        gp.Session(model, not_png)
    assert e.value.kind == "format"


def test_bad_hints_are_refused(model):
    s = gp.Session(model, SAMPLE, size=SIZE)
    n = len(s.regions)
    for rank in (0, n + 1, 99):
        with pytest.raises(gp.Error, match="out of range") as e:
            s.set_hint(rank, (10, 20, 30))
        assert e.value.kind == "argument"
    for colour in ("#12345", "123456", "#GG0000", (256, 0, 0), (-1, 0, 0), (1, 2), (1, 2, "3"), (True, 0, 0), None):
        with pytest.raises(gp.Error):
            s.set_hint(1, colour)
    assert s.hint(1) is None


def test_hints_set_read_and_cleared(model):
    s = gp.Session(model, SAMPLE, size=SIZE)
    plain = s.colorize()
    s.set_hint(1, "#EB503C")
    s.set_hint(2, (70.5, 140, 230))
    assert s.hint(1) == (235.0, 80.0, 60.0) and s.hint(2) == (70.5, 140.0, 230.0)
    hinted = s.colorize()
    assert not np.array_equal(hinted, plain)
    s.clear_hint(2)
    assert s.hint(2) is None
    s.clear_hints()
    assert s.hint(1) is None
    np.testing.assert_array_equal(s.colorize(), plain)


def test_colorize_equals_the_cli_byte_for_byte(model, tmp_path):
    hints = {1: "#EB503C", 2: "#468CE6", 4: "#30C060"}
    args = ["colorize", "--model", SMALL_MODEL, "--sketch", SAMPLE, "--size", SIZE, "-o", tmp_path / "cli.png",
            "--raw", tmp_path / "cli_raw.npy", "--labels", tmp_path / "cli_labels.npy"]
    for rank, colour in hints.items():
        args += ["--hint", f"{rank}={colour}"]
    cli(*args)

    s = gp.Session(model, SAMPLE, size=SIZE)
    for rank, colour in hints.items():
        s.set_hint(rank, colour)
    picture = s.colorize()
    sketch = gp.load_image(SAMPLE)
    assert picture.shape == sketch.shape and picture.dtype == np.uint8  # the sketch's size
    gp.save_png(picture, tmp_path / "python.png")
    assert (tmp_path / "python.png").read_bytes() == (tmp_path / "cli.png").read_bytes()
    np.testing.assert_array_equal(gp.load_image(tmp_path / "cli.png"), picture)

    raw = s.raw()
    assert raw.dtype == np.float32 and raw.shape == (3, SIZE, SIZE)
    assert np.abs(raw).max() <= 1.0 and raw.std() > 0.01
    np.testing.assert_array_equal(raw, np.load(tmp_path / "cli_raw.npy"))
    np.testing.assert_array_equal(s.labels, np.load(tmp_path / "cli_labels.npy"))


def test_bundled_model_and_reference_hints_equal_the_cli(bundled, tmp_path):
    cli("colorize", "--sketch", SAMPLE, "--size", SIZE, "--reference", REFERENCE, "--hints", 3,
        "-o", tmp_path / "cli.png")
    s = gp.Session(bundled, str(SAMPLE), size=SIZE)
    s.hints_from_reference(REFERENCE, 3)
    assert all(s.hint(rank) is not None for rank in (1, 2, 3)) and s.hint(4) is None
    gp.save_png(s.colorize(), tmp_path / "python.png")
    assert (tmp_path / "python.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_region_overlay_and_hint_picture(model, tmp_path):
    s = gp.Session(model, SAMPLE, size=SIZE)
    cli("regions", "--model", SMALL_MODEL, "--sketch", SAMPLE, "--size", SIZE, "-o", tmp_path / "cli.png")
    overlay = s.region_overlay()
    assert overlay.shape == (SIZE, SIZE, 3)
    np.testing.assert_array_equal(overlay, gp.load_image(tmp_path / "cli.png"))
    s.set_hint(1, (255, 0, 0))
    picture = s.hint_picture()
    red = np.all(picture == (255, 0, 0), axis=2)
    assert red.any() and not (red & (s.region_mask(1) == 0)).any()


def test_colorize_lets_go_of_the_gil():
    # A handshake, not a race (see gil_handshake.py): with the GIL released the child
    # finishes however loaded the machine is; with it kept the child deadlocks, so the
    # bound below only decides how long a certain failure takes to be reported.
    hang_s = 300
    child = subprocess.run([sys.executable, str(Path(__file__).with_name("gil_handshake.py")), str(SMALL_MODEL),
                            str(SAMPLE), str(hang_s)], capture_output=True, text=True, timeout=hang_s + 60)
    hung = "Timeout (" in child.stderr  # faulthandler's report of the deadlock
    assert child.returncode == 0, (
        ("no other thread could run Python code while colorize() waited for the session: colorize() kept the GIL"
         if hung else "the handshake failed") + f" (exit status {child.returncode})\n{child.stdout}{child.stderr}")


def test_threads_sharing_sessions_get_the_single_threaded_results(model):
    colours = ["#EB503C", "#468CE6", "#30C060", "#F0D000"]
    sessions = [gp.Session(model, SAMPLE, size=SIZE) for _ in colours]
    expected = []
    for s, colour in zip(sessions, colours):
        s.set_hint(1, colour)
        expected.append(s.colorize())
    results, errors = {}, []

    def work(i):
        try:
            s = sessions[i % len(sessions)]  # two threads on each session
            results[i] = s.colorize()
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2 * len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, picture in results.items():
        np.testing.assert_array_equal(picture, expected[i % len(sessions)])


def test_save_png_refuses_what_is_not_a_picture(tmp_path):
    with pytest.raises(gp.Error):
        gp.save_png(np.zeros((4, 4, 2), dtype=np.uint8), tmp_path / "x.png")
    with pytest.raises(gp.Error) as e:
        gp.save_png(np.full((4, 4, 3), 9, dtype=np.uint8), tmp_path / "missing" / "x.png")
    assert e.value.kind == "io"
    assert not (tmp_path / "x.png").exists()


def test_save_png_needs_a_png_name(tmp_path):
    # The CLI's rule: PNG bytes in a file named .jpg would fool every viewer.
    with pytest.raises(gp.Error) as e:
        gp.save_png(np.full((4, 4, 3), 9, dtype=np.uint8), tmp_path / "x.jpg")
    assert e.value.kind == "argument"
    assert "this is written as PNG: name the file .png" in str(e.value)
    assert not (tmp_path / "x.jpg").exists()


def test_progress_callback_reports_and_cancels(model):
    reports = []
    s = gp.Session(model, SAMPLE, size=SIZE, progress=lambda stage, done, total: reports.append((stage, done, total)) or True)
    assert reports and all(stage == "segment" for stage, _, _ in reports)
    assert [done for _, done, _ in reports] == list(range(1, reports[0][2] + 1))
    reports.clear()
    picture = s.colorize()
    assert reports[-1][0] == "colorize" and reports[-1][1] == reports[-1][2]
    np.testing.assert_array_equal(picture, gp.Session(model, SAMPLE, size=SIZE).colorize())

    with pytest.raises(gp.Error) as e:
        gp.Session(model, SAMPLE, size=SIZE, progress=lambda stage, done, total: done < 3)
    assert e.value.kind == "cancelled"

    class Stop(Exception):
        pass

    def stop(stage, done, total):
        if stage == "colorize":
            raise Stop("from the callback")
        return True

    s = gp.Session(model, SAMPLE, size=SIZE, progress=stop)
    with pytest.raises(Stop):
        s.colorize()
    with pytest.raises(gp.Error):
        gp.Session(model, SAMPLE, size=SIZE, progress=42)


def test_ctrl_c_stops_a_long_run_on_the_simulator(model):
    import signal
    # Python's own handler, whatever this process inherited: started in the background by
    # a non-interactive shell it ignores SIGINT, and then Ctrl-C (rightly) stops nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            gp.Session(model, SAMPLE, size=2048)  # many seconds of work without the interrupt
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 3.0
    s = gp.Session(model, SAMPLE, size=SIZE)  # nothing left broken
    assert s.colorize().shape[2] == 3


def test_point_hints_flats_and_layers_equal_the_cli(bundled, tmp_path):
    door, on_line = (80, 210), (13, 56)
    s = gp.Session(bundled, SAMPLE, size=SIZE)
    assert s.area_labels.shape == (256, 256) and s.area_labels.dtype == np.int32
    assert s.area_at(*on_line) == -1
    with pytest.raises(gp.Error, match=r"\(13, 56\)") as e:
        s.set_point_hint(*on_line, "#7A3B10")
    assert e.value.kind == "argument"
    with pytest.raises(gp.Error, match="outside"):
        s.set_point_hint(256, 0, (1, 2, 3))
    s.set_point_hint(*door, "#7A3B10")
    area = s.area_at(*door)
    assert s.point_hints == ((80, 210, (0x7A, 0x3B, 0x10), area),)
    flats = s.flats()
    assert flats.shape == (256, 256, 4)
    assert (flats[s.area_labels == area] == (0x7A, 0x3B, 0x10, 255)).all()
    assert (flats[s.area_labels == -1][:, 3] == 0).all()
    ora = tmp_path / "cli.ora"
    cli("colorize", "--sketch", SAMPLE, "--size", SIZE, "--hint-at", "80,210=#7A3B10", "-o", tmp_path / "o.png",
        "--layers", ora)
    assert s.layers_ora() == ora.read_bytes()
    s.save_layers(tmp_path / "py.ora")
    assert (tmp_path / "py.ora").read_bytes() == ora.read_bytes()
    assert s.clear_point_hint(*door) is True
    assert s.clear_point_hint(*door) is False
    assert s.point_hints == ()
