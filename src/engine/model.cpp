#include <utility>

#include "src/backend/select.h"
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
  impl->segmentator = upload_unet(*impl->backend, weights.segmentator, weights.config.width);
  impl->colorizer = upload_unet(*impl->backend, weights.colorizer, weights.config.width);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const { return impl_->config; }
const std::string& Model::path() const { return impl_->path; }
std::string Model::device_name() const { return impl_->backend->name(); }

}  // namespace gp
