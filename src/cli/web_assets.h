// The web app's files (src/cli/web/), compiled into the program so that `guidingpainter
// serve` needs nothing beside it and cannot be pointed at the file system. The .cpp is
// generated at build time by src/cli/web_embed.cmake; editing a file rebuilds it.
#pragma once

#include <string_view>
#include <vector>

namespace gp::cli {

struct WebAsset {
  std::string_view name;  // the file's name in src/cli/web/, e.g. "app.js"
  std::string_view bytes;
};

// Every file, in name order.
const std::vector<WebAsset>& web_assets();

}  // namespace gp::cli
