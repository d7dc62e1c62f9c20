// `guidingpainter serve` (the API in src/cli/serve.h): cpp-httplib's server, its handlers
// and the process's stop signals. The sessions live in serve_sessions.h, the JSON
// values in serve_json.h, the page's files in web_assets.h.
#include "src/cli/serve.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include "src/cli/serve_json.h"
#include "src/cli/serve_sessions.h"
#include "src/cli/web_assets.h"
#include "src/image/image_io.h"

namespace gp::cli {
namespace {

using httplib::Request;
using httplib::Response;
using json = nlohmann::ordered_json;

constexpr const char* kRetryAfterSeconds = "10";
constexpr const char* kJson = "application/json";

// An uploaded sketch's limits: 4096 x 4096 at most (a session keeps ~20 bytes per sketch
// pixel for its closed areas and layers; 16 of them must fit in memory).
DecodeLimits upload_limits(size_t max_bytes) {
  DecodeLimits limits;
  limits.max_pixels = int64_t(1) << 24;
  limits.max_file_bytes = max_bytes;
  return limits;
}

std::string_view content_type_of(std::string_view name) {
  const auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".png")) return "image/png";
  if (ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), kJson);
}

void send_error(Response& res, int status, std::string_view message) {
  res.status = status;
  if (status == 503) res.set_header("Retry-After", kRetryAfterSeconds);
  res.set_content(error_body(message), kJson);
}

void send_png(Response& res, const std::vector<uint8_t>& png) {
  res.status = 200;
  res.set_content(reinterpret_cast<const char*>(png.data()), png.size(), "image/png");
}

