/* guidingpainter C API: the C++ API (guidingpainter.hpp) for other languages.
 *
 *   gp_model* model = NULL;
 *   if (gp_model_load(NULL, NULL, &model) != GP_OK)           // the bundled model
 *     fprintf(stderr, "%s\n", gp_last_error());
 *   gp_session* s = NULL;
 *   gp_session_create_from_file(model, "sketch.png", 0, &s);
 *   gp_session_set_hint(s, 1, 230, 40, 40);
 *   gp_image out = {0};
 *   gp_session_colorize(s, &out);
 *   gp_image_save_png(&out, "out.png");
 *   gp_image_free(&out); gp_session_free(s); gp_model_free(model);
 *
 * Errors: every function that can fail returns a gp_status; on failure
 * gp_last_error() holds a message for the calling thread naming the file, tensor or
 * argument, and every output pointer was set to NULL / left unchanged. Nothing here
 * exits or aborts.
 * Ownership: a gp_model and a gp_session belong to the caller and are released with
 * their _free function (NULL allowed); a session keeps its model alive, so the model
 * may be freed first. Handles are checked against the library's live handles before
 * use: a freed, twice-freed or made-up handle gives GP_ERROR_ARGUMENT and a message,
 * never a crash (functions returning a pointer return NULL then). Images the library returns own their pixels
 * (gp_image_free). Buffers passed in (labels, masks, raw output) belong to the caller; the library only writes them.
 * Threads: a gp_model is immutable and may be shared by sessions on any threads; a
 * gp_session must be used by one thread at a time (calls on distinct sessions may run
 * concurrently). gp_last_error() is per thread. */
#ifndef GUIDINGPAINTER_H
#define GUIDINGPAINTER_H

#include <stddef.h>
#include <stdint.h>

#include "guidingpainter/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gp_status {
  GP_OK = 0,
  GP_ERROR_ARGUMENT = 1,      /* a NULL pointer, a rank out of range, a bad size or option */
  GP_ERROR_FAILED = 2,        /* none of the kinds below */
  GP_ERROR_IO = 3,            /* a file cannot be opened, read or written */
  GP_ERROR_FORMAT = 4,        /* not a valid model (safetensors, tensors, shapes) or image */
  GP_ERROR_DEVICE = 5,        /* the CUDA device: none, not the one asked for, a failed launch */
  GP_ERROR_OUT_OF_MEMORY = 6, /* device, page-locked or host memory */
  GP_ERROR_CANCELLED = 7      /* a progress callback asked to stop */
} gp_status;

typedef struct gp_model gp_model;
typedef struct gp_session gp_session;

/* An 8-bit RGB picture, pixels interleaved, rows top to bottom. Images returned by
 * the library own `rgb` and are released with gp_image_free. */
typedef struct gp_image {
  int width, height;
  uint8_t* rgb;
} gp_image;

typedef struct gp_region {
  int rank; /* 1-based: rank 1 is asked first */
  int id;   /* segmentation channel */
  int64_t pixels;
  int x0, y0, x1, y1; /* inclusive box at the working size */
} gp_region;

/* How to load a model. Initialise with gp_model_options_default, then change fields. */
typedef struct gp_model_options {
  const char* device;    /* "auto" (or NULL; $GP_DEVICE overrides auto), "cuda" or "sim" */
  int gpu_index;         /* which CUDA GPU, when on one (default 0) */
  const char* precision; /* "fp32", "fp16", "bf16", or NULL: fp16 on a GPU of sm_80 or
                            later, fp32 elsewhere (16-bit needs sm_80+ or the simulator) */
} gp_model_options;

/* How to open a session. Initialise with gp_session_options_default. */
typedef struct gp_session_options {
  int size;          /* long side of the working size; 0: the model's training size */
  void* cuda_stream; /* a cudaStream_t of the model's GPU to run on, or NULL: the
                        session's own stream (GPU only; GP_ERROR_ARGUMENT on the simulator) */
  /* Called on the calling thread between the networks' kernel launches: stage "segment"
   * (while the session is created) or "colorize", launches done, their total, and
   * progress_user. Return 0 to cancel: the call fails with GP_ERROR_CANCELLED (a session
   * stays usable after a cancelled colorize). NULL: no reports, and each colorize is one
   * graph replay instead of launch by launch. */
  int (*progress)(const char* stage, int done, int total, void* progress_user);
  void* progress_user;
  /* Regions under max(4, ceil(min_region x the working size's pixels)) pixels get no rank
   * (the colorizer fills them unhinted); 0: every non-empty region is ranked. In [0, 1);
   * default 0.001. */
  double min_region;
} gp_session_options;

/* ---- library -------------------------------------------------------------------------- */

/* The message of this thread's last failed call ("" if none yet); a successful call
 * leaves it as it was. Valid until this thread's next failure. */
const char* gp_last_error(void);
/* GP_VERSION_STRING of the library linked (a static string). */
const char* gp_version(void);
/* "GP_OK", "GP_ERROR_IO", ...: a static string ("GP_STATUS_UNKNOWN" for other values). */
const char* gp_status_name(gp_status status);
/* Where the library's notes go (a line each, no newline; today one: that no GPU was
 * found, so the CPU simulator runs): by default stderr; fn(note, user) instead (from any
 * thread), or nowhere with GP_LOG_DROP. gp_set_log_callback(NULL, NULL) restores stderr.
 * A note already being delivered when the callback is replaced still goes to the old fn
 * and user: keep user alive until no library call is running. */
typedef void (*gp_log_fn)(const char* note, void* user);
void gp_log_drop(const char* note, void* user);
#define GP_LOG_DROP gp_log_drop
void gp_set_log_callback(gp_log_fn fn, void* user);

