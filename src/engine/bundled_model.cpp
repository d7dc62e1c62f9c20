// Where the bundled model is: $GP_MODEL, else the install tree's share/guidingpainter/
// reached from the library or program this code was linked into (relative paths baked in
// from GNUInstallDirs, so the tree works wherever it is copied), else <dir>/share/
// guidingpainter/ (the build tree's copy), else the configured install prefix's data
// folder (a program linked with the static library lives outside the install tree), else
// this source tree's weights/ (binaries of a build tree elsewhere: tests).
#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "src/engine/bundled_model.h"

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

std::string join(const std::vector<std::string>& places) {
  std::string text;
  for (const std::string& p : places) text += (text.empty() ? "" : ", ") + p;
  return text;
}

// The places looked at, in order, after $GP_MODEL.
std::vector<fs::path> candidates() {
  std::vector<fs::path> places;
  if (const fs::path dir = this_object().parent_path(); !dir.empty())
    for (const fs::path& p :
         {dir / GP_LIB_TO_DATA / GP_BUNDLED_MODEL_FILE, dir / GP_BIN_TO_DATA / GP_BUNDLED_MODEL_FILE,
          dir / "share" / "guidingpainter" / GP_BUNDLED_MODEL_FILE})
      places.push_back(p.lexically_normal());
  places.emplace_back(GP_INSTALLED_MODEL);
  places.emplace_back(GP_SOURCE_MODEL);
  return places;
}

}  // namespace

// The lenient form: where nothing holds the model, the source tree's path (its load then
// names the file it cannot open).
std::string bundled_model_path() {
  try {
    return find_bundled_model();
  } catch (const Error&) {
    return GP_SOURCE_MODEL;
  }
}

std::string find_bundled_model() {
  if (const char* env = std::getenv("GP_MODEL"); env && *env) return env;
  std::vector<std::string> places;
  for (const fs::path& p : candidates()) places.push_back(p.string());
  return first_model_file(places);
}

std::string first_model_file(const std::vector<std::string>& places) {
  std::error_code ec;
  std::vector<std::string> tried;
  for (const std::string& place : places) {
    if (fs::is_regular_file(place, ec)) return place;
    if (std::find(tried.begin(), tried.end(), place) == tried.end()) tried.push_back(place);
  }
  throw Error(ErrorKind::Io, std::string("the bundled model was not found: $GP_MODEL is not set and none of ") +
                                 join(tried) + " exists; set GP_MODEL to a model file (.safetensors), or name one");
}

}  // namespace gp
