#include "sasim/cosim/variant_cache.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "sasim/cosim/subprocess.hpp"
#include "variant_build.hpp"

namespace sasim::cosim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModule = "sasim_variant.so";

std::string kind_name(VariantKind k) { return k == VariantKind::kCore ? "core" : "array"; }

std::string variant_name(VariantKind k, const spec::CoreSpec& s) {
  return k == VariantKind::kCore ? spec::core_variant(s) : spec::array_variant(s);
}

// An flock() on a file of its own, released when destroyed (or when the
// process dies, whatever kills it).
class FileLock {
 public:
  explicit FileLock(const fs::path& p)
      : fd_(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw VariantBuildError("cannot open the lock file " + p.string());
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool try_lock() { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }
  void lock() {
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) throw VariantBuildError("flock failed");
  }

 private:
  int fd_;
};

unsigned env_uint(const char* name, unsigned dflt, unsigned lo, unsigned hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  char* end = nullptr;
  const unsigned long n = std::strtoul(v, &end, 10);
  if (*end || n < lo || n > hi)
    throw VariantBuildError(std::string("$") + name + ": '" + v + "' is not allowed (allowed " +
                            std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return static_cast<unsigned>(n);
}

std::string tail(const fs::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  for (std::string l; std::getline(in, l);) {
    last.push_back(l);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

fs::path module_of(VariantKind k, const spec::CoreSpec& s) { return variant_entry(k, s) / kModule; }

}  // namespace

fs::path variant_cache_dir() {
  const char* env = std::getenv("SASIM_VARIANT_CACHE");
  return fs::path(env && *env ? env : build::kDefaultCache);
}

std::string variant_key() { return build::kVariantKey; }

double variant_build_seconds(VariantKind k, const spec::CoreSpec& s) {
  std::ifstream in(variant_entry(k, s) / "build.txt");
  std::string word;
  double secs = -1;
  while (in >> word)
    if (word == "seconds") in >> secs;
  return secs;
}

fs::path variant_entry(VariantKind k, const spec::CoreSpec& s) {
  return variant_cache_dir() / (kind_name(k) + "_" + variant_name(k, s) + "_" + variant_key());
}

bool is_variant_cached(VariantKind k, const spec::CoreSpec& s) {
  std::error_code ec;
  return fs::exists(module_of(k, s), ec);
}

std::vector<spec::CoreSpec> cached_variants(VariantKind k) {
  std::vector<spec::CoreSpec> out;
  std::error_code ec;
  const fs::path dir = variant_cache_dir();
  if (!fs::is_directory(dir, ec)) return out;
  // <kind>_<dp>_<R>x<C>[_s<spad>_a<acc>_b<bus>]_<key>
  const std::regex re(kind_name(k) +
                      "_(int8|bf16)_([0-9]+)x([0-9]+)(?:_s([0-9]+)_a([0-9]+)_b([0-9]+))?_" +
                      variant_key());
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (!std::regex_match(name, m, re) || !fs::exists(e.path() / kModule, ec)) continue;
    const auto dp = m[1] == "int8" ? spec::Datapath::kInt8 : spec::Datapath::kBf16;
    const unsigned r = std::stoul(m[2]), c = std::stoul(m[3]);
    out.push_back(
        m[4].matched ? spec::core_of(dp, r, c, std::stoul(m[4]), std::stoul(m[5]), std::stoul(m[6]))
                     : spec::core_of(dp, r, c));
  }
  std::sort(out.begin(), out.end(),
            [&](const auto& a, const auto& b) { return variant_name(k, a) < variant_name(k, b); });
  return out;
}

std::uintmax_t prune_variant_cache(std::ostream& log) {
  std::uintmax_t freed = 0;
  std::error_code ec;
  const fs::path dir = variant_cache_dir();
  if (!fs::is_directory(dir, ec)) return 0;
  const std::regex entry_re("(core|array)_.*_([0-9a-f]{16})");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || !std::regex_match(name, m, entry_re) || m[2] == variant_key())
      continue;
    FileLock lock(e.path().string() + ".lock");
    if (!lock.try_lock()) continue;  // being built by an older sasim right now
    std::uintmax_t bytes = 0;
    for (const auto& f : fs::recursive_directory_iterator(e.path(), ec))
      if (f.is_regular_file()) bytes += f.file_size(ec);
    fs::remove_all(e.path(), ec);
    if (ec) {
      log << "sasim: cannot remove " << e.path().string() << ": " << ec.message() << "\n";
      continue;
    }
    fs::remove(e.path().string() + ".lock", ec);
    freed += bytes;
    log << "sasim: removed " << e.path().string() << " (" << bytes / 1024 << " KiB)\n";
  }
  return freed;
}