// "localhost", "::1" or an IPv4 address of 127.0.0.0/8 (not a name that merely starts
// with "127.").
bool is_loopback_name(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr address{};
  return ::inet_pton(AF_INET, std::string(host).c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

// The host name of a Host header: "[::1]:8080" -> "::1", "localhost:8080" -> "localhost".
std::string_view host_name(std::string_view header) {
  if (!header.empty() && header.front() == '[') {
    const size_t close = header.find(']');
    return close == std::string_view::npos ? header : header.substr(1, close - 1);
  }
  const size_t colon = header.rfind(':');
  return colon == std::string_view::npos ? header : header.substr(0, colon);
}

class Server {
 public:
  Server(std::shared_ptr<const Model> model, const ServeOptions& options)
      : model_(std::move(model)), options_(options), registry_(size_t(options.max_sessions)) {}

  int run();

 private:
  using Handler = std::function<void(const Request&, Response&)>;
  using SessionHandler = std::function<void(const Request&, Response&, LiveSession&)>;

  // A handler whose exceptions become JSON errors: gp::Error by its kind (400 for the
  // client's mistakes), HttpError by its status, anything else 500.
  Handler guarded(Handler handler) const;
  // A handler of /api/sessions/{id}/...: 404 for an unknown id; runs with the session's
  // mutex held.
  Handler on_session(SessionHandler handler);

  void add_routes();
  void create_session(const Request& req, Response& res);
  void reap_idle_sessions();
  void wait_for_stop_signal();

  std::shared_ptr<const Model> model_;
  const ServeOptions options_;
  SessionRegistry registry_;
  httplib::Server http_;
  std::atomic<bool> stopping_{false};  // every session's cancel flag: a stop ends running networks
  std::mutex reaper_mutex_;
  std::condition_variable reaper_wake_;
};

Server::Handler Server::guarded(Handler handler) const {
  return [this, handler = std::move(handler)](const Request& req, Response& res) {
    try {
      handler(req, res);
    } catch (const HttpError& e) {
      send_error(res, e.status, e.what());
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled || stopping_.load()) send_error(res, 503, "the server is stopping");
      else send_error(res, http_status(e.kind()), e.what());
    } catch (const std::bad_alloc&) {
      send_error(res, 503, "out of memory");
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  };
}

Server::Handler Server::on_session(SessionHandler handler) {
  return guarded([this, handler = std::move(handler)](const Request& req, Response& res) {
    const std::string id = req.matches[1];
    const std::shared_ptr<LiveSession> live = registry_.find(id);
    if (!live) throw HttpError(404, "no session " + id + " (unknown, deleted, or dropped after being idle)");
    std::lock_guard<std::mutex> lock(live->mutex);
    handler(req, res, *live);
  });
}

int rank_of(const Request& req) { return parse_int(req.matches[2].str(), "rank", 1, INT_MAX); }

void Server::create_session(const Request& req, Response& res) {
  int size = 0;
  if (req.has_param("size")) size = parse_int(req.get_param_value("size"), "size", 1, options_.max_size);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(req.body.data()), req.body.size());
  if (bytes.empty()) throw Error(ErrorKind::Argument, "the upload is empty: send the PNG or JPEG bytes as the body");
  const Image sketch = decode_image(bytes, "the upload", upload_limits(size_t(options_.max_upload_mb) << 20));

  // The place is taken before the segmentation runs, so that uploads arriving together
  // cannot exceed the limit while they are being segmented.
  std::optional<SessionRegistry::Slot> slot = registry_.reserve();
  if (!slot)
    throw HttpError(503, "all " + std::to_string(options_.max_sessions) +
                             " sessions are in use; try again when one is closed or idle");
  SessionOptions session_options;
  session_options.size = size;
  session_options.min_region = options_.min_region;
  session_options.cancel = &stopping_;
  const SessionFootprint footprint = Session::footprint(*model_, sketch.width, sketch.height, session_options);
  auto live = std::make_shared<LiveSession>(Session(model_, sketch, session_options));
  const json body = session_json(live->session);  // before add(): no other request can see it yet
  json out = {{"id", registry_.add(std::move(*slot), live)}};
  out.update(body);
  // As the CLI's note: a working size far beyond the sketch costs memory and time, adds no detail.
  if (footprint.enlargement > 2)
    out["note"] = "the working size " + std::to_string(footprint.width) + " x " + std::to_string(footprint.height) +
                  " enlarges the " + std::to_string(sketch.width) + " x " + std::to_string(sketch.height) + " sketch " +
                  std::to_string(int(footprint.enlargement + 0.5)) + "x; it takes about " +
                  std::to_string((footprint.bytes + (1 << 20) - 1) >> 20) + " MiB";
  send_json(res, 201, out);
}

void Server::add_routes() {
  for (const WebAsset& asset : web_assets()) {
    std::string path = "/";  // appended, not "/" + name: GCC 12's false -Wrestrict
    if (asset.name != "index.html") path += asset.name;
    http_.Get(regex_escape(path), [asset](const Request&, Response& res) {
      res.set_content(asset.bytes.data(), asset.bytes.size(), std::string(content_type_of(asset.name)));
    });
  }

  http_.Post("/api/sessions", guarded([this](const Request& req, Response& res) { create_session(req, res); }));

  const std::string session = "/api/sessions/([0-9a-f]{32})";
  http_.Get(session, on_session([](const Request& req, Response& res, LiveSession& s) {
              json out = {{"id", req.matches[1].str()}};
              out.update(session_json(s.session));
              add_hints_json(s.session, out);
              send_json(res, 200, out);
            }));
  http_.Delete(session, guarded([this](const Request& req, Response& res) {
                 const std::string id = req.matches[1];
                 if (!registry_.erase(id)) throw HttpError(404, "no session " + id);
                 res.status = 204;
               }));
  http_.Get(session + "/regions\\.png", on_session([](const Request&, Response& res, LiveSession& s) {
              send_png(res, encode_png(s.session.region_overlay(), "regions.png"));
            }));
  http_.Get(session + "/regions/([0-9]+)/mask\\.png", on_session([](const Request& req, Response& res, LiveSession& s) {
              const std::vector<uint8_t> mask = s.session.region_mask(rank_of(req));
              std::vector<uint8_t> rgba(mask.size() * 4, 0);
              for (size_t p = 0; p < mask.size(); ++p)
                if (mask[p]) std::fill_n(&rgba[4 * p], 4, uint8_t(255));
              send_png(res, encode_png_rgba(s.session.width(), s.session.height(), rgba, "mask.png"));
            }));
  http_.Put(session + "/hints/([0-9]+)", on_session([](const Request& req, Response& res, LiveSession& s) {
              const int rank = rank_of(req);
              const nlohmann::json body = parse_object(req.body);
              s.session.set_hint(rank,
                                 parse_colour(body.contains("color") ? body["color"] : nlohmann::json(), "color"));
              res.status = 204;
            }));
  http_.Delete(session + "/hints/([0-9]+)", on_session([](const Request& req, Response& res, LiveSession& s) {
                 s.session.clear_hint(rank_of(req));
                 res.status = 204;
               }));
  http_.Post(session + "/points", on_session([](const Request& req, Response& res, LiveSession& s) {
               const nlohmann::json body = parse_object(req.body);
               const int x = int_member(body, "x"), y = int_member(body, "y");
               const Rgb colour = parse_colour(body.contains("color") ? body["color"] : nlohmann::json(), "color");
               s.session.set_point_hint(x, y, colour);
               const int area = s.session.area_at(x, y);
               for (const PointHint& p : s.session.point_hints())
                 if (p.area == area) return send_json(res, 201, point_json(s.session, p));
               throw Error(ErrorKind::Failed,
                           "the point hint at " + std::to_string(x) + ", " + std::to_string(y) + " was not kept");
             }));
  http_.Delete(session + "/points", on_session([](const Request& req, Response& res, LiveSession& s) {
                 if (!req.has_param("x") || !req.has_param("y"))
                   throw Error(ErrorKind::Argument, "give the point as ?x=X&y=Y");
                 const int x = parse_int(req.get_param_value("x"), "x", 0, INT_MAX);
                 const int y = parse_int(req.get_param_value("y"), "y", 0, INT_MAX);
                 if (!s.session.clear_point_hint(x, y))
                   throw HttpError(
                       404, "no point hint in the area under (" + std::to_string(x) + ", " + std::to_string(y) + ")");
                 res.status = 204;
               }));
  http_.Post(session + "/colorize", on_session([](const Request&, Response& res, LiveSession& s) {
               send_png(res, encode_png(s.session.colorize(), "colorized.png"));
             }));
  http_.Get(session + "/layers\\.ora", on_session([](const Request&, Response& res, LiveSession& s) {
              const std::vector<uint8_t> ora = s.session.layers_ora();
              res.set_header("Content-Disposition", "attachment; filename=\"layers.ora\"");
              res.set_content(reinterpret_cast<const char*>(ora.data()), ora.size(), "image/openraster");
            }));

  // Listening on loopback, a request must name a loopback host: a page of another site
  // that renamed its own host to 127.0.0.1 (DNS rebinding) is refused, not served.
  if (is_loopback_name(options_.host))
    http_.set_pre_routing_handler([](const Request& req, Response& res) {
      const std::string host = req.get_header_value("Host");
      if (host.empty() || is_loopback_name(host_name(host))) return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, 403, "Host '" + host + "' is not this server, which answers on loopback addresses only");
      return httplib::Server::HandlerResponse::Handled;
    });

  // Anything else (and a route's own error without a body): a JSON error.
  http_.set_error_handler([](const Request& req, Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) return send_error(res, 404, "no such path: " + req.method + " " + req.path);
    if (res.status == 413) return send_error(res, 413, "the upload is larger than the server accepts");
    send_error(res, res.status, "HTTP " + std::to_string(res.status));
  });
  http_.set_post_routing_handler([](const Request& req, Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    if (req.path.rfind("/api/", 0) == 0) res.set_header("Cache-Control", "no-store");
    else
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'");
  });
  http_.set_logger([](const Request& req, const Response& res) {
    std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });
}

