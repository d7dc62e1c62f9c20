// Output files written as cp writes them (src/image/file_io.h): an existing file in
// place (inode, hard links, mode kept), symlinks followed (also dangling ones), FIFOs
// and devices as streams, a new file through a temporary renamed into place, a failed
// write leaving no partial file, and the checks made before any work.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "guidingpainter/error.hpp"
#include "tests/error_kind.h"
#include "src/image/file_io.h"
#include "tests/image/test_util.h"

namespace gp {
namespace {

namespace fs = std::filesystem;
using test::kind_of;
using test::ScratchDir;

const std::vector<uint8_t> kOld = {'o', 'l', 'd', ' ', 'c', 'o', 'n', 't', 'e', 'n', 't', 's', '!'};
const std::vector<uint8_t> kNew = {1, 2, 3, 4, 5};

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st;
}

TEST(WriteFile, NewFileAppearsWholeWithNoTemporaryLeft) {
  ScratchDir dir;
  write_file(dir / "new.bin", kNew);
  EXPECT_EQ(read_file(dir / "new.bin"), kNew);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"new.bin"});
  write_file(dir / "empty.bin", {});
  EXPECT_TRUE(read_file(dir / "empty.bin").empty());
}

TEST(WriteFile, ExistingFileKeepsInodeModeAndHardLinks) {
  ScratchDir dir;
  write_file(dir / "a.png", kOld);
  ASSERT_EQ(::chmod((dir / "a.png").c_str(), 0600), 0);
  fs::create_hard_link(dir / "a.png", dir / "b.png");
  const struct stat before = stat_of(dir / "a.png");
  write_file(dir / "a.png", kNew);
  const struct stat after = stat_of(dir / "a.png");
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_EQ(after.st_nlink, 2u);
  EXPECT_EQ(read_file(dir / "b.png"), kNew);  // the other name sees the new bytes
}

TEST(WriteFile, SymlinksAreFollowedAndKept) {
  ScratchDir dir;
  fs::create_directories(dir / "real");
  write_file(dir / "real" / "target.png", kOld);
  fs::create_symlink("real/target.png", dir / "link.png");
  write_file(dir / "link.png", kNew);
  EXPECT_TRUE(fs::is_symlink(dir / "link.png"));
  EXPECT_EQ(read_file(dir / "real" / "target.png"), kNew);
  // A dangling link: its target is created, the link stays.
  fs::create_symlink("real/later.png", dir / "dangling.png");
  write_file(dir / "dangling.png", kNew);
  EXPECT_TRUE(fs::is_symlink(dir / "dangling.png"));
  EXPECT_EQ(read_file(dir / "real" / "later.png"), kNew);
}