/* ---- model (thread-safe once loaded) -------------------------------------------------- */

void gp_model_options_default(gp_model_options* options);
/* path: a .safetensors model, or NULL for the bundled one ($GP_MODEL if set, else
 * share/guidingpainter/ of the install tree). options: NULL for the defaults.
 * *out: a new model for gp_model_free, NULL on failure. */
gp_status gp_model_load_with(const char* path, const gp_model_options* options, gp_model** out);
/* gp_model_load_with with the default options but device (NULL: auto). */
gp_status gp_model_load(const char* path, const char* device, gp_model** out);
/* gp_model_load_with with the default options but device and precision. */
gp_status gp_model_load_precision(const char* path, const char* device, const char* precision, gp_model** out);
/* "fp32", "fp16" or "bf16" (a static string); NULL for a NULL model. */
const char* gp_model_precision(const gp_model* model);
/* The device, e.g. "gpusim (CPU SIMT simulator, sm_90 limits)"; owned by the model.
 * NULL for a NULL model. */
const char* gp_model_device(const gp_model* model);
/* The file the model was loaded from; owned by the model. NULL for a NULL model. */
const char* gp_model_path(const gp_model* model);
/* GP_OK for a live model or NULL; GP_ERROR_ARGUMENT (nothing freed) for a model freed
 * before or a pointer this library did not return. */
gp_status gp_model_free(gp_model* model);
/* Any output pointer may be NULL. */
gp_status gp_model_config(const gp_model* model, int* width, int* num_regions, int* train_size);

/* ---- session (one thread at a time) --------------------------------------------------- */

void gp_session_options_default(gp_session_options* options);
/* Segments the sketch (copied) at the working size. options: NULL for the defaults.
 * *out: a new session for gp_session_free, NULL on failure. */
gp_status gp_session_create_with(gp_model* model, const gp_image* sketch, const gp_session_options* options,
                                 gp_session** out);
/* The sketch read from a PNG or JPEG file. */
gp_status gp_session_create_from_file_with(gp_model* model, const char* sketch_path, const gp_session_options* options,
                                           gp_session** out);
/* The same with size only (0: the model's training size). */
gp_status gp_session_create(gp_model* model, const gp_image* sketch, int size, gp_session** out);
gp_status gp_session_create_from_file(gp_model* model, const char* sketch_path, int size, gp_session** out);
/* GP_OK for a live session or NULL; GP_ERROR_ARGUMENT (nothing freed) otherwise. */
gp_status gp_session_free(gp_session* session);
/* The working size the networks run at. */
gp_status gp_session_size(const gp_session* session, int* width, int* height);
/* The number of ranked regions (0 for a NULL or not-live session, with gp_last_error set). */
int gp_session_region_count(const gp_session* session);
gp_status gp_session_region(const gp_session* session, int rank, gp_region* out);
/* Region ids (segmentation channel 0..29) per pixel at the working size, row-major,
 * into out[0 .. width * height); capacity is out's length in bytes (GP_ERROR_ARGUMENT,
 * naming the need, when smaller). */
gp_status gp_session_labels(const gp_session* session, uint8_t* out, size_t capacity);
/* 1 where the pixel belongs to the region of `rank`, else 0: width * height bytes. */
gp_status gp_session_region_mask(const gp_session* session, int rank, uint8_t* out, size_t capacity);

/* Hints by rank (1-based). */
gp_status gp_session_set_hint(gp_session* session, int rank, uint8_t r, uint8_t g, uint8_t b);
gp_status gp_session_clear_hint(gp_session* session, int rank);
gp_status gp_session_clear_hints(gp_session* session);
/* The first n ranked regions get the mean colour of `reference` over the region. */
gp_status gp_session_hints_from_reference(gp_session* session, const gp_image* reference, int n);

/* Point hints, in pixels of the sketch as given: the closed area of the line art under
 * (x, y) becomes its own region with that colour (GP_ERROR_ARGUMENT, naming the point,
 * for a point outside the sketch or on a line). A second point in that area replaces
 * the colour. gp_session_clear_point_hint sets *had (may be NULL) to whether the area
 * under (x, y) had one. */
gp_status gp_session_set_point_hint(gp_session* session, int x, int y, uint8_t r, uint8_t g, uint8_t b);
gp_status gp_session_clear_point_hint(gp_session* session, int x, int y, int* had);
gp_status gp_session_clear_point_hints(gp_session* session);
/* The layers (lines, flats, colorized, a mask per region) as an OpenRaster file. */
gp_status gp_session_save_layers(gp_session* session, const char* path);

/* The colorized picture at the sketch's original size (*out owned by the caller:
 * gp_image_free). */
gp_status gp_session_colorize(gp_session* session, gp_image* out);
/* The colorizer's tanh output at the working size, planar 3 x height x width floats in
 * [-1, 1], into out[0 .. 3 * width * height); capacity counts floats. */
gp_status gp_session_colorize_raw(gp_session* session, float* out, size_t capacity);
/* The ranked regions in distinct colours with their rank numbers (working size). */
gp_status gp_session_region_overlay(const gp_session* session, gp_image* out);

/* ---- images --------------------------------------------------------------------------- */

/* A PNG or JPEG file; *out owned by the caller (gp_image_free). */
gp_status gp_image_load(const char* path, gp_image* out);
gp_status gp_image_save_png(const gp_image* image, const char* path);
/* Frees an image's pixels and zeroes it; NULL and an empty image are allowed. */
void gp_image_free(gp_image* image);

#ifdef __cplusplus
}
#endif

#endif /* GUIDINGPAINTER_H */
