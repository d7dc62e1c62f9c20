// The values `guidingpainter serve` reads from and writes into its JSON bodies (the API
// is described in src/cli/serve_api.h). No HTTP here.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

#include "guidingpainter/guidingpainter.hpp"

namespace gp::cli {

// A reply's status other than 200 with the message of its {"error": ...} body, thrown
// by the handlers (unknown session 404, full 503, ...).
struct HttpError : std::runtime_error {
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

// The status a library error becomes: the client's fault (Argument, Format) 400, memory
// 503 (try again later), anything else 500.
int http_status(ErrorKind kind);

// {"error": message}
std::string error_body(std::string_view message);

// "#RRGGBB" (either case) as a colour; throws gp::Error (Argument) naming `what`.
Rgb parse_colour(const nlohmann::json& value, std::string_view what);
// "#rrggbb"; a fractional component (a hint from a reference) is rounded.
std::string colour_hex(const Colour& colour);
std::string colour_hex(Rgb colour);

// A whole number from lo to hi written as decimal text (a path or query part); throws
// gp::Error (Argument) naming `what`.
int parse_int(std::string_view text, std::string_view what, int lo, int hi);
// A JSON body as an object; throws gp::Error (Argument) with the parser's message.
nlohmann::json parse_object(const std::string& body);
// A whole-number member of a JSON object; throws gp::Error (Argument) naming it.
int int_member(const nlohmann::json& object, const char* name);

// What POST /api/sessions answers: the sketch's size, the working size, the ranked
// regions (boxes at the working size). The session's mutex must be held.
nlohmann::ordered_json session_json(const Session& session);
// What GET /api/sessions/{id} adds: "hints" [{rank, color}] and "points" [{x, y, color, area}].
void add_hints_json(const Session& session, nlohmann::ordered_json& out);
// A point hint as POST .../points answers it: {x, y, color, area, pixels, channel}
// (area: the closed area's id; pixels: its size in sketch pixels).
nlohmann::ordered_json point_json(const Session& session, const PointHint& point);

}  // namespace gp::cli
