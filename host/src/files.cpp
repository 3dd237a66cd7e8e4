#include "sasim/host/files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace sasim::host {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& doing, int err) {
  throw FileError(path.string() + ": " + doing + ": " + std::strerror(err));
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    const int f = fd;
    fd = -1;
    return f;
  }
};

void write_all(int fd, std::string_view bytes, const std::filesystem::path& tmp) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(tmp, "cannot write", errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void sync_dir(const std::filesystem::path& dir) {
  Fd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY)};
  if (d.fd >= 0) ::fsync(d.fd);  // best effort: not every file system syncs folders
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  // Only a regular file (or nothing) is replaced: never a device or a folder.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw FileError(path_.string() + ": exists and is not a regular file; not replaced");
  // The temporary name is unique per process and call, in the target's folder
  // (rename is atomic only within one file system).
  static std::atomic<unsigned> counter{0};  // unique across threads too
  tmp_ = path_;
  tmp_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path_, "cannot create a file in its folder", errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  if (fd_ < 0) throw FileError(path_.string() + ": write after commit");
  write_all(fd_, bytes, path_);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw FileError(path_.string() + ": committed twice");
  Fd f{fd_};
  fd_ = -1;
  if (::fsync(f.fd) != 0) fail(path_, "cannot write", errno);
  if (::close(f.release()) != 0) fail(path_, "cannot write", errno);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_, "cannot replace", errno);
  tmp_.clear();
  sync_dir(path_.parent_path());
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

void prepare_output_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw FileError(dir.string() + ": cannot create the output folder: " + ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    throw FileError(dir.string() + ": the output folder is not a folder");
  // The temporaries of writes that a killed run left behind (<name>.tmp.<pid>.<n>
  // of a process that is gone): never read, removed here.
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos) continue;
    const long pid = std::strtol(name.c_str() + at + 5, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      std::filesystem::remove(e.path(), ec);
  }
  // A probe through the same path as the real outputs.
  write_file_atomic(dir / ".sasim_probe", "probe\n");
  std::filesystem::remove(dir / ".sasim_probe", ec);
}

std::string read_file(const std::filesystem::path& path, std::uint64_t max_bytes,
                      const std::string& what) {
  const std::string name = path.string() + ": " + what;
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw FileError(name + " does not exist");
    if (err == EACCES) throw FileError(name + " is not readable (permission denied)");
    fail(path, "cannot open the " + what, err);
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(path, "cannot read the " + what, errno);
  if (S_ISDIR(st.st_mode)) throw FileError(name + " is a folder, not a file");
  if (!S_ISREG(st.st_mode)) throw FileError(name + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw FileError(name + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                    std::to_string(max_bytes) + " allowed");
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(f.fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot read the " + what, errno);
    }
    if (n == 0) break;  // shrank while reading
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace sasim::host
