// guidingpainter: the command-line tool. People's scripts use these options as they
// are (see README). Exit codes: 0 success, 2 bad input or a failure the one-line
// message on stderr explains, 128 + the signal when SIGINT or SIGTERM cancelled the run;
// no output file is ever left half-written.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"
#include "guidingpainter/version.h"
#include "src/cli/eval.h"
#include "src/cli/plan_report.h"
#include "src/cli/progress.h"
#include "src/cli/hint_spec.h"
#include "src/cli/selftest.h"
#include "src/cli/serve.h"
#include "src/image/file_io.h"
#include "src/image/image_io.h"
#include "src/image/npy.h"

namespace {

const char* const kCommands[] = {"info", "regions", "colorize", "eval", "plan", "serve", "selftest"};
constexpr int kMaxSize = 8192;

struct Common {
  std::string model;  // empty: the bundled model (or $GP_MODEL)
  std::string device = "auto";
  std::string precision;  // empty: the device's default (ModelOptions::precision)
  int size = 0;
  double min_region = gp::SessionOptions{}.min_region;
  bool progress = false;  // --progress: report even when stderr is no terminal
};

// A long command's session: cancelled by SIGINT / SIGTERM, its progress on stderr when
// that is a terminal (or with --progress).
struct Watched {
  explicit Watched(const Common& c) {
    gp::cli::install_cancel_signals();
    const bool terminal = ::isatty(2) == 1;
    if (terminal || c.progress) line = std::make_unique<gp::cli::ProgressLine>(terminal);
  }
  gp::SessionOptions options(const Common& c) const {
    gp::SessionOptions o;
    o.size = c.size;
    o.min_region = c.min_region;
    o.cancel = &gp::cli::g_cancel;
    if (line) o.progress = line->callback();
    return o;
  }
  // Before the outputs are written: the line cleared, and nothing written once cancelled.
  void finish() {
    if (line) line->finish();
    if (gp::cli::g_cancel.load())
      throw gp::Error(gp::ErrorKind::Cancelled, "cancelled before the outputs were written");
  }
  std::unique_ptr<gp::cli::ProgressLine> line;
};

// "1.23 GiB", "456.7 MiB": the sizes people compare with their machine's memory.
std::string human_bytes(size_t bytes) {
  char text[32];
  const double mib = double(bytes) / double(1 << 20);
  if (mib >= 1024) std::snprintf(text, sizeof text, "%.2f GiB", mib / 1024);
  else std::snprintf(text, sizeof text, "%.1f MiB", mib);
  return text;
}

gp::Session open_session(const std::shared_ptr<const gp::Model>& model, const std::string& sketch,
                         const gp::SessionOptions& options) {
  gp::Image image = gp::Image::load(sketch);
  // A working size far beyond the sketch's own costs time and memory and adds no detail:
  // say so before the long run starts, not after.
  const gp::SessionFootprint f = gp::Session::footprint(*model, image.width, image.height, options);
  if (f.enlargement > 2)
    std::fprintf(
        stderr,
        "guidingpainter: note: the working size %d x %d enlarges the %d x %d sketch %.3gx; it needs about %s of %s memory "
        "(--size sets the working size)\n",
        f.width, f.height, image.width, image.height, f.enlargement, human_bytes(f.bytes).c_str(),
        model->device_name().rfind("gpusim", 0) == 0 ? "host" : "device");
  return gp::Session(model, image, options);
}

std::shared_ptr<const gp::Model> load_model(const Common& c) {
  gp::ModelOptions options;
  options.device = gp::parse_device(c.device);
  if (!c.precision.empty()) options.precision = gp::parse_precision(c.precision);
  return c.model.empty() ? gp::Model::load(options) : gp::Model::load(c.model, options);
}

// Where a command's one-line summary goes: stdout, unless an output is written there
// (`-o /dev/stdout | viewer`), where a line of text would follow the picture's bytes.
FILE* summary_stream(std::initializer_list<const std::string*> outputs) {
  struct stat out {};
  if (::fstat(1, &out) != 0) return stderr;
  for (const std::string* path : outputs) {
    struct stat st {};
    if (!path->empty() && ::stat(path->c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino)
      return stderr;
  }
  return stdout;
}

// What an output is written as, and the extension its name must have.
struct Format {
  const char* name;
  const char* extension;
  static const Format Png, Npy, Json, Ora;
};
const Format Format::Png{"PNG", ".png"}, Format::Npy{".npy", ".npy"}, Format::Json{"JSON", ".json"},
    Format::Ora{"OpenRaster", ".ora"};

// The output files a command was given, checked before any work: a name, the extension
// of the format written (a FIFO or device takes any name), a writable place, no file
// named twice. So a bad output fails in milliseconds, not after the network ran.
class OutputCheck {
 public:
  explicit OutputCheck(const CLI::App* command) : command_(command) {}
  // A file the command reads: no output may be it (`-o s.png --sketch s.png` would
  // replace the sketch, as `cp a a` would), checked by device and inode, so a link or
  // another spelling of the name is caught too.
  OutputCheck& input(const std::string& option, const std::string& path) {
    struct stat st {};
    if (command_->count(option) != 0 && !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      inputs_.emplace_back(option + " " + path, std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
    return *this;
  }
  OutputCheck& add(const std::string& option, const std::string& path, const Format& format) {
    if (command_->count(option) == 0) return *this;
    if (path.empty()) throw gp::Error(gp::ErrorKind::Argument, option + " \"\": an empty file name");
    try {
      gp::check_output_name(path, format.extension, format.name);
    } catch (const gp::Error& e) {
      throw gp::Error(e.kind(), option + " " + e.what());
    }
    gp::check_writable(path);
    // The same file: the same inode when it exists, else the same folder and name.
    std::string key;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      key = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    } else {
      std::error_code ec;
      const std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
      key = ec ? std::filesystem::path(path).lexically_normal().string() : canonical.string();
    }
    for (const auto& [input, input_key] : inputs_)
      if (input_key == key)
        throw gp::Error(gp::ErrorKind::Argument, option + " " + path + " is the input " + input +
                                                     ": it would be replaced; name another output file");
    for (const auto& [other_option, other_key] : seen_)
      if (other_key == key)
        throw gp::Error(gp::ErrorKind::Argument, option + " and " + other_option + " name the same file " + path);
    seen_.emplace_back(option, key);
    return *this;
  }

 private:
  const CLI::App* command_;
  std::vector<std::pair<std::string, std::string>> seen_, inputs_;
};

// A command's output files, encoded in memory first and written together at the end:
// if one cannot be written, the ones already written are removed again, so a failed
// command leaves no partial output.
class Outputs {
 public:
  void add(const std::string& path, std::vector<uint8_t> bytes) {
    if (!path.empty()) files_.emplace_back(path, std::move(bytes));
  }
  void add_text(const std::string& path, const std::string& text) {
    add(path, std::vector<uint8_t>(text.begin(), text.end()));
  }
  void write() {
    std::vector<std::string> done;
    try {
      for (const auto& [path, bytes] : files_) {
        gp::write_file(path, bytes);
        done.push_back(path);
      }
    } catch (...) {
      for (const auto& path : done) std::filesystem::remove(path);
      throw;
    }
  }

 private:
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files_;
};

// Labels at the working size as int32 H x W .npy.
std::vector<uint8_t> labels_npy(const gp::Session& s) {
  const std::vector<int32_t> ids(s.labels().begin(), s.labels().end());
  return gp::npy_encode(gp::NpyType::Int32, ids.data(), {size_t(s.height()), size_t(s.width())});
}

// One region per line, keys in the documented order.
std::string regions_json(const gp::Session& s) {
  std::string out = "[";
  for (const gp::Region& r : s.regions()) {
    const nlohmann::ordered_json j = {
        {"rank", r.rank}, {"id", r.id}, {"pixels", r.pixels}, {"box", {r.x0, r.y0, r.x1, r.y1}}};
    out += (out.size() > 1 ? ",\n " : "\n ") + j.dump();
  }
  return out + "\n]\n";
}

int cmd_info(const Common& c) {
  const auto model = load_model(c);
  const gp::ModelConfig& cfg = model->config();
  std::printf("model:        %s\n", model->path().c_str());
  std::printf("width:        %d\n", cfg.width);
  std::printf("regions:      %d\n", cfg.num_regions);
  std::printf("train size:   %d\n", cfg.train_size);
  std::printf("center:       %g\n", double(cfg.center));
  std::printf("device:       %s\n", model->device_name().c_str());
  std::printf("precision:    %s\n", gp::precision_name(model->precision()));
  return 0;
}

// Square working size: --size, else the model's training size (256 with --width).
int cmd_plan(const Common& c, gp::cli::PlanOptions options, int width) {
  int size = c.size;
  options.precision = c.precision.empty() ? "fp16" : c.precision;  // a plan is for a GPU
  if (width == 0) {
    const auto model = load_model(c);
    width = model->config().width;
    if (size == 0) size = model->config().train_size;
  }
  options.width = width;
  options.h = options.w = size > 0 ? size : 256;
  gp::cli::print_plan_report(options);
  return 0;
}

int cmd_regions(const Common& c, const std::string& sketch, const std::string& out, const std::string& labels,
                const std::string& json) {
  Watched watched(c);
  const auto model = load_model(c);
  gp::Session s = open_session(model, sketch, watched.options(c));
  watched.finish();
  Outputs files;
  files.add(out, gp::encode_png(s.region_overlay(), out));
  if (!labels.empty()) files.add(labels, labels_npy(s));
  files.add_text(json, regions_json(s));
  files.write();
  std::fprintf(summary_stream({&out, &labels, &json}), "%zu regions at %d x %d; overlay written to %s\n",
               s.regions().size(), s.width(), s.height(), out.c_str());
  return 0;
}

// colorize's files besides -o.
struct ColorizeOutputs {
  std::string raw, labels, hint_picture, layers, flats;
};

int cmd_colorize(const Common& c, const std::string& sketch, const std::string& out,
                 const std::vector<std::string>& hint_texts, const std::vector<std::string>& point_texts,
                 const std::string& reference, int reference_hints, const ColorizeOutputs& more) {
  const std::string &raw = more.raw, &labels = more.labels, &hint_picture = more.hint_picture;
  std::vector<gp::cli::PointHintSpec> points;
  for (const auto& text : point_texts) points.push_back(gp::cli::parse_point_hint(text));
  std::vector<gp::cli::HintSpec> hints;
  std::set<int> ranks;
  for (const auto& text : hint_texts) {
    hints.push_back(gp::cli::parse_hint(text));
    if (!ranks.insert(hints.back().rank).second)
      throw gp::Error(gp::ErrorKind::Argument, "--hint: rank " + std::to_string(hints.back().rank) + " is given twice");
  }
  if (reference.empty() != (reference_hints < 0))
    throw gp::Error(gp::ErrorKind::Argument,
                    "--reference and --hints go together (the first K ranked regions get the reference's colours)");
  Watched watched(c);
  const auto model = load_model(c);
  gp::Session s = open_session(model, sketch, watched.options(c));
  const int regions = int(s.regions().size());
  for (const auto& h : hints)
    if (h.rank > regions)
      throw gp::Error(gp::ErrorKind::Argument, "--hint " + std::to_string(h.rank) + "=...: rank out of range: " +
                                                   sketch + " has " + std::to_string(regions) + " regions");
  if (!reference.empty()) s.hints_from_reference(gp::Image::load(reference), reference_hints);
  for (const auto& h : hints) s.set_hint(h.rank, h.colour);
  // One point per closed area, as one --hint per rank: the API lets a later point
  // replace an earlier one (a click in the app), but on one command line two points in
  // one area are a contradiction, not an edit.
  std::vector<std::pair<int, const gp::cli::PointHintSpec*>> area_points;
  for (const auto& p : points) {
    const std::string where = "--hint-at " + std::to_string(p.x) + "," + std::to_string(p.y);
    try {
      s.set_point_hint(p.x, p.y, p.colour);  // checks the point itself
    } catch (const gp::Error& e) {
      throw gp::Error(e.kind(), where + " (" + sketch + "): " + e.what());
    }
    const int area = s.area_at(p.x, p.y);
    for (const auto& [other_area, other] : area_points)
      if (other_area == area)
        throw gp::Error(gp::ErrorKind::Argument, where + " and --hint-at " + std::to_string(other->x) + "," +
                                                     std::to_string(other->y) + " lie in the same closed area of " +
                                                     sketch + ": give one point per area");
    area_points.emplace_back(area, &p);
  }
  Outputs files;
  files.add(out, gp::encode_png(s.colorize(), out));
  if (!raw.empty()) {
    const std::vector<float> y = s.colorize_raw();
    files.add(raw, gp::npy_encode(gp::NpyType::Float32, y.data(), {3, size_t(s.height()), size_t(s.width())}));
  }
  if (!labels.empty()) files.add(labels, labels_npy(s));
  if (!hint_picture.empty()) files.add(hint_picture, gp::encode_png(s.hint_picture(), hint_picture));
  if (!more.flats.empty()) {
    const gp::ImageRgba flats = s.flats();
    files.add(more.flats, gp::encode_png_rgba(flats.width, flats.height, flats.rgba, more.flats));
  }
  if (!more.layers.empty()) files.add(more.layers, s.layers_ora());
  watched.finish();
  files.write();
  std::fprintf(summary_stream({&out, &raw, &labels, &hint_picture, &more.layers, &more.flats}),
               "colorized %s (%d x %d, %d regions) -> %s\n", sketch.c_str(), s.width(), s.height(), regions,
               out.c_str());
  return 0;
}

void print_progress(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

int cmd_eval(const Common& c, gp::cli::EvalOptions options, const std::string& order, const std::string& hints,
             const std::string& json) {
  if (order == "priority") {
    options.order = gp::cli::HintOrder::Priority;
  } else if (order == "random") {
    options.order = gp::cli::HintOrder::Random;
  } else {
    throw gp::Error(gp::ErrorKind::Argument, "--order '" + order + "': expected priority or random");
  }
  std::stringstream list(hints);
  for (std::string item; std::getline(list, item, ',');) {
    size_t used = 0;
    int k = -1;
    try {
      k = std::stoi(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || k < 0)
      throw gp::Error(gp::ErrorKind::Argument, "--hints '" + hints + "': expected non-negative counts like 0,1,2,5");
    options.hints.push_back(k);
  }
  if (options.hints.empty())
    throw gp::Error(gp::ErrorKind::Argument, "--hints '" + hints + "': give at least one hint count, like 0,1,2,5");
  options.size = c.size;
  options.min_region = c.min_region;
  const auto model = load_model(c);
  const auto r = gp::cli::run_eval(model, options, print_progress);
  std::printf("%d images, %.2f non-empty regions per image, order %s\n", r.images, r.mean_regions, order.c_str());
  std::printf("%8s %10s %10s\n", "hints", "PSNR dB", "flat dB");
  for (size_t k = 0; k < options.hints.size(); ++k)
    std::printf("%8d %10.2f %10.2f\n", options.hints[k], r.psnr[k], r.flat_psnr[k]);
  if (!json.empty()) {
    nlohmann::json j = {{"order", order},         {"images", r.images},       {"hints", options.hints},
                        {"psnr", r.psnr},         {"flat_psnr", r.flat_psnr}, {"mean_regions", r.mean_regions},
                        {"model", model->path()}, {"seed", options.seed}};
    Outputs files;
    files.add_text(json, j.dump(1) + "\n");
    files.write();
  }
  return 0;
}

}  // namespace

// `guidingpainter --device sim info` as well as `guidingpainter info --device sim`: the
// common options given before the command are moved after it, and a first word that is
// no command is named as such (CLI11 would only say that a command is required).
std::vector<std::string> arguments_in_order(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  const auto is_command = [](const std::string& a) {
    return std::any_of(std::begin(kCommands), std::end(kCommands), [&](const char* c) { return a == c; });
  };
  size_t i = 1;
  while (i < args.size() && !is_command(args[i])) {
    const std::string& a = args[i];
    if (a == "--device" || a == "--model" || a == "--precision") {
      i += 2;
    } else if (a.rfind("--device=", 0) == 0 || a.rfind("--model=", 0) == 0 || a.rfind("--precision=", 0) == 0) {
      i += 1;
    } else if (a.empty() || a[0] != '-') {
      std::string list;
      for (const char* c : kCommands) list += (list.empty() ? "" : ", ") + std::string(c);
      throw gp::Error(gp::ErrorKind::Argument, "unknown command '" + a + "' (the commands: " + list + ")");
    } else {
      return args;  // --help, --version, or an error CLI11 explains
    }
  }
  if (i >= args.size() || i == 1) return args;
  std::vector<std::string> ordered{args[0], args[i]};
  ordered.insert(ordered.end(), args.begin() + 1, args.begin() + long(i));
  ordered.insert(ordered.end(), args.begin() + long(i) + 1, args.end());
  return ordered;
}

int main(int argc, char** argv) {
  CLI::App app{"guidingpainter: interactive sketch colorization that tells you where to give the next colour hint"};
  app.require_subcommand(1);
  // One line, prefixed like every other error of the tool (scripts grep for it).
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("guidingpainter: ") + e.what() + " (see --help)\n";
  });
  Common common;
  app.set_version_flag("--version", GP_VERSION_STRING);
  auto add_common = [&](CLI::App* cmd, bool with_size) {
    cmd->add_option("--model", common.model, "weights (.safetensors); default: the bundled model or $GP_MODEL");
    cmd->add_option("--device", common.device, "auto, cuda or sim (default auto; env GP_DEVICE)");
    cmd->add_option(
        "--precision", common.precision,
        "fp32, fp16 or bf16: the convolutions' number format (16-bit: tensor cores, sm_80+; default fp16 on "
        "such a GPU, else fp32)");
    if (with_size)
      cmd->add_option("--size", common.size, "long side of the working size (default: the model's training size)")
          ->check(CLI::Validator(
              [](std::string& text) {
                int v = 0;
                const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > kMaxSize) {
                  std::string message = "'";  // appended piecewise: GCC 12's false -Wrestrict on "'" + text
                  message += text;
                  message += "' is not a whole number from 1 to ";
                  message += std::to_string(kMaxSize);
                  return message;
                }
                return std::string();
              },
              "1.." + std::to_string(kMaxSize)));
  };
  auto add_min_region = [&](CLI::App* cmd) {
    cmd->add_option(
           "--min-region", common.min_region,
           "regions under this fraction of the working size's pixels (and under 4 pixels) get no rank; 0: rank "
           "every region (default 0.001)")
        ->check(CLI::Range(0.0, 0.999999));
  };

  auto* selftest = app.add_subcommand("selftest", "run a kernel on the chosen device and check it against the CPU");
  selftest->add_option("--device", common.device, "auto, cuda or sim");

  auto* info = app.add_subcommand("info", "print a model's configuration");
  add_common(info, false);

  std::string sketch, out, labels, json;
  ColorizeOutputs colorize_outputs;
  std::string &raw = colorize_outputs.raw, &hint_picture = colorize_outputs.hint_picture, reference;
  std::vector<std::string> hint_texts, point_texts;
  int reference_hints = -1;
  auto* regions = app.add_subcommand("regions", "rank the regions of a sketch and draw them");
  add_common(regions, true);
  add_min_region(regions);
  regions->add_option("--sketch", sketch, "sketch (PNG or JPEG)")->required();
  regions->add_option("-o", out, "region overlay PNG")->required();
  regions->add_option("--labels", labels, "region ids as int32 H x W .npy (working size)");
  regions->add_option("--json", json, "ranked regions as JSON");
  regions->add_flag("--progress", common.progress, "report progress on stderr also when it is not a terminal");

  auto* colorize = app.add_subcommand("colorize", "colorize a sketch");
  add_common(colorize, true);
  add_min_region(colorize);
  colorize->add_option("--sketch", sketch, "sketch (PNG or JPEG)")->required();
  colorize->add_option("-o", out, "colorized PNG at the sketch's size")->required();
  colorize->add_option("--hint", hint_texts, "RANK=#RRGGBB, repeatable; overrides the reference's colour");
  colorize->add_option("--hint-at", point_texts,
                       "X,Y=#RRGGBB, repeatable: the closed area under pixel (X, Y) of the sketch becomes its own "
                       "region with that colour");
  colorize->add_option("--layers", colorize_outputs.layers,
                       "OpenRaster (.ora) with the layers lines, flats, colorized and one mask per region");
  colorize->add_option("--flats", colorize_outputs.flats,
                       "PNG: every closed area one flat colour, lines transparent (sketch's size)");
  colorize->add_option("--reference", reference, "colour image whose region means become hints");
  colorize->add_option("--hints", reference_hints, "how many ranked regions take the reference's colour");
  colorize->add_option("--raw", raw, "network output as float32 3 x H x W .npy (working size)");
  colorize->add_option("--labels", labels, "region ids as int32 H x W .npy (working size)");
  colorize->add_option("--hint-picture", hint_picture, "PNG of the hints given (working size)");
  colorize->add_flag("--progress", common.progress, "report progress on stderr also when it is not a terminal");

  gp::cli::EvalOptions eval_options;
  std::string eval_hints = "0,1,2,5,10,20,30", order = "priority";
  auto* eval = app.add_subcommand("eval", "PSNR against ground truth by number of hints");
  add_common(eval, true);
  add_min_region(eval);
  eval->add_option("--data", eval_options.data_dir, "DIR with sketch/*.png and color/*.png")->required();
  eval->add_option("--hints", eval_hints, "comma-separated hint counts (default 0,1,2,5,10,20,30)");
  eval->add_option("--order", order, "priority or random (default priority)");
  eval->add_option("--seed", eval_options.seed, "seed of the random order (default 0)");
  eval->add_option("--json", json, "results as JSON");

  gp::cli::PlanOptions plan_options;
  int plan_width = 0;
  auto* plan = app.add_subcommand("plan", "print the per-layer plan of both U-Nets with a roofline estimate for a GPU");
  add_common(plan, true);
  plan->add_option("--width", plan_width, "U-Net width instead of the model's (then no model is loaded)")
      ->check(CLI::Range(1, gp::ModelConfig::kMaxWidth));
  plan->add_option("--gpu", plan_options.gpu, "h200, h100 or a100 (default h200)");

  gp::cli::ServeOptions serve_options;
  auto* serve = app.add_subcommand("serve", "a local web app for the interactive loop (page and JSON API)");
  add_common(serve, false);
  add_min_region(serve);
  serve->add_option("--host", serve_options.host, "address to listen on (default 127.0.0.1: this machine only)");
  serve->add_option("--port", serve_options.port, "port (default 8080; 0: any free port)")->check(CLI::Range(0, 65535));
  serve->add_option("--max-sessions", serve_options.max_sessions, "sketches open at once (default 16)")
      ->check(CLI::Range(1, 1024));
  serve->add_option("--max-upload-mb", serve_options.max_upload_mb, "largest upload in MB (default 20)")
      ->check(CLI::Range(1, 256));
  serve
      ->add_option("--session-ttl", serve_options.session_ttl,
                   "seconds before an idle session is dropped (default 600)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  serve->add_option("--max-size", serve_options.max_size, "largest working size a client may ask for (default 2048)")
      ->check(CLI::Range(1, kMaxSize));

  try {
    std::vector<std::string> ordered = arguments_in_order(argc, argv);
    std::vector<char*> pointers;
    for (std::string& a : ordered) pointers.push_back(a.data());
    app.parse(int(pointers.size()), pointers.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const gp::Error& e) {
    std::fprintf(stderr, "guidingpainter: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    // Every output path checked before a model is loaded.
    if (*regions)
      OutputCheck(regions)
          .input("--sketch", sketch)
          .add("-o", out, Format::Png)
          .add("--labels", labels, Format::Npy)
          .add("--json", json, Format::Json);
    if (*colorize)
      OutputCheck(colorize)
          .input("--sketch", sketch)
          .input("--reference", reference)
          .add("-o", out, Format::Png)
          .add("--raw", raw, Format::Npy)
          .add("--labels", labels, Format::Npy)
          .add("--hint-picture", hint_picture, Format::Png)
          .add("--layers", colorize_outputs.layers, Format::Ora)
          .add("--flats", colorize_outputs.flats, Format::Png);
    if (*eval) OutputCheck(eval).add("--json", json, Format::Json);
    if (*selftest) return gp::cli_selftest(gp::parse_device(common.device));
    if (*info) return cmd_info(common);
    if (*regions) return cmd_regions(common, sketch, out, labels, json);
    if (*colorize) {
      colorize_outputs.labels = labels;
      return cmd_colorize(common, sketch, out, hint_texts, point_texts, reference, reference_hints, colorize_outputs);
    }
    if (*eval) return cmd_eval(common, eval_options, order, eval_hints, json);
    if (*plan) return cmd_plan(common, plan_options, plan_width);
    if (*serve) {
      gp::cli::block_stop_signals();  // before the model's loading starts the simulator's threads
      serve_options.min_region = common.min_region;
      return gp::cli::serve(load_model(common), serve_options);
    }
  } catch (const gp::Error& e) {
    if (e.kind() == gp::ErrorKind::Cancelled && gp::cli::cancel_signal() != 0) {
      std::fprintf(stderr, "guidingpainter: cancelled by %s; nothing written\n",
                   gp::cli::cancel_signal() == SIGINT ? "SIGINT" : "SIGTERM");
      return 128 + gp::cli::cancel_signal();
    }
    std::fprintf(stderr, "guidingpainter: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "guidingpainter: %s\n", e.what());
    return 2;
  }
  return 2;
}
