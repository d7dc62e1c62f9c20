#include "src/image/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <functional>
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

namespace {

// The file a path names once every symlink is followed, also when the last link
// dangles (then its target is the file to create, as cp creates it). Only for paths
// that do not exist or name regular files: the kernel's magic links (/dev/stdout ->
// /proc/self/fd/1 -> "pipe:[...]") do not read back as paths.
std::filesystem::path follow_links(const std::filesystem::path& file) {
  std::filesystem::path p = file;
  for (int depth = 0; depth < 40; ++depth) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::read_symlink(p, ec);
    if (ec) return p;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  throw Error(ErrorKind::Io, file.string() + ": too many levels of symbolic links");
}

void write_all(int fd, std::span<const uint8_t> bytes, const std::function<void(const char*, int)>& fail) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    if (n == 0) fail("cannot write", EIO);
    done += size_t(n);
  }
}

void write_new_file(const std::filesystem::path& file, const std::string& name, std::span<const uint8_t> bytes) {
  static std::atomic<unsigned> counter{0};
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
  auto fail = [&](const char* what, int err) {
    ::close(fd.release());
    ::unlink(temp.c_str());
    throw Error(ErrorKind::Io, name + ": " + what + ": " + reason(err));
  };
  write_all(fd.get(), bytes, fail);
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

void write_in_place(const std::filesystem::path& file, const std::string& name, std::span<const uint8_t> bytes) {
  Fd fd(::open(file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) throw Error(ErrorKind::Io, name + ": cannot write: " + reason(errno));
  struct stat st {};
  const bool linked_elsewhere = ::fstat(fd.get(), &st) == 0 && st.st_nlink > 1;
  // What was written is no picture: empty it, and remove it unless other names hold it.
  auto fail = [&](const char* what, int err) {
    if (::ftruncate(fd.get(), 0) != 0) {
    }
    ::close(fd.release());
    if (!linked_elsewhere) ::unlink(file.c_str());
    throw Error(ErrorKind::Io,
                name + ": " + what + ": " + reason(err) + (linked_elsewhere ? " (file emptied)" : " (file removed)"));
  };
  write_all(fd.get(), bytes, fail);
  if (::fsync(fd.get()) != 0) fail("cannot write (fsync)", errno);
  if (::close(fd.release()) != 0) {
    const int err = errno;
    if (!linked_elsewhere) ::unlink(file.c_str());
    throw Error(ErrorKind::Io, name + ": cannot write (close): " + reason(err));
  }
}

void write_stream(const std::filesystem::path& file, const std::string& name, std::span<const uint8_t> bytes) {
  Fd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(ErrorKind::Io, name + ": cannot write: " + reason(errno));
  write_all(fd.get(), bytes,
            [&](const char* what, int err) { throw Error(ErrorKind::Io, name + ": " + what + ": " + reason(err)); });
  if (::close(fd.release()) != 0) throw Error(ErrorKind::Io, name + ": cannot write (close): " + reason(errno));
}

bool stream_mode(mode_t mode) { return S_ISFIFO(mode) || S_ISCHR(mode) || S_ISBLK(mode); }

// The descriptor a name of this process's own descriptors refers to, or -1. Opening
// such a name again would open the file behind it anew (truncating what the shell
// opened for appending, or failing for a deleted file); writing to the descriptor
// itself is what the user meant.
int own_descriptor(const std::filesystem::path& file) {
  const std::string name = file.lexically_normal().string();
  if (name == "/dev/stdout") return 1;
  if (name == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const size_t n = std::strlen(prefix);
    if (name.size() <= n || name.compare(0, n, prefix) != 0 || name.size() - n > 9) continue;
    int fd = 0;
    for (size_t i = n; i < name.size(); ++i) {
      if (name[i] < '0' || name[i] > '9') return -1;
      fd = fd * 10 + (name[i] - '0');
    }
    return fd;
  }
  return -1;
}

// True when `fd` is open for writing in this process.
bool writable_descriptor(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_ACCMODE) != O_RDONLY;
}

}  // namespace

void write_file(const std::filesystem::path& file, std::span<const uint8_t> bytes) {
  const std::string name = file.string();
  if (name.empty()) throw Error(ErrorKind::Argument, "cannot write a file with an empty name");
  if (const int fd = own_descriptor(file); fd >= 0) {
    if (!writable_descriptor(fd))
      throw Error(ErrorKind::Io,
                  name + ": cannot write: descriptor " + std::to_string(fd) + " is not open for writing");
    write_all(fd, bytes,
              [&](const char* what, int err) { throw Error(ErrorKind::Io, name + ": " + what + ": " + reason(err)); });
    return;
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) throw Error(ErrorKind::Io, name + ": cannot write: " + reason(errno));
    write_new_file(follow_links(file), name, bytes);
  } else if (S_ISREG(st.st_mode)) {
    write_in_place(follow_links(file), name, bytes);
  } else if (stream_mode(st.st_mode)) {
    write_stream(file, name, bytes);
  } else {
    throw Error(ErrorKind::Io, name + ": cannot write: " + (S_ISDIR(st.st_mode) ? "is a directory" : "not a file"));
  }
}

void check_writable(const std::filesystem::path& file) {
  const std::string name = file.string();
  if (name.empty()) throw Error(ErrorKind::Argument, "an output file name is empty");
  if (const int fd = own_descriptor(file); fd >= 0) {
    if (!writable_descriptor(fd))
      throw Error(ErrorKind::Io,
                  name + ": cannot write: descriptor " + std::to_string(fd) + " is not open for writing");
    return;
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::Io, name + ": cannot write: is a directory");
    if (!S_ISREG(st.st_mode) && !stream_mode(st.st_mode))
      throw Error(ErrorKind::Io, name + ": cannot write: not a file");
    if (::access(file.c_str(), W_OK) != 0) throw Error(ErrorKind::Io, name + ": cannot write: " + reason(errno));
    return;
  }
  if (errno != ENOENT) throw Error(ErrorKind::Io, name + ": cannot write: " + reason(errno));
  const std::filesystem::path target = follow_links(file);
  if (target.filename().empty()) throw Error(ErrorKind::Io, name + ": cannot write: not a file name");
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  if (::stat(dir.c_str(), &st) != 0)
    throw Error(ErrorKind::Io, name + ": cannot write: folder " + dir.string() + ": " + reason(errno));
  if (!S_ISDIR(st.st_mode)) throw Error(ErrorKind::Io, name + ": cannot write: " + dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(ErrorKind::Io, name + ": cannot write: folder " + dir.string() + ": " + reason(errno));
}

bool is_stream(const std::filesystem::path& file) {
  if (own_descriptor(file) >= 0) return true;
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 && stream_mode(st.st_mode);
}

void check_output_name(const std::filesystem::path& file, const char* extension, const char* format) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == extension || is_stream(file)) return;
  std::string why = std::string("this is written as ") + format + ": name the file " + extension;
  if (std::string(extension) == ".png" && (ext == ".jpg" || ext == ".jpeg")) why += " (JPEG is read, not written)";
  throw Error(ErrorKind::Argument, file.string() + ": " + why);
}

}  // namespace gp
