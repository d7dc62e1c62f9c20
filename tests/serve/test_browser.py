"""The page of `guidingpainter serve` in a real browser (headless Chromium through Selenium).

Starts the server (tests/serve/server.py) with the bundled model, opens the page, uploads
the sample sketch, colours ranks 1 and 2, fills the house's door by clicking it, and
downloads the PNG and the layers (ORA). Also: a file the server refuses leaves the open
sketch usable (or, when the server is full, the page empty), and Undo after Skip takes
the skip back. Screenshots go to $GP_ARTEFACTS (default
build/test-artefacts/serve/). Skips, with the reason, when Chromium, chromedriver or
Selenium is missing; run as a script it then exits 77 (ctest's SKIP_RETURN_CODE).

Environment: GP_CLI (the binary, default build/guidingpainter), GP_DEVICE (sim in ctest),
GP_ARTEFACTS, GP_CHROMIUM and GP_CHROMEDRIVER (the browser and its driver),
GP_SERVE_URL (test a server that is already running instead of starting one),
GP_README_SCREENSHOT (also save the final page there, e.g. docs/serve-screenshot.png).
"""

import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKETCH = ROOT / "examples" / "samples" / "1F3E0-sketch.png"
ARTEFACTS = Path(os.environ.get("GP_ARTEFACTS") or ROOT / "build" / "test-artefacts" / "serve")
WAIT_S = 60

DOOR = (80, 210)     # sketch pixel inside the house's door (a closed area)
ON_LINE = (13, 56)   # sketch pixel in the middle of the roof's outline
PICKS = ["#d03a2f", "#2f6fd0"]   # the colours of ranks 1 and 2
DOOR_COLOUR = "#2fa04a"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    SELENIUM_ERROR = None
except ImportError as error:  # pragma: no cover - depends on the machine
    SELENIUM_ERROR = error


def find_program(variable, *names):
    if os.environ.get(variable):
        return os.environ[variable] if os.access(os.environ[variable], os.X_OK) else None
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def skip_reason():
    if SELENIUM_ERROR is not None:
        return f"selenium is missing ({SELENIUM_ERROR}); apt-get install python3-selenium"
    if not find_program("GP_CHROMIUM", "chromium", "chromium-browser", "google-chrome"):
        return "chromium is missing; apt-get install chromium"
    if not find_program("GP_CHROMEDRIVER", "chromedriver"):
        return "chromedriver is missing; apt-get install chromium-driver"
    return None


# Reads the result image's pixels in the page: RGB values of box (x0, y0, x1, y1), sketch pixels.
READ_PIXELS = """
const [x0, y0, x1, y1] = arguments[0];
const image = document.getElementById("result");
const canvas = document.createElement("canvas");
canvas.width = image.naturalWidth;
canvas.height = image.naturalHeight;
const context = canvas.getContext("2d");
context.drawImage(image, 0, 0);
const rgba = context.getImageData(x0, y0, x1 - x0, y1 - y0).data;
return Array.from(rgba.filter((_, i) => i % 4 !== 3));
"""

SET_COLOUR = """
const input = document.getElementById("colour");
input.value = arguments[0];
input.dispatchEvent(new Event("input", {bubbles: true}));
input.dispatchEvent(new Event("change", {bubbles: true}));
"""

# Plays another client: when the page deletes its session, this uploads the page's last
# upload at once, taking the place just freed. Once only; the session's id in otherClient.
TAKE_THE_FREED_PLACE = """
const realFetch = window.fetch;
let lastUpload = null;
window.fetch = async (url, options = {}) => {
  const method = options.method || "GET";
  if (method === "POST" && url.startsWith("/api/sessions")) lastUpload = options.body;
  const response = await realFetch(url, options);
  if (method === "DELETE" && lastUpload) {
    window.fetch = realFetch;
    const taken = await realFetch("/api/sessions", { method: "POST", body: lastUpload });
    window.otherClient = (await taken.json()).id;
  }
  return response;
};
"""


