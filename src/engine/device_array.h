// Memory owned through a Backend (device memory with its copies, page-locked host
// memory) and executable graphs: move-only, freed in the destructor (never throws).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "src/backend/backend.h"

namespace gp {

enum class Memory { Device, Pinned };

// Memory of `kind` owned through a Backend: move-only, freed in the destructor (which
// never throws). Sized in elements of T.
template <class T, Memory kind> class BackendBuffer {
 public:
  BackendBuffer() = default;
  BackendBuffer(Backend& backend, size_t count, const char* what)
      : backend_(&backend),
        data_(count ? static_cast<T*>(allocate(backend, count * sizeof(T), what)) : nullptr),
        count_(count) {}
  BackendBuffer(BackendBuffer&& o) noexcept { swap(o); }
  BackendBuffer& operator=(BackendBuffer&& o) noexcept {
    BackendBuffer(std::move(o)).swap(*this);
    return *this;
  }
  BackendBuffer(const BackendBuffer&) = delete;
  BackendBuffer& operator=(const BackendBuffer&) = delete;
  ~BackendBuffer() {
    if (!data_) return;
    if constexpr (kind == Memory::Device) backend_->release(data_);
    else backend_->release_pinned(data_);
  }

  T* get() const { return data_; }
  size_t size() const { return count_; }
  void swap(BackendBuffer& o) noexcept {
    std::swap(backend_, o.backend_);
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
  }

 protected:
  Backend* backend() const { return backend_; }

 private:
  static void* allocate(Backend& b, size_t bytes, const char* what) {
    if constexpr (kind == Memory::Device) return b.alloc(bytes, what);
    else return b.alloc_pinned(bytes, what);
  }
  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

// Device memory, with copies to and from the host.
template <class T> class DeviceArray : public BackendBuffer<T, Memory::Device> {
  using Base = BackendBuffer<T, Memory::Device>;

 public:
  DeviceArray() = default;
  DeviceArray(Backend& backend, size_t count, const char* what) : Base(backend, count, what) {}
  DeviceArray(Backend& backend, const std::vector<T>& host, const char* what) : Base(backend, host.size(), what) {
    upload(host);
  }

  void upload(const std::vector<T>& host, Stream stream = nullptr) { upload(host.data(), host.size(), stream); }
  void upload(const T* host, size_t count, Stream stream = nullptr) {
    if (count) this->backend()->upload(this->get(), host, count * sizeof(T), stream);
  }
  // Waits for `stream`, then copies the whole array to the host.
  std::vector<T> download(Stream stream = nullptr) const {
    std::vector<T> host(this->size());
    if (this->size()) this->backend()->download(host.data(), this->get(), this->size() * sizeof(T), stream);
    return host;
  }
};

// Page-locked host memory (the staging area of a graph's copies).
template <class T> using PinnedArray = BackendBuffer<T, Memory::Pinned>;

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
