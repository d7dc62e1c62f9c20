// guidingpainter._core: the C++ API (include/guidingpainter/guidingpainter.hpp) for Python,
// wrapped by python/guidingpainter/__init__.py.
//
// Arrays go through the buffer protocol, not numpy's C API: inputs are read through
// their buffer (any strides), outputs are made by numpy.empty and filled through theirs.
// So the module builds without numpy's headers and works with numpy 1 and 2 alike.
//
// The GIL is released whenever the library works (loading, segmenting, colorizing,
// image files); each Session carries a mutex, so Python threads sharing one Session are
// serialised instead of racing inside it, while Sessions on one Model run in parallel.
#include <signal.h>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"

namespace py = pybind11;

namespace {

gp::Error argument_error(const std::string& what) { return gp::Error(gp::ErrorKind::Argument, what); }

// ---- arrays ----

py::object numpy_empty(std::vector<py::ssize_t> shape, const char* dtype) {
  py::module_ numpy = py::module_::import("numpy");
  return numpy.attr("empty")(py::tuple(py::cast(shape)), py::arg("dtype") = dtype);
}

// A new C-contiguous numpy array holding `bytes` bytes copied from `data`.
py::object new_array(std::vector<py::ssize_t> shape, const char* dtype, const void* data, size_t bytes) {
  py::object array = numpy_empty(std::move(shape), dtype);
  py::buffer_info out = py::buffer(array).request(/*writable=*/true);
  if (size_t(out.size * out.itemsize) != bytes) throw std::logic_error("guidingpainter: array size mismatch");
  if (bytes) std::memcpy(out.ptr, data, bytes);
  return array;
}

py::object image_array(const gp::Image& image) {
  return new_array({image.height, image.width, 3}, "uint8", image.rgb.data(), image.rgb.size());
}

bool is_path(const py::handle& object) { return py::isinstance<py::str>(object) || py::hasattr(object, "__fspath__"); }

std::string path_string(const py::handle& object) {
  py::object path = py::module_::import("os").attr("fspath")(object);
  if (!py::isinstance<py::str>(path)) throw argument_error("guidingpainter: a path must be text, not bytes");
  return path.cast<std::string>();
}

// An H x W (grey) or H x W x 3 (RGB) uint8 array, any strides, as an Image.
gp::Image image_from_array(const py::handle& object, const char* what) {
  if (!PyObject_CheckBuffer(object.ptr()))
    throw argument_error(std::string("guidingpainter: ") + what +
                         " must be a path or an H x W or H x W x 3 uint8 array, not " +
                         std::string(py::str(py::type::of(object).attr("__name__"))));
  py::buffer_info in = py::reinterpret_borrow<py::buffer>(object).request();
  const bool rgb = in.ndim == 3 && in.shape[2] == 3;
  if (in.format != "B" || in.itemsize != 1 || !(in.ndim == 2 || rgb)) {
    std::string shape;
    for (py::ssize_t d : in.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
    throw argument_error(std::string("guidingpainter: ") + what +
                         " must be an H x W or H x W x 3 uint8 array, got shape (" + shape + ") with element format '" +
                         in.format + "'");
  }
  if (in.shape[0] < 1 || in.shape[1] < 1)
    throw argument_error(std::string("guidingpainter: ") + what + " is empty (" + std::to_string(in.shape[0]) + " x " +
                         std::to_string(in.shape[1]) + ")");
  if (in.shape[0] > 1 << 20 || in.shape[1] > 1 << 20)
    throw argument_error(std::string("guidingpainter: ") + what + " is too large (" + std::to_string(in.shape[0]) +
                         " x " + std::to_string(in.shape[1]) + ")");
  gp::Image image;
  image.height = int(in.shape[0]);
  image.width = int(in.shape[1]);
  image.rgb.resize(size_t(image.width) * image.height * 3);
  const auto* base = static_cast<const uint8_t*>(in.ptr);
  const py::ssize_t channel_stride = rgb ? in.strides[2] : 0;
  uint8_t* out = image.rgb.data();
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const uint8_t* pixel = base + y * in.strides[0] + x * in.strides[1];
      for (int c = 0; c < 3; ++c) *out++ = pixel[c * channel_stride];
    }
  return image;
}

gp::Image image_argument(const py::handle& object, const char* what) {
  if (is_path(object)) {
    std::string path = path_string(object);
    py::gil_scoped_release unlocked;
    return gp::Image::load(path);
  }
  return image_from_array(object, what);
}

// ---- colours ----

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "#RRGGBB", or a sequence of three numbers on the 0..255 scale (fractions kept).
gp::Colour colour_argument(const py::handle& object) {
  if (py::isinstance<py::str>(object)) {
    const std::string text = object.cast<std::string>();
    bool ok = text.size() == 7 && text[0] == '#';
    gp::Colour colour{};
    for (int c = 0; ok && c < 3; ++c) {
      const int hi = hex_digit(text[1 + 2 * c]), lo = hex_digit(text[2 + 2 * c]);
      ok = hi >= 0 && lo >= 0;
      colour[c] = float(hi * 16 + lo);
    }
    if (!ok) throw argument_error("guidingpainter: colour '" + text + "' is not #RRGGBB");
    return colour;
  }
  const std::string bad = "guidingpainter: a colour is \"#RRGGBB\" or three numbers from 0 to 255, not " +
                          std::string(py::str(py::repr(object)));
  if (!py::isinstance<py::sequence>(object) || py::len(object) != 3) throw argument_error(bad);
  gp::Colour colour{};
  py::sequence items = py::reinterpret_borrow<py::sequence>(object);
  for (int c = 0; c < 3; ++c) {
    py::object item = items[c];
    if (py::isinstance<py::bool_>(item) || !(py::isinstance<py::int_>(item) || py::isinstance<py::float_>(item) ||
                                             py::hasattr(item, "__index__") || py::hasattr(item, "__float__")))
      throw argument_error(bad);
    const double v = item.cast<double>();
    if (!(v >= 0.0 && v <= 255.0)) throw argument_error(bad);
    colour[c] = float(v);
  }
  return colour;
}

// ---- objects ----

struct PyModel {
  std::shared_ptr<const gp::Model> model;
};

// Python's side of a run's progress: the user's callback (if any), called with the GIL
// held, and Ctrl-C: Python's own signal handler only notes a SIGINT while C++ runs, so
// each report asks it (PyErr_CheckSignals, on the main thread) and cancels the run when
// a KeyboardInterrupt (or the callback's exception, or its False) is pending.
struct PyProgress {
  py::object callback;                             // None: only the signal check
  std::shared_ptr<py::error_already_set> pending;  // what cancelled the run, raised after it
  bool main_thread = false;                        // PyErr_CheckSignals acts on the main thread only
  std::atomic<bool> interrupted{false};            // the session's cancel flag, set by Ctrl-C