// Drops idle sessions every half TTL (at least every 30 s, at most every 0.2 s).
void Server::reap_idle_sessions() {
  const auto ttl = std::chrono::seconds(options_.session_ttl);
  const auto period =
      std::clamp<std::chrono::milliseconds>(ttl / 2, std::chrono::milliseconds(200), std::chrono::milliseconds(30000));
  std::unique_lock<std::mutex> lock(reaper_mutex_);
  while (!reaper_wake_.wait_for(lock, period, [&] { return stopping_.load(); })) {
    const size_t dropped = registry_.reap(ttl);
    if (dropped) std::fprintf(stderr, "dropped %zu idle session%s\n", dropped, dropped == 1 ? "" : "s");
  }
}

int Server::run() {
  add_routes();
  // Bodies over the limit are answered 413 from their Content-Length without being kept;
  // a client that asks first (Expect: 100-continue) is told before it sends them.
  const size_t max_body = size_t(options_.max_upload_mb) << 20;
  http_.set_payload_max_length(max_body);
  http_.set_expect_100_continue_handler([max_body](const Request& req, Response& res) {
    if (req.get_header_value<uint64_t>("Content-Length") > max_body) {
      send_error(res, 413, "the upload is larger than the server's " + std::to_string(max_body >> 20) + " MB");
      return 413;
    }
    return 100;
  });
  // One worker per session that may be live, and a few for the page's files.
  const size_t workers = size_t(std::clamp(options_.max_sessions + 4, 8, 64));
  http_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };

  // SO_REUSEADDR alone: cpp-httplib's default adds SO_REUSEPORT, with which a second
  // server binds the same port and the kernel splits the connections between the two.
  http_.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  int port = options_.port;
  const bool bound =
      port == 0 ? (port = http_.bind_to_any_port(options_.host)) > 0 : http_.bind_to_port(options_.host, port);
  if (!bound) {
    std::fprintf(stderr, "guidingpainter: cannot listen on %s port %d (in use, or not an address of this machine)\n",
                 options_.host.c_str(), options_.port);
    return 2;
  }
  const bool ipv6 = options_.host.find(':') != std::string::npos;
  std::printf("listening on http://%s%s%s:%d/ (model %s, %s)\n", ipv6 ? "[" : "", options_.host.c_str(),
              ipv6 ? "]" : "", port, model_->path().c_str(), model_->device_name().c_str());
  std::fflush(stdout);

  std::thread signals([this] { wait_for_stop_signal(); });
  std::thread reaper([this] { reap_idle_sessions(); });
  http_.listen_after_bind();
  stopping_ = true;
  reaper_wake_.notify_all();
  reaper.join();
  ::pthread_kill(signals.native_handle(), SIGTERM);  // no-op once it has returned
  signals.join();
  registry_.clear();
  std::fprintf(stderr, "stopped\n");
  return 0;
}

// The stop signals are blocked in every thread (block_stop_signals) and taken here, so no
// handler runs on a worker: the server is stopped from an ordinary thread.
void Server::wait_for_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  if (sigwait(&set, &signal) != 0 || stopping_.load()) return;
  std::fprintf(stderr, "%s: stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
  stopping_ = true;  // running networks end at their next launch
  http_.stop();
}

}  // namespace

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int serve(std::shared_ptr<const Model> model, const ServeOptions& options) {
  block_stop_signals();
  Server server(std::move(model), options);
  return server.run();
}

}  // namespace gp::cli
