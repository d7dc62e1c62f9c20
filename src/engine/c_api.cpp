// The C API over the C++ API: exceptions become a status and a thread-local message.
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

#include "guidingpainter/version.h"
#include "guidingpainter/guidingpainter.h"
#include "guidingpainter/guidingpainter.hpp"

struct gp_model {
  std::shared_ptr<const gp::Model> model;
  std::string device;  // kept for gp_model_device's pointer
};
struct gp_session {
  gp::Session session;
};

namespace {

thread_local std::string last_error;

gp_status fail(gp_status status, const std::string& message) {
  last_error = message;
  return status;
}

// gp::ErrorKind's values are the gp_status codes (include/guidingpainter/error.hpp).
static_assert(int(gp::ErrorKind::Argument) == GP_ERROR_ARGUMENT && int(gp::ErrorKind::Failed) == GP_ERROR_FAILED &&
              int(gp::ErrorKind::Io) == GP_ERROR_IO && int(gp::ErrorKind::Format) == GP_ERROR_FORMAT &&
              int(gp::ErrorKind::Device) == GP_ERROR_DEVICE &&
              int(gp::ErrorKind::OutOfMemory) == GP_ERROR_OUT_OF_MEMORY &&
              int(gp::ErrorKind::Cancelled) == GP_ERROR_CANCELLED);
gp_status status_of(gp::ErrorKind kind) {
  const int k = int(kind);
  return k >= GP_ERROR_ARGUMENT && k <= GP_ERROR_CANCELLED ? gp_status(k) : GP_ERROR_FAILED;
}

// Runs f, turning every exception into the status of its kind with its message.
template <class F> gp_status guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(GP_ERROR_OUT_OF_MEMORY, "out of host memory");
  } catch (const gp::Error& e) {
    return fail(status_of(e.kind()), e.what());
  } catch (const std::exception& e) {
    return fail(GP_ERROR_FAILED, e.what());
  } catch (...) {
    return fail(GP_ERROR_FAILED, "unknown error");
  }
}

gp_status null_argument(const char* function, const char* argument) {
  return fail(GP_ERROR_ARGUMENT, std::string(function) + ": " + argument + " is NULL");
}

// The handles alive now. A handle is looked up by address before it is touched, so a
// freed, twice-freed or made-up pointer is reported, never dereferenced. (An address the
// allocator has since given to a new handle of the same type is that new handle.)
template <class Handle> class Registry {
 public:
  void add(const Handle* h) {
    std::lock_guard<std::mutex> lock(mutex_);
    live_.insert(h);
  }
  bool remove(const Handle* h) {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_.erase(h) == 1;
  }
  bool contains(const Handle* h) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_.count(h) == 1;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<const Handle*> live_;
};

// Never destroyed: handles may be freed by other static destructors at exit.
Registry<gp_model>& models() {
  static auto* registry = new Registry<gp_model>;
  return *registry;
}
Registry<gp_session>& sessions() {
  static auto* registry = new Registry<gp_session>;
  return *registry;
}

gp_status not_live(const char* function, const char* argument, const char* type, const void* h) {
  char address[32];
  std::snprintf(address, sizeof address, "%p", h);
  return fail(GP_ERROR_ARGUMENT, std::string(function) + ": " + argument + " (" + address + ") is not a live " + type +
                                     ": already freed, or not made by this library");
}

gp_status check(const gp_model* m, const char* function, const char* argument = "model") {
  if (!m) return null_argument(function, argument);
  return models().contains(m) ? GP_OK : not_live(function, argument, "gp_model", m);
}
gp_status check(const gp_session* s, const char* function) {
  if (!s) return null_argument(function, "session");
  return sessions().contains(s) ? GP_OK : not_live(function, "session", "gp_session", s);
}

// Copies an image into a malloc'ed gp_image (freed by gp_image_free).
gp_status export_image(const gp::Image& image, gp_image* out) {
  auto* rgb = static_cast<uint8_t*>(std::malloc(image.rgb.size()));
  if (!rgb && !image.rgb.empty()) return fail(GP_ERROR_OUT_OF_MEMORY, "out of host memory for a picture");
  std::memcpy(rgb, image.rgb.data(), image.rgb.size());
  out->width = image.width;
  out->height = image.height;
  out->rgb = rgb;
  return GP_OK;
}

gp_status import_image(const gp_image* in, const char* function, gp::Image* out) {
  if (!in || !in->rgb) return null_argument(function, "image");
  if (in->width <= 0 || in->height <= 0)
    return fail(GP_ERROR_ARGUMENT, std::string(function) + ": image size " + std::to_string(in->width) + " x " +
                                       std::to_string(in->height) + " is not positive");
  // The copy may not fit in memory: a status, never an exception out of a C function.
  return guarded([&] {
    out->width = in->width;
    out->height = in->height;
    out->rgb.assign(in->rgb, in->rgb + size_t(in->width) * size_t(in->height) * 3);
    return GP_OK;
  });
}

