#include "src/cli/serve_sessions.h"

#include <cstdint>
#include <random>
#include <vector>

namespace gp::cli {
namespace {

// 128 bits from the system's random source: ids are the only thing that keeps one
// page's session from another's, so they must not be guessable or sequential.
std::string random_id() {
  static std::mutex mutex;  // std::random_device is not promised to be thread-safe
  static std::random_device source;
  static const char digits[] = "0123456789abcdef";
  std::lock_guard<std::mutex> lock(mutex);
  std::string id;
  for (int i = 0; i < 4; ++i) {
    const uint32_t word = source();
    for (int shift = 28; shift >= 0; shift -= 4) id += digits[(word >> shift) & 15];
  }
  return id;
}

}  // namespace

SessionRegistry::Slot::~Slot() {
  if (!registry_) return;
  std::lock_guard<std::mutex> lock(registry_->mutex_);
  --registry_->reserved_;
}

std::optional<SessionRegistry::Slot> SessionRegistry::reserve() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() + reserved_ >= max_sessions_) return std::nullopt;
  ++reserved_;
  return Slot(this);
}

std::string SessionRegistry::add(Slot slot, std::shared_ptr<LiveSession> session) {
  std::string id = random_id();
  std::lock_guard<std::mutex> lock(mutex_);
  while (entries_.count(id)) id = random_id();
  entries_.emplace(id, Entry{std::move(session), Clock::now()});
  slot.registry_ = nullptr;  // the slot is now the entry
  --reserved_;
  return id;
}

std::shared_ptr<LiveSession> SessionRegistry::find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  it->second.last_used = Clock::now();
  return it->second.session;
}

bool SessionRegistry::erase(const std::string& id) {
  std::shared_ptr<LiveSession> dropped;  // destroyed after the lock: freeing a session takes a while
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  dropped = std::move(it->second.session);
  entries_.erase(it);
  return true;
}

size_t SessionRegistry::reap(Clock::duration ttl) {
  std::vector<std::shared_ptr<LiveSession>> dropped;
  const Clock::time_point now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.session.use_count() > 1) {
        // A request is using it now (copies are only made under this mutex, by find):
        // its idle time starts again once the request is over, not when it began.
        it->second.last_used = now;
        ++it;
      } else if (now - it->second.last_used >= ttl) {
        dropped.push_back(std::move(it->second.session));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return dropped.size();
}

size_t SessionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void SessionRegistry::clear() {
  std::unordered_map<std::string, Entry> dropped;
  std::lock_guard<std::mutex> lock(mutex_);
  dropped.swap(entries_);
}

}  // namespace gp::cli