void build_variant(VariantKind k, const spec::CoreSpec& s, std::ostream& progress) {
  spec::validate(s);
  if (is_variant_cached(k, s)) return;
  const std::string name = kind_name(k) + " " + variant_name(k, s);
  if (std::uint64_t{s.rows} * s.cols > kMaxRtlPes) {
    throw VariantBuildError(name + ": " + std::to_string(s.rows) + " x " + std::to_string(s.cols) +
                            " = " + std::to_string(std::uint64_t{s.rows} * s.cols) +
                            " PEs are more than the RTL is verilated for (at most " +
                            std::to_string(kMaxRtlPes) +
                            " PEs, 128 x 128); run it on the model engine (run.engine: model)");
  }
  const fs::path dir = variant_cache_dir(), entry = variant_entry(k, s);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw VariantBuildError("cannot create the variant cache " + dir.string() + ": " +
                            ec.message());

  // One build per variant: a second process waits for the first and uses its module.
  FileLock entry_lock(entry.string() + ".lock");
  if (!entry_lock.try_lock()) {
    progress << "sasim: waiting for another process building " << name << "\n" << std::flush;
    entry_lock.lock();
  }
  if (is_variant_cached(k, s)) return;

  // At most $SASIM_BUILD_SLOTS builds at once on this cache, across processes.
  const unsigned slots = env_uint("SASIM_BUILD_SLOTS", 1, 1, 64);
  std::vector<std::unique_ptr<FileLock>> slot_locks;
  for (unsigned i = 0; i < slots; ++i)
    slot_locks.push_back(
        std::make_unique<FileLock>(dir / ("build-slot-" + std::to_string(i) + ".lock")));
  FileLock* slot = nullptr;
  for (bool told = false; !slot;) {
    for (auto& l : slot_locks)
      if (l->try_lock()) {
        slot = l.get();
        break;
      }
    if (slot) break;
    if (!told) progress << "sasim: " << name << " waits for a free build slot\n" << std::flush;
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  slot_locks.erase(std::remove_if(slot_locks.begin(), slot_locks.end(),
                                  [&](const auto& l) { return l.get() != slot; }),
                   slot_locks.end());

  const unsigned jobs = std::max(1u, std::thread::hardware_concurrency() / slots);
  // A build folder per attempt: the compilers of a killed earlier attempt may
  // still be writing into theirs (only cmake dies with its parent). Those
  // folders are removed here (this process holds the entry's lock).
  for (const auto& e : fs::directory_iterator(entry.parent_path() / entry.filename(), ec))
    if (e.path().filename().string().rfind("build.", 0) == 0 && e.is_directory())
      fs::remove_all(e.path(), ec);
  const fs::path build_dir = entry / ("build." + std::to_string(::getpid())),
                 log = entry / "build.log";
  fs::create_directories(build_dir, ec);
  if (ec) throw VariantBuildError("cannot create " + build_dir.string() + ": " + ec.message());
  fs::remove(log, ec);
  progress << "sasim: building " << name << " (verilating and compiling with " << jobs
           << " jobs; log " << log.string() << ")\n"
           << std::flush;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> configure = {
      build::kCmake, "-S", build::kPluginSource, "-B", build_dir.string(), "-G", "Ninja",
      std::string("-DCMAKE_MAKE_PROGRAM=") + build::kMakeProgram,
      std::string("-DSASIM_PLUGIN_SETTINGS=") + build::kPluginSettings,
      // Not $CXXFLAGS / $LDFLAGS: the module must match the key, which does not hash them.
      "-DCMAKE_CXX_FLAGS=", "-DCMAKE_MODULE_LINKER_FLAGS=", "-DSASIM_VARIANT_KIND=" + kind_name(k),
      "-DSASIM_VARIANT=" + variant_name(k, s),
      "-DSASIM_DP=" + std::to_string(static_cast<unsigned>(s.datapath)),
      "-DSASIM_ROWS=" + std::to_string(s.rows), "-DSASIM_COLS=" + std::to_string(s.cols),
      "-DSASIM_SPAD=" + std::to_string(s.spad_rows), "-DSASIM_ACC=" + std::to_string(s.acc_rows),
      "-DSASIM_BUS=" + std::to_string(s.bus_bytes)};
  int rc = run_process(configure, log);
  if (rc == 0)
    rc = run_process({build::kCmake, "--build", build_dir.string(), "-j", std::to_string(jobs)},
                     log);
  if (rc != 0)
    throw VariantBuildError("building " + name + " failed (exit status " + std::to_string(rc) +
                            "); log " + log.string() + ", which ends with:\n" + tail(log, 15));
  // The module appears under its final name whole or not at all.
  const fs::path tmp = entry / (std::string(kModule) + ".tmp." + std::to_string(::getpid()));
  fs::copy_file(build_dir / kModule, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, entry / kModule, ec);
  if (ec)
    throw VariantBuildError("cannot install " + (entry / kModule).string() + ": " + ec.message());
  fs::remove_all(build_dir, ec);  // the objects: hundreds of MB for large arrays
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // How long it took, for `sasim variants` and the docs' build-time table.
  {
    const fs::path tmp = entry / ("build.txt.tmp." + std::to_string(::getpid()));
    std::ofstream(tmp) << "seconds " << secs << "\njobs " << jobs << "\nmodule_bytes "
                       << fs::file_size(entry / kModule, ec) << "\n";
    fs::rename(tmp, entry / "build.txt", ec);
  }
  progress << "sasim: built " << name << " in " << static_cast<long>(secs + 0.5) << " s\n"
           << std::flush;
}

namespace {

const VariantPlugin& load_plugin(VariantKind k, const spec::CoreSpec& s) {
  static std::mutex mutex;
  static std::map<std::string, const VariantPlugin*> loaded;  // modules stay loaded
  std::lock_guard<std::mutex> lock(mutex);
  const fs::path module = module_of(k, s);
  if (const auto it = loaded.find(module.string()); it != loaded.end()) return *it->second;
  build_variant(k, s, std::cerr);
  void* h = ::dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h)
    throw VariantBuildError("cannot load " + module.string() + ": " + ::dlerror() + " (delete " +
                            variant_entry(k, s).string() + " to rebuild it)");
  using Entry = const VariantPlugin* (*)();
  const auto entry = reinterpret_cast<Entry>(::dlsym(h, "sasim_variant_plugin"));
  const VariantPlugin* p = entry ? entry() : nullptr;
  if (!p || std::string(p->key) != variant_key() || p->kind != (k == VariantKind::kCore ? 0 : 1))
    throw VariantBuildError(module.string() + " is not a " + kind_name(k) +
                            " module of this build (delete " + variant_entry(k, s).string() +
                            " to rebuild it)");
  loaded[module.string()] = p;
  return *p;
}

}  // namespace

std::unique_ptr<CoreModel> load_cached_core(const spec::CoreSpec& s,
                                            const CoreModelOptions& options) {
  return load_plugin(VariantKind::kCore, s).make_core(s, options);
}

std::unique_ptr<ArrayModel> load_cached_array(const spec::CoreSpec& s,
                                              const ArrayModelOptions& options) {
  return load_plugin(VariantKind::kArray, s).make_array(s, options);
}

}  // namespace sasim::cosim
