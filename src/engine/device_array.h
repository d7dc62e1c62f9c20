// Device memory owned through a Backend: move-only, freed in the destructor (which
// never throws). Sized in elements of T.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "src/backend/backend.h"

namespace gp {

template <class T> class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(Backend& backend, size_t count, const char* what)
      : backend_(&backend), data_(count ? static_cast<T*>(backend.alloc(count * sizeof(T), what)) : nullptr),
        count_(count) {}
  DeviceArray(Backend& backend, const std::vector<T>& host, const char* what) : DeviceArray(backend, host.size(), what) {
    upload(host);
  }
  DeviceArray(DeviceArray&& o) noexcept { swap(o); }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    DeviceArray(std::move(o)).swap(*this);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (data_) backend_->release(data_);
  }

  T* get() const { return data_; }
  size_t size() const { return count_; }
  void upload(const std::vector<T>& host, Stream stream = nullptr) { upload(host.data(), host.size(), stream); }
  void upload(const T* host, size_t count, Stream stream = nullptr) {
    if (count) backend_->upload(data_, host, count * sizeof(T), stream);
  }
  // Waits for `stream`, then copies the whole array to the host.
  std::vector<T> download(Stream stream = nullptr) const {
    std::vector<T> host(count_);
    if (count_) backend_->download(host.data(), data_, count_ * sizeof(T), stream);
    return host;
  }
  void swap(DeviceArray& o) noexcept {
    std::swap(backend_, o.backend_);
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
  }

 private:
  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace gp
