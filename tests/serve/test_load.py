"""A load test of `guidingpainter serve` on loopback: 12 clients at once through the whole
flow (upload, regions, a hint, colorize, a point hint, colorize, layers, delete) against
a server allowing 6 sessions. Every request is served or told 503 (then retried after a
pause); nothing else. Prints requests, failures, latency percentiles and the server's
peak memory, and writes them to $GP_ARTEFACTS/load.json. Bounded: 12 clients, one flow
each, at most 200 tries of an upload, 600 s in all.
"""

import json
import os
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import ROOT, Server  # noqa: E402
from test_api import DOOR, SKETCH, Client  # noqa: E402

CLIENTS = 12
MAX_SESSIONS = 6
SIZE = 128
ARTEFACTS = Path(os.environ.get("GP_ARTEFACTS") or ROOT / "build" / "test-artefacts" / "serve")


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class LoadTest(unittest.TestCase):
    def test_twelve_clients_at_once(self):
        server = Server("--max-sessions", str(MAX_SESSIONS))
        url = server.start()
        idle_mb = server.peak_rss_mb()
        sketch = SKETCH.read_bytes()
        lock = threading.Lock()
        latencies, unexpected, told_503, live, peak_live = [], [], [0], [0], [0]
        deadline = time.monotonic() + 600
        start = threading.Barrier(CLIENTS)

        def call(client, method, path, body=None, expect=(200,)):
            began = time.monotonic()
            status, headers, data = client.request(method, path, body)
            with lock:
                latencies.append(time.monotonic() - began)
                if status == 503:
                    told_503[0] += 1
                elif status not in expect:
                    unexpected.append(f"{method} {path} -> {status} {data[:200]!r}")
            return status, headers, data

        def flow(k):
            client = Client(url)
            start.wait()
            for _ in range(200):
                status, headers, data = call(client, "POST", f"/api/sessions?size={SIZE}", sketch, (201,))
                if status != 503 or time.monotonic() > deadline:
                    break
                self.assertIn("retry-after", headers)
                time.sleep(0.5)  # shorter than Retry-After: the test has a clock to keep
            if status != 201:
                return
            with lock:
                live[0] += 1
                peak_live[0] = max(peak_live[0], live[0])
            base = f"/api/sessions/{json.loads(data)['id']}"
            call(client, "GET", base + "/regions.png")
            call(client, "PUT", base + "/hints/1", {"color": "#%02x4080" % (20 * k)}, (204,))
            call(client, "POST", base + "/colorize")
            call(client, "POST", base + "/points", {"x": DOOR[0], "y": DOOR[1], "color": "#7a3b10"}, (201,))
            call(client, "POST", base + "/colorize")
            call(client, "GET", base + "/layers.ora")
            with lock:
                live[0] -= 1
            call(client, "DELETE", base, None, (204,))

        began = time.monotonic()
        threads = [threading.Thread(target=flow, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(660)
        seconds = time.monotonic() - began
        peak_mb = server.peak_rss_mb()
        status, _ = server.stop()

        figures = {
            "clients": CLIENTS, "max_sessions": MAX_SESSIONS, "size": SIZE, "seconds": round(seconds, 1),
            "requests": len(latencies), "failures": len(unexpected), "told_503": told_503[0],
            "latency_s": {f"p{q}": round(percentile(latencies, q), 3) for q in (50, 90, 99)} | {
                "max": round(max(latencies), 3)},
            "server_rss_mb": {"idle": round(idle_mb), "peak": round(peak_mb)},
        }
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        (ARTEFACTS / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
        print("\nload test: " + json.dumps(figures), file=sys.stderr)

        self.assertEqual(unexpected, [])
        self.assertTrue(all(not t.is_alive() for t in threads), "a client did not finish")
        self.assertEqual(status, 0)
        # Every client got through (503s were retried) and no more than the limit were live.
        self.assertEqual(len(latencies) - told_503[0], CLIENTS * 8)
        self.assertLessEqual(peak_live[0], MAX_SESSIONS)
        # Memory: what the model took when idle plus at most MAX_SESSIONS sessions' worth
        # (a session at this size holds a few MB; 100 MB each is a generous bound).
        self.assertLess(peak_mb, idle_mb + 100 * MAX_SESSIONS, figures)


if __name__ == "__main__":
    unittest.main(verbosity=2)