  bool report(const char* stage, int done, int total) {
    py::gil_scoped_acquire held;
    if (main_thread && PyErr_CheckSignals() != 0) {
      pending = std::make_shared<py::error_already_set>();  // takes the raised KeyboardInterrupt
      return false;
    }
    if (callback.is_none()) return true;
    try {
      return bool(py::bool_(callback(stage, done, total)));
    } catch (py::error_already_set& e) {
      pending = std::make_shared<py::error_already_set>(std::move(e));
      return false;
    }
  }
};

// Ctrl-C during a run on the main thread: Python's C-level SIGINT handler only notes the
// signal for later, so while a run is in progress there, a handler of ours in front of
// it also sets the running session's cancel flag (the simulator then stops between
// thread blocks), and Python's handler still runs: KeyboardInterrupt follows the run.
std::atomic<std::atomic<bool>*> g_sigint_target{nullptr};
struct sigaction g_python_sigint {};

// Python's handler first, the cancel flag after: the signal may land on any thread, and
// the run it cancels can reach the main thread's PyErr_CheckSignals (raising_pending)
// before this handler returns; with the flag set last, whoever sees it also sees Python's
// note of the signal (both are sequentially consistent stores), so Ctrl-C always ends in
// KeyboardInterrupt, never in gp.Error "cancelled".
extern "C" void chained_sigint(int sig, siginfo_t* info, void* context) {
  if (g_python_sigint.sa_flags & SA_SIGINFO) {
    if (g_python_sigint.sa_sigaction) g_python_sigint.sa_sigaction(sig, info, context);
  } else if (g_python_sigint.sa_handler != SIG_DFL && g_python_sigint.sa_handler != SIG_IGN) {
    g_python_sigint.sa_handler(sig);
  }
  if (std::atomic<bool>* flag = g_sigint_target.load()) flag->store(true);
}

class SigintToCancel {
 public:
  SigintToCancel(std::atomic<bool>* flag, bool main_thread) : active_(main_thread) {
    flag->store(false);
    if (!active_) return;
    // A process that ignores SIGINT (started in the background by a shell, or told so by
    // signal.signal) has no KeyboardInterrupt to give: Ctrl-C must not cancel its runs.
    struct sigaction current {};
    if (::sigaction(SIGINT, nullptr, &current) != 0 ||
        (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN)) {
      active_ = false;
      return;
    }
    struct sigaction ours {};
    ours.sa_sigaction = chained_sigint;
    ours.sa_flags = SA_SIGINFO;
    sigemptyset(&ours.sa_mask);
    g_sigint_target.store(flag);
    ::sigaction(SIGINT, &ours, &g_python_sigint);
  }
  ~SigintToCancel() {
    if (!active_) return;
    ::sigaction(SIGINT, &g_python_sigint, nullptr);
    g_sigint_target.store(nullptr);
  }
  SigintToCancel(const SigintToCancel&) = delete;
  SigintToCancel& operator=(const SigintToCancel&) = delete;

