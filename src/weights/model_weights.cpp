#include "src/weights/model_weights.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

#include "src/common/error.h"
#include "src/common/printable.h"

namespace gp {

namespace {

constexpr double kBatchNormEps = 1e-5;
constexpr int kColorizerOutChannels = 3;
constexpr std::string_view kFormatName = "guidingpainter";
constexpr std::string_view kFormatVersion = "1";
constexpr std::array<const char*, 4> kBatchNormFields = {"weight", "bias", "running_mean", "running_var"};

std::string quote_text(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out = "'";  // appended piecewise, see quote_name in safetensors.cpp
  out += printable(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  out += '\'';
  return out;
}

std::string_view required(const SafetensorsFile& file, std::string_view key) {
  const auto value = file.metadata_value(key);
  if (!value) {
    throw Error(ErrorKind::Format, file.display_name() + ": metadata has no '" + std::string(key) +
                                       "' (is this a GuidingPainter weight file written by tools/reference.py?)");
  }
  return *value;
}

// A metadata value written as a plain decimal integer (as Python's str(int) writes it).
int metadata_int(const SafetensorsFile& file, std::string_view key, int lo, int hi) {
  const std::string_view text = required(file, key);
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    throw Error(ErrorKind::Format, file.display_name() + ": metadata '" + std::string(key) + "' is " +
                                       quote_text(text) + ", expected an integer in " + std::to_string(lo) + ".." +
                                       std::to_string(hi));
  }
  return value;
}

std::string tensor_name(std::string_view net, std::string_view block, std::string_view part, std::string_view field) {
  return std::string(net) + "." + std::string(block) + "." + std::string(part) + "." + std::string(field);
}

// "[o,i,y,x]" of the flat row-major index `flat` in `shape`.
std::string unravel(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return format_shape(index);
}

struct NetSpec {
  const char* name;
  int in_channels;
  int classes;
};

std::array<NetSpec, 2> net_specs(const ModelConfig& config) {
  return {{{"segmentator", config.seg_in_channels, config.num_regions},
           {"colorizer", config.col_in_channels, kColorizerOutChannels}}};
}

// Validates and folds; the tensors' presence, shapes and dtypes are already checked.
class Folder {
 public:
  explicit Folder(const SafetensorsFile& file) : file_(file) {}

  // A checked tensor decoded to float, with every value finite.
  std::vector<float> finite(const std::string& name) {
    const TensorView& tensor = file_.at(name);
    std::vector<float> values = decode_to_float(file_, tensor);
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        throw Error(ErrorKind::Format, file_.display_name() + ": tensor '" + name + "' has a non-finite value (" +
                                           (std::isnan(values[i]) ? "nan"
                                            : values[i] > 0       ? "inf"
                                                                  : "-inf") +
                                           ") at " + unravel(static_cast<int64_t>(i), tensor.shape));
      }
    }
    return values;
  }

  ConvLayer conv_bn(const std::string& prefix, const char* conv, const char* bn, int cin, int cout) {
    ConvLayer layer{prefix + "." + conv,
                    cin,
                    cout,
                    3,
                    finite(prefix + "." + conv + ".weight"),
                    finite(prefix + "." + conv + ".bias")};
    std::array<std::vector<float>, 4> stats;
    for (size_t f = 0; f < kBatchNormFields.size(); ++f)
      stats[f] = finite(prefix + "." + bn + "." + kBatchNormFields[f]);
    const std::vector<float>& gamma = stats[0];
    const std::vector<float>& beta = stats[1];
    const std::vector<float>& mean = stats[2];
    const std::vector<float>& var = stats[3];
    const size_t per_output = static_cast<size_t>(cin) * 9;
    for (int o = 0; o < cout; ++o) {
      if (var[o] < 0) {
        throw Error(ErrorKind::Format, file_.display_name() + ": tensor '" + prefix + "." + bn + ".running_var' has " +
                                           std::to_string(var[o]) + " at [" + std::to_string(o) +
                                           "], a variance must be >= 0");
      }
      const double scale = static_cast<double>(gamma[o]) / std::sqrt(static_cast<double>(var[o]) + kBatchNormEps);
      for (size_t k = 0; k < per_output; ++k) {
        const size_t i = static_cast<size_t>(o) * per_output + k;
        layer.weight[i] = to_float(layer, static_cast<double>(layer.weight[i]) * scale, "weight", i);
      }
      const double bias = (static_cast<double>(layer.bias[o]) - mean[o]) * scale + beta[o];
      layer.bias[o] = to_float(layer, bias, "bias", static_cast<size_t>(o));
    }
    return layer;
  }

  ConvLayer plain(const std::string& prefix, int cin, int cout) {
    return ConvLayer{prefix, cin, cout, 1, finite(prefix + ".weight"), finite(prefix + ".bias")};
  }

