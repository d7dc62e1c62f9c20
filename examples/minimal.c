/* The C API in one page: load a model, rank the regions of a sketch, give the two
 * highest-priority regions a colour, colorize, save.
 *
 *   minimal_c [MODEL.safetensors | -] [SKETCH.png] [OUT.png]       (-: the bundled model) */
#include <stdio.h>
#include <string.h>

#include "guidingpainter/guidingpainter.h"

int main(int argc, char** argv) {
  const char* model_path = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL; /* NULL: bundled */
  const char* sketch_path = argc > 2 ? argv[2] : "examples/samples/1F432-sketch.png";
  const char* out_path = argc > 3 ? argv[3] : "out/minimal_c.png";
  gp_model* model = NULL;
  gp_session* session = NULL;
  gp_image picture = {0, 0, NULL};
  int status = 2;

  if (gp_model_load(model_path, NULL, &model) != GP_OK) goto fail;
  if (gp_session_create_from_file(model, sketch_path, 0, &session) != GP_OK) goto fail;
  int regions = gp_session_region_count(session);
  printf("%d regions\n", regions);
  if (regions >= 1 && gp_session_set_hint(session, 1, 235, 80, 60) != GP_OK) goto fail;
  if (regions >= 2 && gp_session_set_hint(session, 2, 70, 140, 230) != GP_OK) goto fail;
  if (gp_session_colorize(session, &picture) != GP_OK) goto fail;
  if (gp_image_save_png(&picture, out_path) != GP_OK) goto fail;
  printf("wrote %s\n", out_path);
  status = 0;
  goto done;
fail:
  fprintf(stderr, "minimal_c: %s\n", gp_last_error());
done:
  gp_image_free(&picture);
  gp_session_free(session);
  gp_model_free(model);
  return status;
}