// A caller's buffer of `capacity` elements must hold `need`.
gp_status check_capacity(const char* function, size_t capacity, size_t need, const char* unit) {
  if (capacity >= need) return GP_OK;
  return fail(GP_ERROR_ARGUMENT, std::string(function) + ": the buffer holds " + std::to_string(capacity) + " " + unit +
                                     ", the session needs " + std::to_string(need));
}

gp_session* register_session(std::unique_ptr<gp_session> s) {
  sessions().add(s.get());
  return s.release();
}

gp::SessionOptions session_options(const gp_session_options* o) {
  gp::SessionOptions options;
  if (o) {
    options.size = o->size;
    options.cuda_stream = o->cuda_stream;
    options.min_region = o->min_region;
    if (o->progress) {
      auto* callback = o->progress;
      void* user = o->progress_user;
      options.progress = [callback, user](const char* stage, int done, int total) {
        return callback(stage, done, total, user) != 0;
      };
    }
  }
  return options;
}

bool valid_rank(const gp_session* s, int rank) { return rank >= 1 && rank <= int(s->session.regions().size()); }

gp_status bad_rank(const gp_session* s, const char* function, int rank) {
  return fail(GP_ERROR_ARGUMENT, std::string(function) + ": rank " + std::to_string(rank) + " is out of range 1.." +
                                     std::to_string(s->session.regions().size()));
}

}  // namespace

