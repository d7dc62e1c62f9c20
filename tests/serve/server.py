"""Starts and stops `guidingpainter serve` for the tests of tests/serve/.

    server = Server("--max-sessions", "2")
    url = server.start()          # "http://127.0.0.1:PORT"; the port is any free one
    ...
    status = server.stop()        # SIGTERM; the exit status

Environment: GP_CLI (the binary, default build/guidingpainter), GP_DEVICE (passed on;
the tests run on the simulator), GP_MODEL (passed on).
"""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("GP_CLI") or str(ROOT / "build" / "guidingpainter")
START_S = 120


class Server:
    def __init__(self, *args):
        self.args = [CLI, "serve", "--port", "0", *args]
        self.process = None
        self.log = []          # the server's stderr lines (one per request)
        self._reader = None

    def start(self):
        env = dict(os.environ)
        env.setdefault("GP_DEVICE", "sim")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        first = self._first_line()
        match = re.match(r"listening on (http://\S+?)/? ", first)
        if not match:
            self.process.kill()
            rest = self.process.stderr.read()
            raise RuntimeError(f"the server did not start: {first!r} {rest}")
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        return match.group(1)

    def _first_line(self):
        line = []
        done = threading.Event()

        def read():
            line.append(self.process.stdout.readline())
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(START_S):
            self.process.kill()
            raise RuntimeError(f"the server printed nothing in {START_S} s")
        return line[0]

    def _read_stderr(self):
        for text in self.process.stderr:
            self.log.append(text.rstrip("\n"))

    def peak_rss_mb(self):
        """The server's peak resident memory so far (VmHWM), in MB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for text in status:
                if text.startswith("VmHWM:"):
                    return int(text.split()[1]) / 1024
        return float("nan")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends the signal and waits; returns (exit status, seconds it took)."""
        if self.process is None:
            return None, 0.0
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        if self._reader:
            self._reader.join(5)
        self.process.stdout.close()
        self.process.stderr.close()
        self.process = None
        return status, time.monotonic() - started