TEST(WriteFile, DevicesAndFifosAreWrittenAsStreams) {
  write_file("/dev/null", kNew);
  EXPECT_TRUE(is_stream("/dev/null"));
  ScratchDir dir;
  EXPECT_FALSE(is_stream(dir / "missing"));
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  std::vector<uint8_t> got;
  std::thread reader([&] { got = read_file(dir / "pipe"); });
  write_file(dir / "pipe", kNew);
  reader.join();
  EXPECT_EQ(got, kNew);
  struct stat st {};
  ASSERT_EQ(::lstat((dir / "pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced by a file";
}

// `-o /dev/stdout > x.png`: the name of one of the process's descriptors is written to
// that descriptor as it is open (here a regular file opened for appending: nothing
// before it is truncated), and takes any format whatever its extension.
TEST(WriteFile, DescriptorNamesAreWrittenToTheDescriptor) {
  ScratchDir dir;
  write_file(dir / "log", kOld);
  const int fd = ::open((dir / "log").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (const std::string& name : {"/dev/fd/" + std::to_string(fd), "/proc/self/fd/" + std::to_string(fd)}) {
    EXPECT_TRUE(is_stream(name)) << name;
    check_writable(name);
    check_output_name(name, ".png", "PNG");
    write_file(name, kNew);
  }
  ::close(fd);
  std::vector<uint8_t> expected = kOld;
  for (int i = 0; i < 2; ++i) expected.insert(expected.end(), kNew.begin(), kNew.end());
  EXPECT_EQ(read_file(dir / "log"), expected);
  EXPECT_TRUE(is_stream("/dev/stdout"));
  // A closed or read-only descriptor is refused before any work.
  const int reader = ::open((dir / "log").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  EXPECT_EQ(kind_of([&] { check_writable("/dev/fd/" + std::to_string(reader)); }), ErrorKind::Io);
  EXPECT_EQ(kind_of([&] { write_file("/dev/fd/" + std::to_string(reader), kNew); }), ErrorKind::Io);
  ::close(reader);
  EXPECT_EQ(kind_of([&] { check_writable("/dev/fd/" + std::to_string(reader)); }), ErrorKind::Io);
}

TEST(WriteFile, OutputNamesCarryTheFormatsExtension) {
  ScratchDir dir;
  check_output_name(dir / "a.png", ".png", "PNG");
  check_output_name(dir / "A.PNG", ".png", "PNG");
  check_output_name("/dev/null", ".png", "PNG");
  std::string message;
  EXPECT_EQ(kind_of([&] { check_output_name(dir / "x.jpg", ".png", "PNG"); }, &message), ErrorKind::Argument);
  EXPECT_EQ(message,
            (dir / "x.jpg").string() + ": this is written as PNG: name the file .png (JPEG is read, not written)");
  EXPECT_EQ(kind_of([&] { check_output_name(dir / "x", ".npy", ".npy"); }), ErrorKind::Argument);
}

TEST(WriteFile, DiskFullIsAnIoErrorAndTheDeviceStays) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string message;
  EXPECT_EQ(kind_of([] { write_file("/dev/full", kNew); }, &message), ErrorKind::Io);
  EXPECT_NE(message.find("/dev/full"), std::string::npos) << message;
  EXPECT_TRUE(is_stream("/dev/full")) << "/dev/full is no longer a device";
}

// A write that fails half way (here: the file-size limit, as a full disk would) leaves
// no partial file: removed, or emptied when another hard link still names it.
TEST(WriteFile, FailedWriteLeavesNoPartialFile) {
  ScratchDir dir;
  write_file(dir / "alone.png", kOld);
  write_file(dir / "linked.png", kOld);
  fs::create_hard_link(dir / "linked.png", dir / "other-name.png");
  const std::vector<uint8_t> big(1 << 16, 7);
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const ErrorKind alone = kind_of([&] { write_file(dir / "alone.png", big); });
  const ErrorKind linked = kind_of([&] { write_file(dir / "linked.png", big); });
  const ErrorKind fresh = kind_of([&] { write_file(dir / "fresh.png", big); });
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(alone, ErrorKind::Io);
  EXPECT_EQ(linked, ErrorKind::Io);
  EXPECT_EQ(fresh, ErrorKind::Io);
  EXPECT_FALSE(fs::exists(dir / "alone.png"));
  EXPECT_TRUE(read_file(dir / "other-name.png").empty());
  EXPECT_FALSE(fs::exists(dir / "fresh.png"));
  for (const std::string& name : dir.entries()) EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST(WriteFile, CheckedBeforeAnyWork) {
  ScratchDir dir;
  EXPECT_EQ(kind_of([] { check_writable(""); }), ErrorKind::Argument);
  EXPECT_EQ(kind_of([] { write_file("", kNew); }), ErrorKind::Argument);
  std::string message;
  EXPECT_EQ(kind_of([&] { check_writable(dir / "no" / "such" / "x.png"); }, &message), ErrorKind::Io);
  EXPECT_NE(message.find("x.png"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { check_writable(dir.path()); }), ErrorKind::Io);  // a folder
  write_file(dir / "plain", kOld);
  EXPECT_EQ(kind_of([&] { check_writable(dir / "plain" / "x.png"); }), ErrorKind::Io);  // under a file
  check_writable(dir / "new.png");
  check_writable(dir / "plain");
  check_writable("/dev/null");
  fs::create_symlink("missing-folder/x.png", dir / "dangling.png");
  EXPECT_EQ(kind_of([&] { check_writable(dir / "dangling.png"); }), ErrorKind::Io);
  EXPECT_EQ(dir.entries().size(), 2u) << "a check wrote something";
}

}  // namespace
}  // namespace gp