 private:
  bool active_;
};

// gp::Session is not thread-safe; its Python object serialises calls on it.
struct PySession {
  PySession(std::shared_ptr<const gp::Model> model, const gp::Image& sketch, gp::SessionOptions options,
            std::shared_ptr<PyProgress> watch)
      : progress(std::move(watch)), session(std::move(model), sketch, with(options, progress)) {}
  static gp::SessionOptions with(gp::SessionOptions o, const std::shared_ptr<PyProgress>& p) {
    if (p) {
      o.progress = [p](const char* stage, int done, int total) { return p->report(stage, done, total); };
      o.cancel = &p->interrupted;
    }
    return o;
  }
  std::shared_ptr<PyProgress> progress;  // before `session`, which calls it
  std::mutex mutex;
  gp::Session session;
};

bool on_main_thread() {
  py::module_ threading = py::module_::import("threading");
  return threading.attr("current_thread")().is(threading.attr("main_thread")());
}

// A run cancelled from Python: raise what cancelled it (KeyboardInterrupt, the progress
// callback's exception) instead of gp.Error.
template <class Run> auto raising_pending(const std::shared_ptr<PyProgress>& progress, Run&& run) {
  try {
    return run();
  } catch (const gp::Error& e) {
    if (e.kind() == gp::ErrorKind::Cancelled && progress && progress->pending) {
      const std::shared_ptr<py::error_already_set> pending = std::move(progress->pending);
      throw py::error_already_set(*pending);
    }
    // Stopped by Ctrl-C between reports: Python's handler has the KeyboardInterrupt.
    if (e.kind() == gp::ErrorKind::Cancelled && progress && progress->interrupted.load() && PyErr_CheckSignals() != 0)
      throw py::error_already_set();
    throw;
  }
}

// Runs `run()` (a network) with the GIL released, Ctrl-C on the main thread wired to the
// run's cancel flag, and what cancelled it raised in Python.
template <class Run> auto watched_run(const std::shared_ptr<PyProgress>& watch, Run&& run) {
  if (watch) watch->main_thread = on_main_thread();
  return raising_pending(watch, [&] {
    std::optional<SigintToCancel> sigint;
    if (watch) sigint.emplace(&watch->interrupted, watch->main_thread);
    py::gil_scoped_release unlocked;
    return run();
  });
}

// A call that runs the colorizer: watched, with the session's lock held.
template <class Work> auto running(PySession& s, Work&& work) {
  return watched_run(s.progress, [&] {
    std::lock_guard<std::mutex> lock(s.mutex);
    return work(s.session);
  });
}

// Any other call: the GIL released and the session's lock held.
template <class Work> auto locked(PySession& s, Work&& work) {
  py::gil_scoped_release unlocked;
  std::lock_guard<std::mutex> lock(s.mutex);
  return work(s.session);
}

std::shared_ptr<PyModel> load_model(const std::optional<py::object>& path, const std::string& device,
                                    const std::optional<std::string>& precision, int gpu_index) {
  gp::ModelOptions options;
  options.device = gp::parse_device(device);
  if (precision) options.precision = gp::parse_precision(*precision);
  if (gpu_index < 0)
    throw argument_error("guidingpainter: gpu_index must be 0 or more, not " + std::to_string(gpu_index));
  options.gpu_index = gpu_index;
  std::optional<std::string> file;
  if (path && !path->is_none()) {
    if (!is_path(*path)) throw argument_error("guidingpainter: the model path must be a str or os.PathLike");
    file = path_string(*path);
  }
  py::gil_scoped_release unlocked;
  return std::make_shared<PyModel>(PyModel{file ? gp::Model::load(*file, options) : gp::Model::load(options)});
}

std::unique_ptr<PySession> new_session(const PyModel& model, const py::object& image, std::optional<int> size,
                                       const py::object& progress, std::optional<double> min_region) {
  gp::Image sketch = image_argument(image, "the sketch");
  gp::SessionOptions options;
  if (size) {
    if (*size < 1) throw argument_error("guidingpainter: size must be positive, not " + std::to_string(*size));
    options.size = *size;
  }
  if (min_region) options.min_region = *min_region;
  if (!progress.is_none() && !PyCallable_Check(progress.ptr()))
    throw argument_error("guidingpainter: progress must be callable (stage, done, total) or None");
  // Reports cost a synchronisation per launch; on a GPU (milliseconds a step) only a
  // callback asks for them, on the simulator (seconds) they also let Ctrl-C stop a run.
  std::shared_ptr<PyProgress> watch;
  if (!progress.is_none() || model.model->device_name().rfind("gpusim", 0) == 0) {
    watch = std::make_shared<PyProgress>();
    watch->callback = progress;
  }
  return watched_run(watch, [&] { return std::make_unique<PySession>(model.model, sketch, options, watch); });
}

std::string region_repr(const gp::Region& r) {
  return "Region(rank=" + std::to_string(r.rank) + ", id=" + std::to_string(r.id) +
         ", pixels=" + std::to_string(r.pixels) + ", box=(" + std::to_string(r.x0) + ", " + std::to_string(r.y0) +
         ", " + std::to_string(r.x1) + ", " + std::to_string(r.y1) + "))";
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "guidingpainter's C++ engine (use the package `guidingpainter`, not this module)";
  m.attr("__version__") = GP_VERSION_STRING;

  static py::exception<gp::Error> error_type(m, "Error", PyExc_RuntimeError);
  error_type.doc() =
      "A guidingpainter failure; str(e) is the library's message, e.kind one of 'argument', 'io', "
      "'format', 'device', 'out_of_memory', 'cancelled', 'failed'.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gp::Error& e) {
      py::object cls = py::reinterpret_borrow<py::object>(error_type.ptr());
      py::object instance = cls(e.what());
      instance.attr("kind") = gp::error_kind_name(e.kind());
      PyErr_SetObject(error_type.ptr(), instance.ptr());
    }
  });

  m.def("bundled_model_path", &gp::bundled_model_path,
        "Path of the bundled model: $GP_MODEL, else the one installed beside the library.");
  m.def(
      "load_image",
      [](const py::object& path) {
        gp::Image image = image_argument(path, "the image");
        return image_array(image);
      },
      py::arg("path"),
      "Reads a PNG or JPEG as an H x W x 3 uint8 array (grey and alpha become RGB, alpha over white).");
  m.def(
      "save_png",
      [](const py::object& array, const py::object& path) {
        gp::Image image = image_from_array(array, "the picture");
        if (!is_path(path)) throw argument_error("guidingpainter: save_png needs a str or os.PathLike path");
        std::string file = path_string(path);
        py::gil_scoped_release unlocked;
        image.save_png(file);
      },
      py::arg("image"), py::arg("path"),
      "Writes an H x W or H x W x 3 uint8 array as a PNG, the same bytes the CLI writes.");

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model", "Weights loaded once onto a device; shareable by threads.")
      .def_static("load", &load_model, py::arg("path") = py::none(), py::arg("device") = "auto",
                  py::arg("precision") = py::none(), py::arg("gpu_index") = 0,
                  "Loads a safetensors model (None: the bundled one). device: 'auto', 'cuda' or 'sim'; precision: "
                  "None (fp16 on a GPU of sm_80+, fp32 elsewhere), 'fp32', 'fp16' or 'bf16'.")
      .def_property_readonly("path", [](const PyModel& s) { return s.model->path(); })
      .def_property_readonly("device", [](const PyModel& s) { return s.model->device_name(); })
      .def_property_readonly("precision",
                             [](const PyModel& s) { return std::string(gp::precision_name(s.model->precision())); })
      .def_property_readonly("width", [](const PyModel& s) { return s.model->config().width; })
      .def_property_readonly("num_regions", [](const PyModel& s) { return s.model->config().num_regions; })
      .def_property_readonly("train_size", [](const PyModel& s) { return s.model->config().train_size; })
      .def("__repr__", [](const PyModel& s) {
        return "guidingpainter.Model(path='" + s.model->path() + "', width=" + std::to_string(s.model->config().width) +
               ", precision='" + gp::precision_name(s.model->precision()) + "', device='" + s.model->device_name() +
               "')";
      });

  py::class_<gp::Region>(m, "Region",
                         "A ranked region: rank (1 = asked first), id (segmentation channel), pixels, "
                         "box = (x0, y0, x1, y1) inclusive, at the working size.")
      .def_readonly("rank", &gp::Region::rank)
      .def_readonly("id", &gp::Region::id)
      .def_readonly("pixels", &gp::Region::pixels)
      .def_property_readonly("box", [](const gp::Region& r) { return py::make_tuple(r.x0, r.y0, r.x1, r.y1); })
      .def("__repr__", &region_repr);

  py::class_<PySession>(m, "Session",
                        "One sketch being coloured: segmentation runs once, here; each colorize() runs the "
                        "colorizer.")
      .def(
          py::init(&new_session), py::arg("model"), py::arg("image"), py::arg("size") = py::none(),
          py::arg("progress") = py::none(), py::arg("min_region") = py::none(), py::keep_alive<1, 2>(),
          "image: a path, or an H x W / H x W x 3 uint8 array. size: long side of the working size (None: the "
          "model's training size). min_region: regions under this fraction of the working size's pixels (and "
          "under 4 pixels) get no rank, 0 ranks every region (None: 0.001). progress: called as progress(stage, done, total) between the networks' "
          "launches ('segment' here, 'colorize' in colorize()); returning False (or raising) cancels. Ctrl-C "
          "(KeyboardInterrupt) stops a run on the simulator between launches.")
      .def_property_readonly("width", [](PySession& s) { return locked(s, [](gp::Session& x) { return x.width(); }); })
      .def_property_readonly("height",
                             [](PySession& s) { return locked(s, [](gp::Session& x) { return x.height(); }); })
      .def_property_readonly("regions",
                             [](PySession& s) {
                               std::vector<gp::Region> regions = locked(s, [](gp::Session& x) { return x.regions(); });
                               return py::tuple(py::cast(regions));
                             })
      .def_property_readonly(
          "labels",
          [](PySession& s) {
            std::vector<int32_t> labels;
            int w = 0, h = 0;
            locked(s, [&](gp::Session& x) {
              w = x.width(), h = x.height();
              labels.assign(x.labels().begin(), x.labels().end());
              return 0;
            });
            return new_array({h, w}, "int32", labels.data(), labels.size() * sizeof(int32_t));
          },
          "Segmentation channel (0..29) per pixel at the working size: an H x W int32 array.")
      .def(
          "region_mask",
          [](PySession& s, int rank) {
            int w = 0, h = 0;
            std::vector<uint8_t> mask = locked(s, [&](gp::Session& x) {
              w = x.width(), h = x.height();
              return x.region_mask(rank);
            });
            return new_array({h, w}, "uint8", mask.data(), mask.size());
          },
          py::arg("rank"), "1 where the pixel belongs to the region of that rank, else 0: H x W uint8 (working size).")
      .def(
          "set_hint",
          [](PySession& s, int rank, const py::object& colour) {
            const gp::Colour c = colour_argument(colour);
            locked(s, [&](gp::Session& x) {
              x.set_hint(rank, c);
              return 0;
            });
          },
          py::arg("rank"), py::arg("colour"),
          "Colour for the region of that rank: '#RRGGBB' or (r, g, b) from 0 to 255.")
      .def(
          "clear_hint",
          [](PySession& s, int rank) {
            locked(s, [&](gp::Session& x) {
              x.clear_hint(rank);
              return 0;
            });
          },
          py::arg("rank"))
      .def("clear_hints",
           [](PySession& s) {
             locked(s, [](gp::Session& x) {
               x.clear_hints();
               return 0;
             });
           })
      .def(
          "hint",
          [](PySession& s, int rank) -> py::object {
            gp::Colour c{};
            const bool has = locked(s, [&](gp::Session& x) { return x.hint(rank, &c); });
            if (!has) return py::none();
            return py::make_tuple(c[0], c[1], c[2]);
          },
          py::arg("rank"), "The hint colour of that rank as (r, g, b), or None.")
      .def(
          "hints_from_reference",
          [](PySession& s, const py::object& reference, int n) {
            gp::Image image = image_argument(reference, "the reference");
            locked(s, [&](gp::Session& x) {
              x.hints_from_reference(image, n);
              return 0;
            });
          },
          py::arg("reference"), py::arg("n"), "The first n ranked regions get the reference's mean colour over them.")
      .def(
          "colorize",
          [](PySession& s) {
            gp::Image image = running(s, [](gp::Session& x) { return x.colorize(); });
            return image_array(image);
          },
          "The colorized picture at the sketch's size: H x W x 3 uint8.")
      .def(
          "raw",
          [](PySession& s) {
            int w = 0, h = 0;
            std::vector<float> raw = running(s, [&](gp::Session& x) {
              w = x.width(), h = x.height();
              return x.colorize_raw();
            });
            return new_array({3, h, w}, "float32", raw.data(), raw.size() * sizeof(float));
          },
          "The colorizer's tanh output at the working size: 3 x H x W float32 in [-1, 1].")
      .def(
          "region_overlay",
          [](PySession& s) {
            gp::Image image = locked(s, [](gp::Session& x) { return x.region_overlay(); });
            return image_array(image);
          },
          "The ranked regions in distinct colours with their rank numbers (working size).")
      .def(
          "hint_picture",
          [](PySession& s) {
            gp::Image image = locked(s, [](gp::Session& x) { return x.hint_picture(); });
            return image_array(image);
          },
          "Each hinted region in its hint colour, the rest white, the lines on top (working size).")
      .def(
          "set_point_hint",
          [](PySession& s, int x, int y, const py::object& colour) {
            const gp::Colour c = colour_argument(colour);
            const gp::Rgb rgb{uint8_t(std::lround(c[0])), uint8_t(std::lround(c[1])), uint8_t(std::lround(c[2]))};
            locked(s, [&](gp::Session& session) {
              session.set_point_hint(x, y, rgb);
              return 0;
            });
          },
          py::arg("x"), py::arg("y"), py::arg("colour"),
          "The closed area of the line art under sketch pixel (x, y) becomes its own region with that colour "
          "('#RRGGBB' or (r, g, b)). gp.Error for a point outside the sketch or on a line.")
      .def(
          "clear_point_hint",
          [](PySession& s, int x, int y) {
            return locked(s, [&](gp::Session& session) { return session.clear_point_hint(x, y); });
          },
          py::arg("x"), py::arg("y"), "Removes the point hint of the area under (x, y); False if it had none.")
      .def("clear_point_hints",
           [](PySession& s) {
             locked(s, [](gp::Session& session) {
               session.clear_point_hints();
               return 0;
             });
           })
      .def_property_readonly(
          "point_hints",
          [](PySession& s) {
            std::vector<gp::PointHint> points = locked(s, [](gp::Session& x) { return x.point_hints(); });
            py::list out;
            for (const gp::PointHint& p : points)
              out.append(py::make_tuple(p.x, p.y, py::make_tuple(p.colour.r, p.colour.g, p.colour.b), p.area));
            return py::tuple(out);
          },
          "The point hints as (x, y, (r, g, b), area id).")
      .def(
          "area_at",
          [](PySession& s, int x, int y) {
            return locked(s, [&](gp::Session& session) { return session.area_at(x, y); });
          },
          py::arg("x"), py::arg("y"), "The closed area's id under sketch pixel (x, y); -1 on a line.")
      .def_property_readonly(
          "area_labels",
          [](PySession& s) {
            int w = 0, h = 0;
            std::vector<int32_t> labels = locked(s, [&](gp::Session& x) {
              w = x.sketch_width(), h = x.sketch_height();
              return x.area_labels();
            });
            return new_array({h, w}, "int32", labels.data(), labels.size() * sizeof(int32_t));
          },
          "The closed area's id per sketch pixel (-1 on lines): an H x W int32 array at the sketch's size.")
      .def(
          "flats",
          [](PySession& s) {
            gp::ImageRgba flats = running(s, [](gp::Session& x) { return x.flats(); });
            return new_array({flats.height, flats.width, 4}, "uint8", flats.rgba.data(), flats.rgba.size());
          },
          "Every closed area one flat colour (hinted areas exactly their hint), lines transparent: H x W x 4 uint8.")
      .def(
          "layers_ora",
          [](PySession& s) {
            std::vector<uint8_t> bytes = running(s, [](gp::Session& x) { return x.layers_ora(); });
            return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          },
          "The layers (lines, flats, colorized, a mask per region) as OpenRaster file bytes.")
      .def(
          "save_layers",
          [](PySession& s, const py::object& path) {
            const std::string file = path_string(path);
            running(s, [&](gp::Session& x) {
              x.save_layers(file);
              return 0;
            });
          },
          py::arg("path"), "Writes layers_ora() to a .ora file.");
}