extern "C" {

const char* gp_last_error(void) { return last_error.c_str(); }
const char* gp_version(void) { return GP_VERSION_STRING; }

const char* gp_status_name(gp_status status) {
  // "GP_ERROR_" and the kind's name (gp::error_kind_name), upper-cased; never destroyed,
  // so the strings stay valid while the process exits.
  static const std::array<std::string, GP_ERROR_CANCELLED + 1>* names = [] {
    auto* n = new std::array<std::string, GP_ERROR_CANCELLED + 1>;
    (*n)[GP_OK] = "GP_OK";
    for (int s = GP_ERROR_ARGUMENT; s <= GP_ERROR_CANCELLED; ++s) {
      (*n)[size_t(s)] = std::string("GP_ERROR_") + gp::error_kind_name(gp::ErrorKind(s));
      for (char& c : (*n)[size_t(s)]) c = char(std::toupper(static_cast<unsigned char>(c)));
    }
    return n;
  }();
  const int s = int(status);
  return s >= GP_OK && s <= GP_ERROR_CANCELLED ? (*names)[size_t(s)].c_str() : "GP_STATUS_UNKNOWN";
}

void gp_model_options_default(gp_model_options* options) {
  if (options) *options = gp_model_options{nullptr, 0, nullptr};
}

gp_status gp_model_load_with(const char* path, const gp_model_options* o, gp_model** out) {
  if (!out) return null_argument("gp_model_load", "out");
  *out = nullptr;
  return guarded([&] {
    gp::ModelOptions options;
    if (o) {
      if (o->device) options.device = gp::parse_device(o->device);
      if (o->gpu_index < 0)
        return fail(GP_ERROR_ARGUMENT, "gp_model_load: gpu_index " + std::to_string(o->gpu_index) + " is negative");
      options.gpu_index = o->gpu_index;
      if (o->precision) options.precision = gp::parse_precision(o->precision);
    }
    auto model = path ? gp::Model::load(std::string(path), options) : gp::Model::load(options);
    std::string device = model->device_name();
    auto handle = std::make_unique<gp_model>(gp_model{std::move(model), std::move(device)});
    models().add(handle.get());
    *out = handle.release();
    return GP_OK;
  });
}

gp_status gp_model_load_precision(const char* path, const char* device, const char* precision, gp_model** out) {
  gp_model_options options;
  gp_model_options_default(&options);
  options.device = device;
  options.precision = precision;
  return gp_model_load_with(path, &options, out);
}

gp_status gp_model_load(const char* path, const char* device, gp_model** out) {
  return gp_model_load_precision(path, device, nullptr, out);
}

const char* gp_model_device(const gp_model* model) {
  return check(model, "gp_model_device") == GP_OK ? model->device.c_str() : nullptr;
}
const char* gp_model_path(const gp_model* model) {
  return check(model, "gp_model_path") == GP_OK ? model->model->path().c_str() : nullptr;
}

const char* gp_model_precision(const gp_model* model) {
  return check(model, "gp_model_precision") == GP_OK ? gp::precision_name(model->model->precision()) : nullptr;
}

gp_status gp_model_free(gp_model* model) {
  if (!model) return GP_OK;
  if (!models().remove(model)) return not_live("gp_model_free", "model", "gp_model", model);
  delete model;
  return GP_OK;
}

gp_status gp_model_config(const gp_model* model, int* width, int* num_regions, int* train_size) {
  if (gp_status st = check(model, "gp_model_config")) return st;
  const gp::ModelConfig& c = model->model->config();
  if (width) *width = c.width;
  if (num_regions) *num_regions = c.num_regions;
  if (train_size) *train_size = c.train_size;
  return GP_OK;
}

void gp_session_options_default(gp_session_options* options) {
  if (options) *options = gp_session_options{0, nullptr, nullptr, nullptr, gp::SessionOptions{}.min_region};
}

gp_status gp_session_create_with(gp_model* model, const gp_image* sketch, const gp_session_options* options,
                                 gp_session** out) {
  if (!out) return null_argument("gp_session_create", "out");
  *out = nullptr;
  if (gp_status st = check(model, "gp_session_create")) return st;
  gp::Image image;
  if (gp_status s = import_image(sketch, "gp_session_create", &image)) return s;
  return guarded([&] {
    *out = register_session(
        std::make_unique<gp_session>(gp_session{gp::Session(model->model, image, session_options(options))}));
    return GP_OK;
  });
}

gp_status gp_session_create_from_file_with(gp_model* model, const char* sketch_path, const gp_session_options* options,
                                           gp_session** out) {
  if (!out) return null_argument("gp_session_create_from_file", "out");
  *out = nullptr;
  if (gp_status st = check(model, "gp_session_create_from_file")) return st;
  if (!sketch_path) return null_argument("gp_session_create_from_file", "sketch_path");
  return guarded([&] {
    *out = register_session(std::make_unique<gp_session>(
        gp_session{gp::Session(model->model, gp::Image::load(sketch_path), session_options(options))}));
    return GP_OK;
  });
}

gp_status gp_session_create(gp_model* model, const gp_image* sketch, int size, gp_session** out) {
  gp_session_options options;
  gp_session_options_default(&options);
  options.size = size;
  return gp_session_create_with(model, sketch, &options, out);
}

gp_status gp_session_create_from_file(gp_model* model, const char* sketch_path, int size, gp_session** out) {
  gp_session_options options;
  gp_session_options_default(&options);
  options.size = size;
  return gp_session_create_from_file_with(model, sketch_path, &options, out);
}

gp_status gp_session_free(gp_session* session) {
  if (!session) return GP_OK;
  if (!sessions().remove(session)) return not_live("gp_session_free", "session", "gp_session", session);
  delete session;
  return GP_OK;
}

gp_status gp_session_size(const gp_session* session, int* width, int* height) {
  if (gp_status st = check(session, "gp_session_size")) return st;
  if (width) *width = session->session.width();
  if (height) *height = session->session.height();
  return GP_OK;
}

int gp_session_region_count(const gp_session* session) {
  if (!session || check(session, "gp_session_region_count") != GP_OK) return 0;
  return int(session->session.regions().size());
}

gp_status gp_session_region(const gp_session* session, int rank, gp_region* out) {
  if (gp_status st = check(session, "gp_session_region")) return st;
  if (!out) return null_argument("gp_session_region", "out");
  if (!valid_rank(session, rank)) return bad_rank(session, "gp_session_region", rank);
  const gp::Region& r = session->session.regions()[rank - 1];
  *out = gp_region{r.rank, r.id, r.pixels, r.x0, r.y0, r.x1, r.y1};
  return GP_OK;
}

gp_status gp_session_labels(const gp_session* session, uint8_t* out, size_t capacity) {
  if (gp_status st = check(session, "gp_session_labels")) return st;
  if (!out) return null_argument("gp_session_labels", "out");
  const std::vector<uint8_t>& labels = session->session.labels();
  if (gp_status s = check_capacity("gp_session_labels", capacity, labels.size(), "bytes")) return s;
  std::memcpy(out, labels.data(), labels.size());
  return GP_OK;
}

gp_status gp_session_region_mask(const gp_session* session, int rank, uint8_t* out, size_t capacity) {
  if (gp_status st = check(session, "gp_session_region_mask")) return st;
  if (!out) return null_argument("gp_session_region_mask", "out");
  if (!valid_rank(session, rank)) return bad_rank(session, "gp_session_region_mask", rank);
  const size_t need = size_t(session->session.width()) * size_t(session->session.height());
  if (gp_status s = check_capacity("gp_session_region_mask", capacity, need, "bytes")) return s;
  return guarded([&] {
    const std::vector<uint8_t> mask = session->session.region_mask(rank);
    std::memcpy(out, mask.data(), mask.size());
    return GP_OK;
  });
}

gp_status gp_session_set_hint(gp_session* session, int rank, uint8_t r, uint8_t g, uint8_t b) {
  if (gp_status st = check(session, "gp_session_set_hint")) return st;
  if (!valid_rank(session, rank)) return bad_rank(session, "gp_session_set_hint", rank);
  return guarded([&] {
    session->session.set_hint(rank, gp::Rgb{r, g, b});
    return GP_OK;
  });
}

gp_status gp_session_clear_hint(gp_session* session, int rank) {
  if (gp_status st = check(session, "gp_session_clear_hint")) return st;
  if (!valid_rank(session, rank)) return bad_rank(session, "gp_session_clear_hint", rank);
  session->session.clear_hint(rank);
  return GP_OK;
}

gp_status gp_session_clear_hints(gp_session* session) {
  if (gp_status st = check(session, "gp_session_clear_hints")) return st;
  session->session.clear_hints();
  return GP_OK;
}

gp_status gp_session_hints_from_reference(gp_session* session, const gp_image* reference, int n) {
  if (gp_status st = check(session, "gp_session_hints_from_reference")) return st;
  if (n < 0) return fail(GP_ERROR_ARGUMENT, "gp_session_hints_from_reference: n is negative");
  gp::Image image;
  if (gp_status s = import_image(reference, "gp_session_hints_from_reference", &image)) return s;
  return guarded([&] {
    session->session.hints_from_reference(image, n);
    return GP_OK;
  });
}

gp_status gp_session_set_point_hint(gp_session* session, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
  if (gp_status st = check(session, "gp_session_set_point_hint")) return st;
  return guarded([&] {
    session->session.set_point_hint(x, y, gp::Rgb{r, g, b});
    return GP_OK;
  });
}

gp_status gp_session_clear_point_hint(gp_session* session, int x, int y, int* had) {
  if (gp_status st = check(session, "gp_session_clear_point_hint")) return st;
  return guarded([&] {
    const bool cleared = session->session.clear_point_hint(x, y);
    if (had) *had = cleared;
    return GP_OK;
  });
}

gp_status gp_session_clear_point_hints(gp_session* session) {
  if (gp_status st = check(session, "gp_session_clear_point_hints")) return st;
  session->session.clear_point_hints();
  return GP_OK;
}

gp_status gp_session_save_layers(gp_session* session, const char* path) {
  if (gp_status st = check(session, "gp_session_save_layers")) return st;
  if (!path) return null_argument("gp_session_save_layers", "path");
  return guarded([&] {
    session->session.save_layers(path);
    return GP_OK;
  });
}

gp_status gp_session_colorize(gp_session* session, gp_image* out) {
  if (gp_status st = check(session, "gp_session_colorize")) return st;
  if (!out) return null_argument("gp_session_colorize", "out");
  return guarded([&] { return export_image(session->session.colorize(), out); });
}

gp_status gp_session_colorize_raw(gp_session* session, float* out, size_t capacity) {
  if (gp_status st = check(session, "gp_session_colorize_raw")) return st;
  if (!out) return null_argument("gp_session_colorize_raw", "out");
  const size_t need = 3 * size_t(session->session.width()) * size_t(session->session.height());
  if (gp_status s = check_capacity("gp_session_colorize_raw", capacity, need, "floats")) return s;
  return guarded([&] {
    const std::vector<float> raw = session->session.colorize_raw();
    std::memcpy(out, raw.data(), raw.size() * sizeof(float));
    return GP_OK;
  });
}

gp_status gp_session_region_overlay(const gp_session* session, gp_image* out) {
  if (gp_status st = check(session, "gp_session_region_overlay")) return st;
  if (!out) return null_argument("gp_session_region_overlay", "out");
  return guarded([&] { return export_image(session->session.region_overlay(), out); });
}

gp_status gp_image_load(const char* path, gp_image* out) {
  if (!path) return null_argument("gp_image_load", "path");
  if (!out) return null_argument("gp_image_load", "out");
  return guarded([&] { return export_image(gp::Image::load(path), out); });
}

gp_status gp_image_save_png(const gp_image* image, const char* path) {
  if (!path) return null_argument("gp_image_save_png", "path");
  gp::Image copy;
  if (gp_status s = import_image(image, "gp_image_save_png", &copy)) return s;
  return guarded([&] {
    copy.save_png(path);
    return GP_OK;
  });
}

void gp_image_free(gp_image* image) {
  if (!image) return;
  std::free(image->rgb);
  image->rgb = nullptr;
  image->width = image->height = 0;
}

}  // extern "C"
