#include "src/cli/serve_json.h"

#include "src/cli/hint_spec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace gp::cli {
namespace {

Error argument(std::string_view what, const std::string& why) {
  return Error(ErrorKind::Argument, std::string(what) + ": " + why);
}

}  // namespace

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Argument:
    case ErrorKind::Format: return 400;
    case ErrorKind::OutOfMemory: return 503;
    default: return 500;
  }
}

std::string error_body(std::string_view message) {
  // Replaced, not thrown on: a library message quoting a client's bytes may not be UTF-8.
  return nlohmann::json{{"error", std::string(message)}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Rgb parse_colour(const nlohmann::json& value, std::string_view what) {
  if (!value.is_string()) throw argument(what, "expected a colour \"#RRGGBB\"");
  const std::string& text = value.get_ref<const std::string&>();
  Rgb colour;
  std::string why;
  if (!parse_colour_hex(text, &colour, &why))
    throw argument(what, "'" + text + "' is not a colour \"#RRGGBB\" (" + why + ")");
  return colour;
}

std::string colour_hex(Rgb colour) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "#";
  for (const uint8_t c : {colour.r, colour.g, colour.b}) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string colour_hex(const Colour& colour) {
  const auto byte = [](float c) { return uint8_t(std::lround(std::fmin(std::fmax(c, 0.0f), 255.0f))); };
  return colour_hex(Rgb{byte(colour[0]), byte(colour[1]), byte(colour[2])});
}

int parse_int(std::string_view text, std::string_view what, int lo, int hi) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    throw argument(what, "'" + std::string(text) + "' is not a whole number from " + std::to_string(lo) + " to " +
                             std::to_string(hi));
  return v;
}

nlohmann::json parse_object(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(ErrorKind::Argument, "the body is not JSON");
  if (!j.is_object()) throw Error(ErrorKind::Argument, "the body is not a JSON object");
  return j;
}

int int_member(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) throw argument(name, "missing");
  if (!it->is_number_integer()) throw argument(name, "expected a whole number, got " + it->dump());
  const int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) throw argument(name, std::to_string(v) + " is out of range");
  return int(v);
}

nlohmann::ordered_json session_json(const Session& session) {
  nlohmann::ordered_json regions = nlohmann::ordered_json::array();
  for (const Region& r : session.regions())
    regions.push_back({{"rank", r.rank}, {"id", r.id}, {"pixels", r.pixels}, {"box", {r.x0, r.y0, r.x1, r.y1}}});
  const double enlargement =
      std::max(double(session.width()) / session.sketch_width(), double(session.height()) / session.sketch_height());
  return {{"width", session.sketch_width()},
          {"height", session.sketch_height()},
          {"working", {{"width", session.width()}, {"height", session.height()}, {"enlargement", enlargement}}},
          {"regions", std::move(regions)}};
}

void add_hints_json(const Session& session, nlohmann::ordered_json& out) {
  nlohmann::ordered_json hints = nlohmann::ordered_json::array();
  for (int rank = 1; rank <= int(session.regions().size()); ++rank) {
    Colour c{};
    if (session.hint(rank, &c)) hints.push_back({{"rank", rank}, {"color", colour_hex(c)}});
  }
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const PointHint& p : session.point_hints())
    points.push_back({{"x", p.x}, {"y", p.y}, {"color", colour_hex(p.colour)}, {"area", p.area}});
  out["hints"] = std::move(hints);
  out["points"] = std::move(points);
}

nlohmann::ordered_json point_json(const Session& session, const PointHint& p) {
  return {{"x", p.x},
          {"y", p.y},
          {"color", colour_hex(p.colour)},
          {"area", p.area},
          {"pixels", session.areas().at(size_t(p.area)).pixels},
          {"channel", p.channel}};
}

}  // namespace gp::cli
