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

namespace gp {

// Page-locked host memory owned through a Backend (the staging area of a graph's copies):
// move-only, freed in the destructor.
template <class T> class PinnedArray {
 public:
  PinnedArray() = default;
  PinnedArray(Backend& backend, size_t count, const char* what)
      : backend_(&backend),
        data_(count ? static_cast<T*>(backend.alloc_pinned(count * sizeof(T), what)) : nullptr),
        count_(count) {}
  PinnedArray(PinnedArray&& o) noexcept { swap(o); }
  PinnedArray& operator=(PinnedArray&& o) noexcept {
    PinnedArray(std::move(o)).swap(*this);
    return *this;
  }
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
  ~PinnedArray() {
    if (data_) backend_->release_pinned(data_);
  }

  T* get() const { return data_; }
  size_t size() const { return count_; }
  void swap(PinnedArray& o) noexcept {
    std::swap(backend_, o.backend_);
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
  }

 private:
  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

// An executable CUDA graph owned through a Backend; null until captured.
class DeviceGraph {
 public:
  DeviceGraph() = default;
  DeviceGraph(Backend& backend, Backend::Graph graph) : backend_(&backend), graph_(graph) {}
  DeviceGraph(DeviceGraph&& o) noexcept { swap(o); }
  DeviceGraph& operator=(DeviceGraph&& o) noexcept {
    DeviceGraph(std::move(o)).swap(*this);
    return *this;
  }
  DeviceGraph(const DeviceGraph&) = delete;
  DeviceGraph& operator=(const DeviceGraph&) = delete;
  ~DeviceGraph() {
    if (graph_) backend_->destroy_graph(graph_);
  }
  explicit operator bool() const { return graph_ != nullptr; }
  Backend::Graph get() const { return graph_; }
  void swap(DeviceGraph& o) noexcept {
    std::swap(backend_, o.backend_);
    std::swap(graph_, o.graph_);
  }

 private:
  Backend* backend_ = nullptr;
  Backend::Graph graph_ = nullptr;
};

}  // namespace gp
