// The sessions of `guidingpainter serve`: one gp::Session per uploaded sketch, found by
// a random id, at most --max-sessions of them, dropped when idle for --session-ttl.
//
//   SessionRegistry registry(16);
//   auto slot = registry.reserve();            // empty when 16 are live or being built
//   std::string id = registry.add(std::move(*slot), std::make_shared<LiveSession>(...));
//   std::shared_ptr<LiveSession> s = registry.find(id);   // null for an unknown id
//   std::lock_guard lock(s->mutex);  s->session.colorize();
//
// Thread-safe: the registry has its own mutex; each session has another, held by the
// request using it (a Session's non-const methods need it to themselves, and its const
// ones must not race them). A request holds a shared_ptr, so dropping a session from the
// registry (DELETE, the reaper) never frees it under a running request.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "guidingpainter/guidingpainter.hpp"

namespace gp::cli {

struct LiveSession {
  explicit LiveSession(Session s) : session(std::move(s)) {}
  std::mutex mutex;  // held for every use of `session`
  Session session;
};

class SessionRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  // A place for one session, taken before its segmentation runs (seconds on the
  // simulator), so that uploads arriving together cannot exceed the limit. Given back
  // when destroyed unless add() consumed it.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : registry_(other.registry_) { other.registry_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class SessionRegistry;
    explicit Slot(SessionRegistry* registry) : registry_(registry) {}
    SessionRegistry* registry_;
  };

  explicit SessionRegistry(size_t max_sessions) : max_sessions_(max_sessions) {}

  // A slot, or nothing when max_sessions are live or reserved.
  std::optional<Slot> reserve();
  // Registers the session under a new random id (32 hex digits) and returns the id.
  std::string add(Slot slot, std::shared_ptr<LiveSession> session);
  // The session, its idle clock restarted; null when the id is unknown.
  std::shared_ptr<LiveSession> find(const std::string& id);
  // False when the id is unknown.
  bool erase(const std::string& id);
  // Drops the sessions no request has used for `ttl`; returns how many.
  size_t reap(Clock::duration ttl);
  size_t size() const;
  void clear();

 private:
  struct Entry {
    std::shared_ptr<LiveSession> session;
    Clock::time_point last_used;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  size_t reserved_ = 0;
  const size_t max_sessions_;
};

}  // namespace gp::cli
