// Files a run reads and writes. Every output goes through write_file_atomic:
// a reader, or a run killed at any moment, sees the old file or the new one,
// never a part of one. Inputs are read through read_file: regular files only,
// at most a given size, with errors that say what went wrong (missing,
// permission, not a file, too large).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sasim::host {

// A file that could not be written or read; the message names the path and
// the reason.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `bytes` to `path` through a temporary file in the same folder that is
// fsync'd and renamed over `path` (then the folder is fsync'd).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// The same for a file written in pieces (a trace): the temporary becomes
// `path` at commit(); destroyed before that, it is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(std::string_view bytes);
  void commit();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
};

// Creates `dir` with its parents and checks that files can be created in it
// (a probe file is written and removed): called before a run starts, so that
// a run never finishes only to find it cannot keep its results.
void prepare_output_dir(const std::filesystem::path& dir);

// The contents of the regular file `path` (`what` names it in messages, e.g.
// "configuration file"); more than max_bytes is an error.
std::string read_file(const std::filesystem::path& path, std::uint64_t max_bytes,
                      const std::string& what);

}  // namespace sasim::host
