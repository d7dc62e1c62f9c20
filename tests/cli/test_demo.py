"""scripts/demo.sh, the README's first command, on a built CLI (GP_CLI): every sample's three
pictures, and the simulator's note said once, not once per command (issue 22)."""
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class DemoTest(unittest.TestCase):
    def test_demo_writes_every_picture_and_says_the_device_once(self):
        out = tempfile.mkdtemp(prefix="gp-demo-")
        try:
            env = dict(os.environ, GP_DEMO_OUT=out, GP_DEMO_HINTS="2")
            env.pop("GP_DEVICE", None)  # as a user runs it: auto
            r = subprocess.run([os.path.join(ROOT, "scripts", "demo.sh")], capture_output=True, text=True, env=env,
                               timeout=600)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            said = r.stdout + r.stderr
            self.assertIn("demo: running on ", said)
            if "gpusim" in said:
                self.assertEqual(said.count("no CUDA GPU found"), 1, said)
            names = sorted(f[:-len("-sketch.png")] for f in os.listdir(os.path.join(ROOT, "examples", "samples"))
                           if f.endswith("-sketch.png"))
            self.assertTrue(names)
            for name in names:
                for suffix in ("regions.png", "regions.json", "hints.png", "colorized.png"):
                    self.assertTrue(os.path.getsize(os.path.join(out, f"{name}-{suffix}")) > 0, (name, suffix))
        finally:
            shutil.rmtree(out)


if __name__ == "__main__":
    unittest.main()