 private:
  // A folded value rounded to float; it must stay finite (a huge gamma over a tiny
  // variance can overflow float even though every stored value is finite).
  float to_float(const ConvLayer& layer, double value, const char* what, size_t index) {
    if (!(std::fabs(value) <= static_cast<double>(std::numeric_limits<float>::max()))) {
      throw Error(ErrorKind::Format, file_.display_name() + ": folding BatchNorm into '" + layer.name + "' gives " +
                                         what + "[" + std::to_string(index) + "] = " + std::to_string(value) +
                                         ", beyond float range");
    }
    return static_cast<float>(value);
  }

  const SafetensorsFile& file_;
};

}  // namespace

ModelConfig read_model_config(const SafetensorsFile& file) {
  const std::string& name = file.display_name();
  const auto format = file.metadata_value("format");
  if (format != kFormatName) {
    throw Error(ErrorKind::Format, name + ": metadata 'format' is " +
                                       (format ? quote_text(*format) : std::string("missing")) + ", expected '" +
                                       std::string(kFormatName) +
                                       "' (is this a GuidingPainter weight file written by tools/reference.py?)");
  }
  const std::string_view version = required(file, "format_version");
  if (version != kFormatVersion) {
    throw Error(ErrorKind::Format, name + ": unsupported format_version " + quote_text(version) + ", expected '" +
                                       std::string(kFormatVersion) + "'");
  }
  constexpr int kIntMax = std::numeric_limits<int>::max();
  ModelConfig config;
  config.num_regions = metadata_int(file, "num_regions", 1, kIntMax);
  if (config.num_regions != ModelConfig::kNumRegions) {
    throw Error(ErrorKind::Format, name + ": metadata 'num_regions' is " + std::to_string(config.num_regions) +
                                       ", but this engine supports exactly " +
                                       std::to_string(ModelConfig::kNumRegions));
  }
  config.seg_in_channels = metadata_int(file, "seg_in_channels", 1, kIntMax);
  if (config.seg_in_channels != 1) {
    throw Error(ErrorKind::Format, name + ": metadata 'seg_in_channels' is " + std::to_string(config.seg_in_channels) +
                                       ", expected 1 (the grey sketch)");
  }
  config.col_in_channels = metadata_int(file, "col_in_channels", 1, kIntMax);
  const int col_in = 1 + 3 + 1 + config.num_regions;
  if (config.col_in_channels != col_in) {
    throw Error(ErrorKind::Format, name + ": metadata 'col_in_channels' is " + std::to_string(config.col_in_channels) +
                                       ", expected " + std::to_string(col_in) +
                                       " (sketch 1 + hint colours 3 + hint mask 1 + num_regions " +
                                       std::to_string(config.num_regions) + ")");
  }
  config.width = metadata_int(file, "width", 1, ModelConfig::kMaxWidth);
  config.train_size = metadata_int(file, "train_size", 1, kIntMax);
  // Optional, as in the Python reader; written with "%g".
  if (const auto center = file.metadata_value("center")) {
    float value = 0;
    const auto [end, ec] = std::from_chars(center->data(), center->data() + center->size(), value);
    if (ec != std::errc() || end != center->data() + center->size() || !std::isfinite(value)) {
      throw Error(ErrorKind::Format,
                  name + ": metadata 'center' is " + quote_text(*center) + ", expected a finite number");
    }
    config.center = value;
  }
  return config;
}

DoubleConvWeights& UNetWeights::block(std::string_view name) {
  if (name == "inc") return inc;
  for (int k = 0; k < 4; ++k) {
    if (name == "down" + std::to_string(k + 1)) return down[size_t(k)];
    if (name == "up" + std::to_string(k + 1)) return up[size_t(k)];
  }
  throw Error(ErrorKind::Failed, "the U-Net has no block '" + std::string(name) + "'");
}

const DoubleConvWeights& UNetWeights::block(std::string_view name) const {
  return const_cast<UNetWeights*>(this)->block(name);
}

