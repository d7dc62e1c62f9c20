// Where the bundled model is: $GP_MODEL, else the install tree's share/guidingpainter/
// reached from the library or program this code was linked into (relative paths baked in
// from GNUInstallDirs, so the tree works wherever it is copied), else <dir>/share/
// guidingpainter/ (the build tree's copy), else this source tree's weights/ (binaries of a
// build tree elsewhere: tests).
#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "guidingpainter/guidingpainter.hpp"

namespace gp {

namespace fs = std::filesystem;

namespace {

// The file holding this function's code: libguidingpainter.so, or the executable it was
// linked into statically.
fs::path this_object() {
  Dl_info info{};
  link_map* map = nullptr;
  std::error_code ec;
  // The main program's link map has an empty name: then it is /proc/self/exe.
  if (dladdr1(reinterpret_cast<void*>(&this_object), &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) && map &&
      map->l_name && *map->l_name) {
    fs::path p = fs::canonical(map->l_name, ec);
    if (!ec) return p;
  }
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  return ec ? fs::path() : exe;
}

}  // namespace

std::string bundled_model_path() {
  if (const char* env = std::getenv("GP_MODEL"); env && *env) return env;
  const fs::path dir = this_object().parent_path();
  std::error_code ec;
  if (!dir.empty())
    for (const fs::path& candidate : {dir / GP_LIB_TO_DATA / GP_BUNDLED_MODEL_FILE, dir / GP_BIN_TO_DATA / GP_BUNDLED_MODEL_FILE,
                                      dir / "share" / "guidingpainter" / GP_BUNDLED_MODEL_FILE})
      if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  return GP_SOURCE_MODEL;
}

}  // namespace gp
