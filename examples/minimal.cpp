// The C++ API in one page: load a model, rank the regions of a sketch, give the two
// highest-priority regions a colour, colorize, save.
//
//   minimal_cpp [MODEL.safetensors | -] [SKETCH.png] [OUT.png]     (-: the bundled model)
#include <cstdio>
#include <cstring>

#include "guidingpainter/guidingpainter.hpp"

int main(int argc, char** argv) {
  const char* model_path = argc > 1 && std::strcmp(argv[1], "-") != 0 ? argv[1] : nullptr;
  const char* sketch_path = argc > 2 ? argv[2] : "examples/samples/1F432-sketch.png";
  const char* out_path = argc > 3 ? argv[3] : "out/minimal_cpp.png";
  try {
    auto model = model_path ? gp::Model::load(model_path) : gp::Model::load();  // no path: the bundled model
    gp::Session session(model, gp::Image::load(sketch_path));
    std::printf("model %s\n%zu regions on %s\n", model->path().c_str(), session.regions().size(),
                model->device_name().c_str());
    for (const gp::Region& r : session.regions())
      std::printf("  rank %2d: channel %2d, %lld pixels\n", r.rank, r.id, static_cast<long long>(r.pixels));
    const gp::Rgb colours[2] = {{235, 80, 60}, {70, 140, 230}};
    for (int rank = 1; rank <= 2 && rank <= int(session.regions().size()); ++rank)
      session.set_hint(rank, colours[rank - 1]);
    session.colorize().save_png(out_path);
    std::printf("wrote %s\n", out_path);
    return 0;
  } catch (const gp::Error& e) {
    std::fprintf(stderr, "minimal_cpp: %s\n", e.what());
    return 2;
  }
}