const ConvLayer& UNetWeights::conv(std::string_view step) const {
  if (step == "outc") return outc;
  // "<block>.conv1" or "<block>.conv2".
  const size_t dot = step.find('.');
  if (dot != std::string_view::npos) {
    const DoubleConvWeights& d = block(step.substr(0, dot));
    if (step.substr(dot + 1) == "conv1") return d.conv1;
    if (step.substr(dot + 1) == "conv2") return d.conv2;
  }
  throw Error(ErrorKind::Failed, "the U-Net has no conv '" + std::string(step) + "'");
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config) {
  std::vector<ExpectedTensor> out;
  for (const NetSpec& net : net_specs(config)) {
    for (const UNetBlock& block : unet_blocks(net.in_channels, config.width)) {
      const struct {
        const char *conv, *bn;
        int cin, cout;
      } convs[] = {{"conv1", "bn1", block.in, block.mid}, {"conv2", "bn2", block.mid, block.out}};
      for (const auto& c : convs) {
        out.push_back({tensor_name(net.name, block.name, c.conv, "weight"), {c.cout, c.cin, 3, 3}});
        out.push_back({tensor_name(net.name, block.name, c.conv, "bias"), {c.cout}});
        for (const char* field : kBatchNormFields)
          out.push_back({tensor_name(net.name, block.name, c.bn, field), {c.cout}});
      }
    }
    out.push_back({std::string(net.name) + ".outc.weight", {net.classes, config.width, 1, 1}});
    out.push_back({std::string(net.name) + ".outc.bias", {net.classes}});
  }
  std::sort(out.begin(), out.end(), [](const ExpectedTensor& a, const ExpectedTensor& b) { return a.name < b.name; });
  return out;
}

ModelWeights load_model_weights(const std::filesystem::path& path) {
  return load_model_weights(SafetensorsFile::open(path));
}

ModelWeights load_model_weights(const SafetensorsFile& file) {
  const std::string& name = file.display_name();
  ModelWeights weights;
  weights.config = read_model_config(file);
  const ModelConfig& config = weights.config;
  const std::string width_text = std::to_string(config.width);

  // A width that disagrees with the first conv would otherwise show up as a puzzling
  // shape error on some other tensor; name the real cause.
  if (const TensorView* first = file.find("segmentator.inc.conv1.weight")) {
    const auto& s = first->shape;
    if (s.size() == 4 && s[1] == config.seg_in_channels && s[2] == 3 && s[3] == 3 && s[0] != config.width) {
      throw Error(ErrorKind::Format, name + ": metadata 'width' is " + width_text +
                                         ", but tensor 'segmentator.inc.conv1.weight' has shape " + format_shape(s) +
                                         " (width " + std::to_string(s[0]) + ")");
    }
  }

  const std::vector<ExpectedTensor> expected = expected_tensors(config);
  std::set<std::string_view> expected_names;
  for (const ExpectedTensor& e : expected) expected_names.insert(e.name);
  std::vector<std::string_view> unexpected;
  for (const TensorView& t : file.tensors()) {
    if (!expected_names.count(t.name)) unexpected.push_back(t.name);
  }
  for (const ExpectedTensor& e : expected) {
    const TensorView* tensor = file.find(e.name);
    if (!tensor) {
      std::string hint;
      if (!unexpected.empty()) hint = "; the file has unexpected tensor " + quote_text(unexpected.front());
      throw Error(ErrorKind::Format, name + ": missing tensor '" + e.name + "' (width " + width_text + " needs " +
                                         format_shape(e.shape) + ")" + hint);
    }
    if (tensor->shape != e.shape) {
      throw Error(ErrorKind::Format, name + ": tensor '" + e.name + "' has shape " + format_shape(tensor->shape) +
                                         ", but width " + width_text + " needs " + format_shape(e.shape));
    }
    if (tensor->dtype != DType::F32 && tensor->dtype != DType::F16 && tensor->dtype != DType::BF16) {
      throw Error(ErrorKind::Format, name + ": tensor '" + e.name + "' has dtype " +
                                         std::string(dtype_name(tensor->dtype)) +
                                         ", but weights must be F32, F16 or BF16");
    }
  }
  if (!unexpected.empty()) {
    const TensorView& t = *file.find(unexpected.front());
    throw Error(
        ErrorKind::Format,
        name + ": unexpected tensor " + quote_text(t.name) + " (" + t.describe() + "); a width-" + width_text +
            " GuidingPainter file has exactly these " + std::to_string(expected.size()) +
            " tensors: {segmentator,colorizer}.{inc,down1..4,up1..4}.{conv1,bn1,conv2,bn2}.*, *.outc.{weight,bias}");
  }

  Folder folder(file);
  const std::array<NetSpec, 2> nets = net_specs(config);
  UNetWeights* outputs[2] = {&weights.segmentator, &weights.colorizer};
  for (size_t n = 0; n < nets.size(); ++n) {
    const NetSpec& net = nets[n];
    UNetWeights& unet = *outputs[n];
    for (const UNetBlock& b : unet_blocks(net.in_channels, config.width)) {
      const std::string prefix = std::string(net.name) + "." + b.name;
      DoubleConvWeights& target = unet.block(b.name);
      target.conv1 = folder.conv_bn(prefix, "conv1", "bn1", b.in, b.mid);
      target.conv2 = folder.conv_bn(prefix, "conv2", "bn2", b.mid, b.out);
    }
    unet.outc = folder.plain(std::string(net.name) + ".outc", config.width, net.classes);
  }
  return weights;
}

}  // namespace gp
