// `guidingpainter serve`: a local web app for the interactive loop. One shared Model, a
// Session per uploaded sketch, the page (src/cli/web/, compiled in) at / and this JSON API:
//
//   POST   /api/sessions[?size=N]              body: PNG or JPEG bytes -> 201 {id, width, height,
//                                              working, regions: [{rank, id, pixels, box}]}
//   GET    /api/sessions/{id}                  the same, with hints [{rank, color}] and
//                                              points [{x, y, color, area}]
//   GET    /api/sessions/{id}/regions.png      the ranked-region picture (working size)
//   GET    /api/sessions/{id}/regions/{rank}/mask.png   the region, white on transparency
//   PUT    /api/sessions/{id}/hints/{rank}     {"color": "#RRGGBB"} -> 204
//   DELETE /api/sessions/{id}/hints/{rank}     -> 204
//   POST   /api/sessions/{id}/points           {"x", "y", "color"} -> 201 {x, y, color, area, channel}
//   DELETE /api/sessions/{id}/points?x=X&y=Y   the point hint of the area under (X, Y) -> 204
//   POST   /api/sessions/{id}/colorize         -> 200 image/png at the sketch's size (the CLI's bytes)
//   GET    /api/sessions/{id}/layers.ora       -> the OpenRaster file (colorize --layers' bytes)
//   DELETE /api/sessions/{id}                  -> 204
//
// Errors are {"error": "..."}: 400 bad image, JSON, colour, rank or point; 404 unknown
// session or path; 413 an upload over --max-upload-mb (refused from its Content-Length,
// never stored); 503 with Retry-After while --max-sessions are live. Sessions idle for
// --session-ttl seconds are dropped. SIGINT / SIGTERM cancel running networks and stop.
// On a loopback address, a request whose Host header names another host is 403 (DNS
// rebinding: another site's page must not reach the server through the browser).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "guidingpainter/guidingpainter.hpp"

namespace gp::cli {

struct ServeOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;                 // 0: any free port (printed when listening)
  int max_sessions = 16;
  int max_upload_mb = 20;
  int session_ttl = 600;                            // seconds
  int max_size = 2048;                              // largest ?size= accepted
  double min_region = SessionOptions{}.min_region;  // SessionOptions::min_region of every session
};

// Serves until SIGINT or SIGTERM; returns the exit status (0 after a signal, 2 when the
// address cannot be bound). Prints "listening on http://HOST:PORT/" on stdout once ready.
int serve(std::shared_ptr<const Model> model, const ServeOptions& options);

// Blocks SIGINT and SIGTERM in the calling thread and the threads it creates from now on
// (serve takes them with sigwait). Call before loading the model: the simulator starts
// threads of its own.
void block_stop_signals();

}  // namespace gp::cli