def mean_difference(before, after):
    assert len(before) == len(after) and before
    return sum(abs(a - b) for a, b in zip(before, after)) / len(before)


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        cls.downloads = Path(tempfile.mkdtemp(prefix="gp-browser-"))
        cls.files = Path(tempfile.mkdtemp(prefix="gp-browser-files-"))  # what the tests upload, apart from downloads
        cls.server = None
        cls.url = os.environ.get("GP_SERVE_URL")
        if not cls.url:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import server  # tests/serve/server.py: starts `GP_CLI serve --port 0`
            cls.server = server.Server()
            cls.url = cls.server.start()
        cls.url = cls.url.rstrip("/")
        try:
            cls.driver = cls.start_browser()
        except Exception:
            cls.stop_server()
            raise

    @classmethod
    def start_browser(cls):
        options = webdriver.ChromeOptions()
        options.binary_location = find_program("GP_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-gpu", "--no-first-run", "--disable-extensions", "--lang=en-US"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(cls.downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": True,
        })
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=find_program("GP_CHROMEDRIVER", "chromedriver"))
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_window_size(1280, 900)
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(cls.downloads)})
        return driver

    @classmethod
    def stop_server(cls):
        if cls.server is not None:
            cls.server.stop()
            cls.server = None

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            cls.stop_server()
            shutil.rmtree(cls.downloads, ignore_errors=True)
            shutil.rmtree(cls.files, ignore_errors=True)

    # ---- helpers ----------------------------------------------------------------------------

    def script(self, source, *args):
        return self.driver.execute_script(source, *args)

    def wait(self, condition, what):
        try:
            return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.1).until(lambda _: condition())
        except Exception:
            self.save("failure")
            status = self.driver.find_element(By.ID, "status").text
            logs = "\n".join(entry["message"] for entry in self.driver.get_log("browser"))
            self.fail(f"timed out waiting for {what}; status: {status!r}; console:\n{logs}")

    def page_state(self):
        return self.script("return [document.body.dataset.state, Number(document.getElementById('result').dataset.version)]")

    def wait_for_version(self, version, what):
        self.wait(lambda: self.page_state() == ["ready", version], what)
        status = self.driver.find_element(By.ID, "status")
        self.assertNotEqual(status.get_attribute("data-kind"), "error", status.text)

    def pixels(self, box):
        return self.script(READ_PIXELS, list(box))

    def save(self, name):
        self.driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))

    def api(self, path):
        """GET from the server of the page shown (one test has its own)."""
        origin = self.script("return location.origin")
        with urllib.request.urlopen(origin + path, timeout=WAIT_S) as response:
            return json.load(response)

    def to_sketch_box(self, session, box):
        """A region's box, at the working size, in sketch pixels."""
        sx = session["width"] / session["working"]["width"]
        sy = session["height"] / session["working"]["height"]
        x0, y0, x1, y1 = box
        return (int(x0 * sx), int(y0 * sy), max(int(x0 * sx) + 1, round(x1 * sx)), max(int(y0 * sy) + 1, round(y1 * sy)))

    def click_sketch(self, x, y, session):
        """Clicks sketch pixel (x, y) on the page (the middle of that pixel)."""
        sketch = self.driver.find_element(By.ID, "sketch")
        rect = self.script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", sketch)
        dx = (x + 0.5) * rect[0] / session["width"] - rect[0] / 2
        dy = (y + 0.5) * rect[1] / session["height"] - rect[1] / 2
        ActionChains(self.driver).move_to_element_with_offset(sketch, round(dx), round(dy)).click().perform()

    def session_id(self):
        return self.script("return document.body.dataset.session || null")

    def status(self):
        status = self.driver.find_element(By.ID, "status")
        return status.get_attribute("data-kind"), status.text

    def label(self):
        return self.driver.find_element(By.ID, "region-label").text

    def enabled(self):
        return {name: self.driver.find_element(By.ID, name).is_enabled() for name in ("apply", "skip", "undo")}

    def open_sketch(self, path, version):
        """Opens the file in the page and waits for its first colorize; the server's session."""
        self.driver.find_element(By.ID, "sketch-file").send_keys(str(path))
        self.wait_for_version(version, f"the regions and first colorize of {path.name}")
        return self.api(f"/api/sessions/{self.session_id()}")

    def open_refused_file(self):
        """Opens a text file named like a picture; waits for the page to report the refusal."""
        notes = self.files / "notes.png"
        notes.write_text("not a picture, whatever the name says\n")
        self.driver.find_element(By.ID, "sketch-file").send_keys(str(notes))
        self.wait(lambda: self.status()[0] == "error" and self.page_state()[0] in ("ready", "empty"),
                  "the page to report that notes.png was refused")

    def apply(self, colour, version):
        self.script(SET_COLOUR, colour)
        self.driver.find_element(By.ID, "apply").click()
        self.wait_for_version(version, f"the colorize after applying {colour}")

    def undo_and_wait(self):
        """Clicks Undo and waits until it is done, whether or not it colorized again."""
        before = self.status()[1]
        self.driver.find_element(By.ID, "undo").click()
        self.wait(lambda: self.page_state()[0] == "ready" and self.status()[1] not in (before, "Undoing…"),
                  "Undo to finish")

    def hints(self, session_id):
        return {h["rank"]: h["color"].lower() for h in self.api(f"/api/sessions/{session_id}")["hints"]}

    def wait_for_download(self, suffix):
        def done():
            files = [p for p in self.downloads.iterdir() if p.suffix == suffix]
            partial = [p for p in self.downloads.iterdir() if p.suffix == ".crdownload"]
            return files[0] if files and not partial and files[0].stat().st_size > 0 else None
        return self.wait(done, f"the {suffix} download")

    # ---- the test ---------------------------------------------------------------------------

    def test_colour_a_sketch(self):
        started = time.monotonic()
        driver = self.driver
        driver.get(self.url + "/")
        self.assertEqual(driver.title, "GuidingPainter")
        file_input = driver.find_element(By.CSS_SELECTOR, "input[type=file]#sketch-file")
        self.assertEqual(driver.find_element(By.ID, "status").get_attribute("role"), "status")

        # Upload: the regions, the first highlighted, and a first colorize without hints.
        file_input.send_keys(str(SKETCH))
        self.wait_for_version(1, "the sketch's regions and first colorize")
        session = self.api(f"/api/sessions/{self.script('return document.body.dataset.session')}")
        regions = session["regions"]
        self.assertGreaterEqual(len(regions), 2)
        label = driver.find_element(By.ID, "region-label").text
        self.assertEqual(label, f"Region 1 of {len(regions)}")
        self.assertEqual(self.script("return document.body.dataset.rank"), str(regions[0]["rank"]))
        self.save("1-uploaded")

        # Ranks 1 and 2: pick a colour, Apply; the result changes inside the region's box.
        for step, colour in enumerate(PICKS):
            region = regions[step]
            box = self.to_sketch_box(session, region["box"])
            before = self.pixels(box)
            self.script(SET_COLOUR, colour)
            driver.find_element(By.ID, "apply").click()
            self.wait_for_version(2 + step, f"the colorize after rank {region['rank']}'s hint")
            change = mean_difference(before, self.pixels(box))
            self.assertGreater(change, 1.0, f"rank {region['rank']} ({colour}): the result hardly changed in {box}")
            self.assertEqual(driver.find_element(By.ID, "region-label").text, f"Region {step + 2} of {len(regions)}")
        hints = {h["rank"]: h["color"].lower() for h in self.api(f"/api/sessions/{session['id']}")["hints"]}
        self.assertEqual(hints, {regions[0]["rank"]: PICKS[0], regions[1]["rank"]: PICKS[1]})
        swatches = driver.find_elements(By.CSS_SELECTOR, "#palette button")
        self.assertEqual([s.get_attribute("title") for s in swatches], PICKS)
        self.save("2-hints")

        # A click on a line: the server's error shows in the status line, nothing else changes.
        driver.find_element(By.ID, "point-mode").click()
        self.click_sketch(*ON_LINE, session)
        self.wait(lambda: self.script("return document.getElementById('status').dataset.kind") == "error"
                  and self.page_state()[0] == "ready", "the error of a click on a line")
        self.assertTrue(driver.find_element(By.ID, "status").text.strip())
        self.assertEqual(self.page_state(), ["ready", 3])

        # A click in the door: the closed area under it gets its own colour.
        x, y = DOOR
        door = (x - 3, y - 3, x + 4, y + 4)
        before = self.pixels(door)
        self.script(SET_COLOUR, DOOR_COLOUR)
        self.click_sketch(x, y, session)
        self.wait_for_version(4, "the colorize after the door's point")
        points = self.api(f"/api/sessions/{session['id']}")["points"]
        self.assertEqual(len(points), 1, points)
        self.assertLessEqual(abs(points[0]["x"] - x) + abs(points[0]["y"] - y), 2, points)
        self.assertEqual(points[0]["color"].lower(), DOOR_COLOUR)
        change = mean_difference(before, self.pixels(door))
        self.assertGreater(change, 5.0, f"the door hardly changed after its point ({change:.1f})")
        self.save("3-point")

        # Downloads: the result PNG and the layers as OpenRaster (a zip: starts with PK).
        driver.find_element(By.ID, "download-png").click()
        png = self.wait_for_download(".png")
        self.assertEqual(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        driver.find_element(By.ID, "download-ora").click()
        ora = self.wait_for_download(".ora")
        self.assertEqual(ora.read_bytes()[:2], b"PK")

        if os.environ.get("GP_README_SCREENSHOT"):
            driver.save_screenshot(os.environ["GP_README_SCREENSHOT"])

        # Undo takes the door's point back, then rank 2's hint.
        driver.find_element(By.ID, "undo").click()
        self.wait_for_version(5, "the colorize after undoing the point")
        self.assertEqual(self.api(f"/api/sessions/{session['id']}")["points"], [])
        self.assertEqual(self.pixels(door), before, "undoing the point should give back the picture before it")
        driver.find_element(By.ID, "undo").click()
        self.wait_for_version(6, "the colorize after undoing rank 2's hint")
        hints = self.api(f"/api/sessions/{session['id']}")["hints"]
        self.assertEqual([h["rank"] for h in hints], [regions[0]["rank"]])
        self.assertEqual(driver.find_element(By.ID, "region-label").text, f"Region 2 of {len(regions)}")
        self.save("4-undo")
        print(f"\nbrowser test: {time.monotonic() - started:.1f} s; screenshots in {ARTEFACTS}", file=sys.stderr)


    def test_a_refused_file_leaves_the_open_sketch_usable(self):
        self.driver.get(self.url + "/")
        session = self.open_sketch(SKETCH, 1)
        regions, count = session["regions"], len(session["regions"])
        self.apply(PICKS[0], 2)
        self.assertEqual(self.label(), f"Region 2 of {count}")

        self.open_refused_file()
        self.save("refused-file")
        self.assertEqual(self.page_state(), ["ready", 2])
        self.assertEqual(self.session_id(), session["id"])
        self.assertEqual(self.label(), f"Region 2 of {count}")
        self.assertEqual(self.enabled(), {"apply": True, "skip": True, "undo": True})
        self.assertEqual(self.hints(session["id"]), {regions[0]["rank"]: PICKS[0]})
        self.assertTrue(self.status()[1].startswith("Could not open notes.png: "), self.status())

        # The open sketch goes on as if nothing had happened: Undo, then Apply.
        self.undo_and_wait()
        self.assertEqual(self.status(), ("info", f"Removed the hint of region {regions[0]['rank']}."))
        self.assertEqual(self.hints(session["id"]), {})
        self.assertEqual(self.label(), f"Region 1 of {count}")
        # The same file chosen again is reported again (the file input forgets its choice).
        self.open_refused_file()
        self.assertEqual(self.session_id(), session["id"])
        self.apply(PICKS[1], 4)
        self.assertEqual(self.hints(session["id"]), {regions[0]["rank"]: PICKS[1]})

    def test_undo_after_skip_takes_the_skip_back(self):
        self.driver.get(self.url + "/")
        session = self.open_sketch(SKETCH, 1)
        regions, count = session["regions"], len(session["regions"])
        self.assertGreaterEqual(count, 3)
        self.apply(PICKS[0], 2)
        self.driver.find_element(By.ID, "skip").click()
        self.wait(lambda: self.label() == f"Region 3 of {count}" and self.status()[1].startswith("Skipped"),
                  "Skip to move on to the third region")

        # Undo brings the skipped region back and leaves rank 1's hint alone; nothing to colorize again.
        self.undo_and_wait()
        self.assertEqual(self.status(), ("info", f"Back to region {regions[1]['rank']}, which was skipped."))
        self.assertEqual(self.label(), f"Region 2 of {count}")
        self.assertEqual(self.script("return document.body.dataset.rank"), str(regions[1]["rank"]))
        self.assertEqual(self.hints(session["id"]), {regions[0]["rank"]: PICKS[0]})
        self.assertEqual(self.page_state(), ["ready", 2])

        # The next Undo is the hint's.
        self.undo_and_wait()
        self.assertEqual(self.status(), ("info", f"Removed the hint of region {regions[0]['rank']}."))
        self.assertEqual(self.hints(session["id"]), {})
        self.assertEqual(self.label(), f"Region 1 of {count}")
        self.assertFalse(self.enabled()["undo"])

    def test_a_full_server_takes_the_next_sketch_in_place_of_ours(self):
        if self.server is None:
            self.skipTest("needs a server of its own (--max-sessions 1), not GP_SERVE_URL's")
        import server
        single = server.Server("--max-sessions", "1")
        url = single.start()
        try:
            self.driver.get(url + "/")
            first = self.open_sketch(SKETCH, 1)
            self.apply(PICKS[0], 2)

            # Full, and the one session is ours: ours makes room for the next sketch.
            copy = self.files / "second.png"
            shutil.copyfile(SKETCH, copy)
            second = self.open_sketch(copy, 3)
            self.assertNotEqual(second["id"], first["id"])
            with self.assertRaises(urllib.error.HTTPError) as gone:
                self.api(f"/api/sessions/{first['id']}")
            self.assertEqual(gone.exception.code, 404)
            self.assertEqual(self.label(), f"Region 1 of {len(second['regions'])}")
            self.assertFalse(self.enabled()["undo"])

            # A file the server cannot read costs nothing, full server or not.
            self.open_refused_file()
            self.assertEqual(self.page_state(), ["ready", 3])
            self.assertEqual(self.session_id(), second["id"])

            # Another client takes the place ours gave up before the page's upload gets it:
            # the page is left empty, not showing a sketch it no longer has a session for.
            self.script(TAKE_THE_FREED_PLACE)
            self.driver.find_element(By.ID, "sketch-file").send_keys(str(SKETCH))
            self.wait(lambda: self.status()[0] == "error" and self.page_state()[0] == "empty",
                      "the page to give up the sketch the full server refused")
            self.save("full-server")
            self.assertTrue(self.status()[1].startswith(f"Could not open {SKETCH.name}: "), self.status())
            self.assertIsNone(self.session_id())
            for shown, hidden in (("placeholder", "stage"), ("result-placeholder", "result")):
                self.assertTrue(self.driver.find_element(By.ID, shown).is_displayed(), shown)
                self.assertFalse(self.driver.find_element(By.ID, hidden).is_displayed(), hidden)
            self.assertFalse(self.driver.find_element(By.ID, "controls").is_displayed())
            for link in ("download-png", "download-ora"):
                self.assertEqual(self.driver.find_element(By.ID, link).get_attribute("aria-disabled"), "true", link)

            # Once that client has gone, the page opens sketches again.
            other = self.script("return window.otherClient")
            urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions/{other}", method="DELETE"),
                                   timeout=WAIT_S).close()
            third = self.open_sketch(SKETCH, 4)
            self.assertEqual(self.label(), f"Region 1 of {len(third['regions'])}")
        finally:
            self.driver.get("about:blank")
            single.stop()

if __name__ == "__main__":
    outcome = unittest.main(exit=False, verbosity=2).result
    skipped_all = outcome.skipped and len(outcome.skipped) >= max(1, outcome.testsRun)
    sys.exit(77 if outcome.wasSuccessful() and skipped_all else 0 if outcome.wasSuccessful() else 1)
