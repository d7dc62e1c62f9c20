#include <string>
#include <utility>

#include "src/backend/select.h"
#include "src/common/error.h"
#include "src/engine/bundled_model.h"
#include "src/engine/model_impl.h"
#include "src/weights/model_weights.h"

namespace gp {

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string& path, const ModelOptions& options) {
  const ModelWeights weights = load_model_weights(path);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->config = weights.config;
  impl->backend = open_backend(options.device, options.gpu_index);
  const bool tensor_cores = impl->backend->compute_capability() >= 80;
  const bool gpu = impl->backend->kind() == DeviceKind::Cuda;
  // The default on a tensor-core GPU is fp16, unless a folded weight is beyond fp16's
  // range: then bf16 (fp32's range), rather than refusing a model fp32 would run.
  Precision precision = options.precision.value_or(gpu && tensor_cores ? Precision::Fp16 : Precision::Fp32);
  if (!options.precision && precision == Precision::Fp16 &&
      !(fits_fp16(weights.segmentator) && fits_fp16(weights.colorizer)))
    precision = Precision::Bf16;
  if (precision != Precision::Fp32 && !tensor_cores)
    throw Error(ErrorKind::Argument, std::string("precision ") + precision_name(precision) +
                                         " needs tensor cores of sm_80 or later, but " + impl->backend->name() +
                                         " is sm_" + std::to_string(impl->backend->compute_capability()) +
                                         "; use fp32");
  impl->precision = precision;
  impl->segmentator =
      upload_unet(*impl->backend, weights.segmentator, UNetKind::Segmentator, weights.config.width, precision);
  impl->colorizer =
      upload_unet(*impl->backend, weights.colorizer, UNetKind::Colorizer, weights.config.width, precision);
  // The uploads ran on the default stream from pageable memory; sessions run on their own
  // non-blocking streams, which do not wait for it: finish them before any session exists.
  impl->backend->synchronize("uploading the model's weights");
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

std::shared_ptr<const Model> Model::load(const ModelOptions& options) { return load(find_bundled_model(), options); }

const ModelConfig& Model::config() const { return impl_->config; }
const std::string& Model::path() const { return impl_->path; }
std::string Model::device_name() const { return impl_->backend->name(); }
Precision Model::precision() const { return impl_->precision; }

Precision parse_precision(const std::string& text) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "fp16") return Precision::Fp16;
  if (text == "bf16") return Precision::Bf16;
  throw Error(ErrorKind::Argument, "precision \"" + text + "\": expected fp32, fp16 or bf16");
}

}  // namespace gp
