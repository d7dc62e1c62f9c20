/* guidingpainter C API: the C++ API (guidingpainter.hpp) for other languages.
 *
 *   gp_model* model = NULL;
 *   if (gp_model_load("weights/guidingpainter-emoji.safetensors", "auto", &model) != GP_OK)
 *     fprintf(stderr, "%s\n", gp_last_error());
 *   gp_session* s = NULL;
 *   gp_session_create_from_file(model, "sketch.png", 0, &s);
 *   gp_session_set_hint(s, 1, 230, 40, 40);
 *   gp_image out = {0};
 *   gp_session_colorize(s, &out);
 *   gp_image_save_png(&out, "out.png");
 *   gp_image_free(&out); gp_session_free(s); gp_model_free(model);
 *
 * Every function returns a gp_status; on failure gp_last_error() holds a message
 * for the calling thread naming the problem. Nothing here exits or aborts. Objects
 * are owned by the caller and freed with their _free function (NULL is allowed).
 * A model may be shared by sessions on several threads; a session is used by one
 * thread at a time. */
#ifndef GUIDINGPAINTER_H
#define GUIDINGPAINTER_H

#include <stdint.h>

#include "guidingpainter/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gp_status {
  GP_OK = 0,
  GP_ERROR_ARGUMENT = 1, /* a null pointer, a rank out of range, a bad size */
  GP_ERROR_FAILED = 2    /* a file, the model, the device: see gp_last_error() */
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
  int rank;                 /* 1-based: rank 1 is asked first */
  int id;                   /* segmentation channel */
  int64_t pixels;
  int x0, y0, x1, y1;       /* inclusive box at the working size */
} gp_region;

const char* gp_last_error(void);
const char* gp_version(void);

/* path: a .safetensors model, or NULL for the bundled one ($GP_MODEL if set, else
 * share/guidingpainter/ of the install tree). device: "auto", "cuda", "sim" or NULL
 * (auto; GP_DEVICE overrides auto); the device's default precision (see
 * gp_model_load_precision). */
gp_status gp_model_load(const char* path, const char* device, gp_model** out);
/* The same with the convolutions' number format: "fp32", "fp16" or "bf16" (16-bit needs
 * tensor cores: sm_80 or later, or the simulator; GP_ERROR otherwise), or NULL: the
 * device's default, fp16 on a GPU of sm_80 or later, fp32 elsewhere. */
gp_status gp_model_load_precision(const char* path, const char* device, const char* precision, gp_model** out);
/* "fp32", "fp16" or "bf16" (a static string); NULL for a NULL model. */
const char* gp_model_precision(const gp_model* model);
void gp_model_free(gp_model* model);
gp_status gp_model_config(const gp_model* model, int* width, int* num_regions, int* train_size);

/* size: long side of the working size, 0 for the model's training size. */
gp_status gp_session_create(gp_model* model, const gp_image* sketch, int size, gp_session** out);
gp_status gp_session_create_from_file(gp_model* model, const char* sketch_path, int size, gp_session** out);
void gp_session_free(gp_session* session);
gp_status gp_session_size(const gp_session* session, int* width, int* height);
int gp_session_region_count(const gp_session* session);
gp_status gp_session_region(const gp_session* session, int rank, gp_region* out);
gp_status gp_session_set_hint(gp_session* session, int rank, uint8_t r, uint8_t g, uint8_t b);
gp_status gp_session_clear_hint(gp_session* session, int rank);
gp_status gp_session_hints_from_reference(gp_session* session, const gp_image* reference, int n);
gp_status gp_session_colorize(gp_session* session, gp_image* out);
gp_status gp_session_region_overlay(const gp_session* session, gp_image* out);

gp_status gp_image_load(const char* path, gp_image* out);
gp_status gp_image_save_png(const gp_image* image, const char* path);
void gp_image_free(gp_image* image);

#ifdef __cplusplus
}
#endif

#endif /* GUIDINGPAINTER_H */
