#include "src/image/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "src/common/error.h"

namespace gp {
namespace {

std::string reason(int err) { return std::strerror(err); }

// Closes a file descriptor once; errors on close are reported by the explicit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

std::vector<uint8_t> read_file(const std::filesystem::path& file, size_t max_bytes) {
  const std::string name = file.string();
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(ErrorKind::Io, name + ": cannot open: " + reason(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw Error(ErrorKind::Io, name + ": cannot read: " + reason(errno));
  if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::Io, name + ": is a directory, not a file");
  std::vector<uint8_t> bytes;
  if (S_ISREG(st.st_mode)) {
    if (uint64_t(st.st_size) > max_bytes)
      throw Error(ErrorKind::Io, name + ": " + std::to_string(st.st_size) + " bytes is larger than the maximum " +
                  std::to_string(max_bytes));
    bytes.reserve(size_t(st.st_size));
  }
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::Io, name + ": cannot read: " + reason(errno));
    }
    if (n == 0) break;
    if (bytes.size() + size_t(n) > max_bytes)
      throw Error(ErrorKind::Io, name + ": larger than the maximum " + std::to_string(max_bytes) + " bytes");
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  return bytes;
}

void write_file_atomically(const std::filesystem::path& file, std::span<const uint8_t> bytes) {
  static std::atomic<unsigned> counter{0};
  const std::string name = file.string();
  if (file.filename().empty()) throw Error(ErrorKind::Io, name + ": cannot write: not a file name");
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");

  // A name no one else uses: hidden, ours by pid and a counter; O_EXCL makes sure.
  std::filesystem::path temp;
  int raw = -1;
  for (int attempt = 0; attempt < 100 && raw < 0; ++attempt) {
    std::string temp_name(".");
    temp_name += file.filename().string();
    temp_name += ".tmp.";
    temp_name += std::to_string(::getpid());
    temp_name += '.';
    temp_name += std::to_string(counter.fetch_add(1));
    temp = dir / temp_name;
    raw = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw < 0 && errno != EEXIST) throw Error(ErrorKind::Io, name + ": cannot write: " + reason(errno));
  }
  if (raw < 0) throw Error(ErrorKind::Io, name + ": cannot write: no free temporary name in " + dir.string());
  Fd fd(raw);

  auto fail = [&](const std::string& what, int err) {
    ::close(fd.release());
    ::unlink(temp.c_str());
    throw Error(ErrorKind::Io, name + ": " + what + ": " + reason(err));
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    done += size_t(n);
  }
  if (::fsync(fd.get()) != 0) fail("cannot write (fsync)", errno);
  if (::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw Error(ErrorKind::Io, name + ": cannot write (close): " + reason(err));
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw Error(ErrorKind::Io, name + ": cannot write (rename): " + reason(err));
  }
}

}  // namespace gp
