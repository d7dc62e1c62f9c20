"""The C API's handle checks through ctypes, as another language would call the shared
library: a freed session used again, a session and a model freed twice, and pointers that
never were handles each return GP_ERROR_ARGUMENT with a message, never a crash.

    GP_LIBRARY=path/to/libguidingpainter.so.0 python3 -m unittest tests/install/test_c_api_handles.py

Run by ctest (the build tree's library) and by scripts/check_install.sh (the installed one).
"""

import ctypes
import os
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKETCH = str(ROOT / "examples" / "samples" / "1F3E0-sketch.png").encode()
MODEL = str(ROOT / "tests" / "fixtures" / "w4_17x19" / "model.safetensors").encode()
GP_OK, GP_ERROR_ARGUMENT = 0, 1


class Image(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("rgb", ctypes.POINTER(ctypes.c_uint8))]


def library():
    lib = ctypes.CDLL(os.environ["GP_LIBRARY"])
    p = ctypes.c_void_p
    lib.gp_last_error.restype = ctypes.c_char_p
    lib.gp_model_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(p)]
    lib.gp_model_free.argtypes = [p]
    lib.gp_model_path.argtypes = [p]
    lib.gp_model_path.restype = ctypes.c_char_p
    lib.gp_session_create_from_file.argtypes = [p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(p)]
    lib.gp_session_free.argtypes = [p]
    lib.gp_session_set_hint.argtypes = [p, ctypes.c_int, ctypes.c_uint8, ctypes.c_uint8, ctypes.c_uint8]
    lib.gp_session_colorize.argtypes = [p, ctypes.POINTER(Image)]
    lib.gp_session_region_count.argtypes = [p]
    lib.gp_image_free.argtypes = [ctypes.POINTER(Image)]
    return lib


class HandleChecks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lib = library()

    def error(self):
        return self.lib.gp_last_error().decode()

    def load(self):
        model = ctypes.c_void_p()
        self.assertEqual(self.lib.gp_model_load(MODEL, b"sim", ctypes.byref(model)), GP_OK, self.error())
        return model

    def session(self, model):
        s = ctypes.c_void_p()
        self.assertEqual(self.lib.gp_session_create_from_file(model, SKETCH, 32, ctypes.byref(s)), GP_OK, self.error())
        return s

    def test_freed_session_used_again_and_freed_twice(self):
        lib = self.lib
        model = self.load()
        s = self.session(model)
        self.assertEqual(lib.gp_session_set_hint(s, 1, 200, 30, 30), GP_OK, self.error())
        self.assertEqual(lib.gp_session_free(s), GP_OK)
        self.assertEqual(lib.gp_session_set_hint(s, 1, 200, 30, 30), GP_ERROR_ARGUMENT)
        self.assertIn("not a live gp_session", self.error())
        out = Image()
        self.assertEqual(lib.gp_session_colorize(s, ctypes.byref(out)), GP_ERROR_ARGUMENT)
        self.assertFalse(out.rgb)
        self.assertEqual(lib.gp_session_region_count(s), 0)
        self.assertEqual(lib.gp_session_free(s), GP_ERROR_ARGUMENT)
        self.assertIn("gp_session_free", self.error())
        self.assertEqual(lib.gp_model_free(model), GP_OK)

    def test_model_freed_twice(self):
        lib = self.lib
        model = self.load()
        self.assertEqual(lib.gp_model_free(model), GP_OK)
        self.assertEqual(lib.gp_model_free(model), GP_ERROR_ARGUMENT)
        self.assertIn("not a live gp_model", self.error())
        self.assertIsNone(lib.gp_model_path(model))

    def test_pointers_that_are_no_handles(self):
        lib = self.lib
        junk = ctypes.create_string_buffer(b"\xff" * 256)
        for pointer in (ctypes.cast(junk, ctypes.c_void_p), ctypes.c_void_p(0x1234), ctypes.c_void_p(2**63 - 8)):
            self.assertEqual(lib.gp_session_set_hint(pointer, 1, 1, 2, 3), GP_ERROR_ARGUMENT)
            self.assertEqual(lib.gp_session_free(pointer), GP_ERROR_ARGUMENT)
            self.assertEqual(lib.gp_model_free(pointer), GP_ERROR_ARGUMENT)
            s = ctypes.c_void_p()
            self.assertEqual(lib.gp_session_create_from_file(pointer, SKETCH, 32, ctypes.byref(s)), GP_ERROR_ARGUMENT)
            self.assertIn("not a live gp_model", self.error())
        # A live session still works after all that.
        model = self.load()
        s = self.session(model)
        out = Image()
        self.assertEqual(lib.gp_session_colorize(s, ctypes.byref(out)), GP_OK, self.error())
        self.assertGreater(out.width, 0)
        lib.gp_image_free(ctypes.byref(out))
        self.assertEqual(lib.gp_session_free(s), GP_OK)
        self.assertEqual(lib.gp_model_free(model), GP_OK)


if __name__ == "__main__":
    unittest.main()
