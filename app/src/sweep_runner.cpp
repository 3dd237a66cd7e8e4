#include "sasim/app/sweep_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "sasim/app/summary.hpp"
#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/core_model.hpp"
#include "sasim/cosim/subprocess.hpp"
#include "sasim/cosim/variant_cache.hpp"
#include "sasim/host/files.hpp"
#include "sasim/host/mlp_trainer.hpp"

namespace sasim::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxResultBytes = 64 << 20;

const char* stats_file_of(const std::string& command) {
  if (command == "array") return "array_stats.json";
  if (command == "mem") return "mem_stats.json";
  if (command == "train") return "train_report.json";
  return "stats.json";
}

fs::path point_dir(const fs::path& sweep_dir, const SweepPoint& p) {
  return sweep_dir / "points" / p.id;
}

std::string hex_crc(const std::string& text) {
  const auto* b = reinterpret_cast<const Bytef*>(text.data());
  const auto n = static_cast<uInt>(text.size());
  char buf[20];
  std::snprintf(buf, sizeof buf, "%08lx%08lx", crc32(crc32(0L, Z_NULL, 0), b, n) & 0xffffffffUL,
                adler32(adler32(0L, Z_NULL, 0), b, n) & 0xffffffffUL);
  return buf;
}

// The error a failed point reports: the last line of its log that says
// "error", else its last line.
std::string error_of_log(const fs::path& log) {
  std::ifstream in(log);
  std::string last, last_error;
  for (std::string l; std::getline(in, l);) {
    if (l.empty()) continue;
    last = l;
    std::string lower = l;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("error") != std::string::npos) last_error = l;
  }
  std::string e = last_error.empty() ? last : last_error;
  if (e.size() > 400) {
    std::size_t cut = 400;
    while (cut > 0 && (static_cast<unsigned char>(e[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    e = e.substr(0, cut) + "...";
  }
  return e;
}

// A number at a JSON pointer, or null.
json at(const json& j, const char* pointer) {
  const json::json_pointer p(pointer);
  return j.contains(p) && j.at(p).is_number() ? j.at(p) : json();
}

double num(const json& j, const char* pointer) {
  const json v = at(j, pointer);
  return v.is_null() ? 0.0 : v.get<double>();
}

// The metrics of sweep_metrics() from one point's statistics.
json metrics_of(const std::string& command, const Config& cfg, const json& stats) {
  json m = json::object();
  for (const auto& k : sweep_metrics()) m[k] = nullptr;
  if (stats.is_null()) return m;
  const double pes = double(cfg.core.rows) * cfg.core.cols;
  const double clock_hz = cfg.core.clock_mhz * 1e6;
  double rd = 0, wr = 0, hits = 0, misses = 0, rh = 0, rm = 0, rc = 0;
  bool has_dram = false, has_l2 = false;
  if (command == "train") {
    double cycles = num(stats, "/training_cycles"), macs = 0;
    for (const char* ph : host::kStepPhases) {
      const json& p = stats.at("phases").at(ph);
      macs += p.value("macs", 0.0);
      has_dram |= p.contains("dram_bytes_read");
      has_l2 |= p.contains("l2_hits");
      rd += p.value("dram_bytes_read", 0.0);
      wr += p.value("dram_bytes_written", 0.0);
      hits += p.value("l2_hits", 0.0);
      misses += p.value("l2_misses", 0.0);
      rh += p.value("dram_row_hits", 0.0);
      rm += p.value("dram_row_misses", 0.0);
      rc += p.value("dram_row_conflicts", 0.0);
    }
    m["cycles"] = cycles;
    m["macs"] = macs;
    m["simulated_us"] = cycles / cfg.core.clock_mhz;
    if (cycles > 0) {
      m["pe_utilization"] = macs / (pes * cycles);
      m["achieved_macs_per_s"] = macs * clock_hz / cycles;
    }
    m["match"] = stats.value("checked_against_golden", false) ? json(true) : json();
    m["wall_seconds"] = at(stats, "/wall_seconds_training");
  } else if (command == "mem") {
    m["cycles"] = nullptr;
    m["simulated_us"] = num(stats, "/derived/elapsed_ns") * 1e-3;
  } else {
    const bool array = command == "array";
    m["cycles"] = at(stats, array ? "/counters/cycles" : "/derived/cycles");
    m["macs"] = at(stats, array ? "/counters/macs" : "/derived/macs");
    m["simulated_us"] = at(stats, "/derived/simulated_us");
    m["pe_utilization"] = at(stats, "/derived/pe_utilization");
    m["achieved_macs_per_s"] = at(stats, "/derived/achieved_macs_per_s");
    m["match"] = stats.contains("match") ? stats.at("match") : json();
    m["wall_seconds"] = at(stats, array ? "/derived/wall_seconds" : "/derived/wall_seconds");
  }
  if (command != "train" && stats.contains("counters")) {
    const json& c = stats.at("counters");
    const auto get = [&](const char* k, bool& has) {
      const auto it = c.find(k);
      if (it == c.end() || !it->is_number()) return 0.0;
      has = true;
      return it->get<double>();
    };
    // The memory system's counters: device.mem.* on the device, sys.* in `sasim mem`.
    const std::string m0 = command == "mem" ? "sys." : "device.mem.";
    const auto mget = [&](const std::string& k, bool& has) { return get((m0 + k).c_str(), has); };
    rd = mget("dram.bytes_read", has_dram);
    wr = mget("dram.bytes_written", has_dram);
    rh = mget("dram.row_hits", has_dram);
    rm = mget("dram.row_misses", has_dram);
    rc = mget("dram.row_conflicts", has_dram);
    hits = mget("l2.hits", has_l2);
    misses = mget("l2.misses", has_l2);
  }
  const double us = m["simulated_us"].is_number() ? m["simulated_us"].get<double>() : 0.0;
  if (has_dram) {
    m["dram_bytes"] = rd + wr;
    if (us > 0) m["dram_gbps"] = (rd + wr) / (us * 1e3);
    if (rh + rm + rc > 0) m["row_hit_rate"] = rh / (rh + rm + rc);
  }
  if (has_l2 && hits + misses > 0) m["l2_hit_rate"] = hits / (hits + misses);
  // Energy (docs/energy.md): a run's, a training run's steps.
  const json energy =
      command == "train"
          ? (stats.contains("energy") ? stats.at("energy").value("training", json()) : json())
          : stats.value("energy", json());
  if (energy.is_object()) {
    m["energy_uj"] = energy.at("total_pj").get<double>() * 1e-6;
    m["pj_per_mac"] = energy.at("pj_per_mac");
  }
  // Power over the sampled windows (power.csv; training steps and inference).
  if (stats.contains("power") && stats.at("power").is_object() &&
      !stats.at("power").contains("skipped")) {
    m["avg_power_w"] = stats.at("power").at("average_w");
    m["peak_power_w"] = stats.at("power").at("peak_w");
  }
  return m;
}

std::string csv_field(const json& v) {
  std::string s;
  if (v.is_null()) return "";
  if (v.is_string())
    s = v.get<std::string>();
  else if (v.is_boolean())
    s = v.get<bool>() ? "true" : "false";
  else if (v.is_number_float()) {
    char b[40];
    std::snprintf(b, sizeof b, "%.6g", v.get<double>());
    s = b;
  } else
    s = v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return q + "\"";
}

// A YAML single-quoted scalar ('' stands for ').
std::string yaml_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// The sasim binary's contents (a rebuilt simulator gives other numbers): its
// CRC-32 and Adler-32, computed once.
const std::string& executable_hash() {
  static const std::string kHash = [] {
    std::ifstream in("/proc/self/exe", std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return hex_crc(bytes.str());
  }();
  return kHash;
}

// JSON text that never throws on bytes that are not UTF-8 (a log's tail).
std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// A stored result that is still valid for this point, or null. A failure of
// the machinery rather than of the point (a core that did not build, a
// process killed by a signal, a Slurm task that left no result) is marked
// `retry` and runs again.
json stored_result(const Sweep& s, const SweepPoint& p, const fs::path& dir) {
  const fs::path f = point_dir(dir, p) / "result.json";
  std::error_code ec;
  if (!fs::exists(f, ec)) return json();
  try {
    json r = json::parse(host::read_file(f, kMaxResultBytes, "point result"));
    if (r.value("key", "") == point_key(s, p) && !r.value("retry", false)) return r;
  } catch (const std::exception&) {
    // Unreadable: written by something else; run the point again.
  }
  return json();
}

json failed_result(const Sweep& s, const SweepPoint& p, const std::string& error) {
  json values = json::object();
  for (const auto& [k, v] : p.values) values[k] = v;
  return {{"index", p.index}, {"id", p.id},        {"key", point_key(s, p)},
          {"values", values}, {"status", "error"}, {"exit_code", nullptr},
          {"error", error},   {"wall_seconds", 0}, {"stats", nullptr}};
}

// A failure that says nothing about the point: run it again next time.
json retry_result(const Sweep& s, const SweepPoint& p, const std::string& error) {
  json r = failed_result(s, p, error);
  r["retry"] = true;
  return r;
}

void write_result(const fs::path& dir, const json& r) {
  fs::create_directories(dir);
  host::write_file_atomic(dir / "result.json", dump(r, 1) + "\n");
}

// The copy of the base config that the points run from (Sweep::base_text).
fs::path base_snapshot(const Sweep& s, const fs::path& sweep_dir) {
  return sweep_dir / "base" / s.base.filename();
}

// The variant a point needs built (cores for run and train on an RTL engine,
// arrays for array; mem and the model engine need none).
std::optional<std::pair<cosim::VariantKind, spec::CoreSpec>> variant_of(const Sweep& s,
                                                                        const SweepPoint& p) {
  if (!p.error.empty() || s.command == "mem") return std::nullopt;
  if (s.command != "array" && p.config.run.engine == cosim::Engine::kModel) return std::nullopt;
  if (s.command == "array") return std::make_pair(cosim::VariantKind::kArray, p.config.core);
  return std::make_pair(cosim::VariantKind::kCore, p.config.core);
}

std::string variant_label(cosim::VariantKind k, const spec::CoreSpec& c) {
  return k == cosim::VariantKind::kCore ? "core " + spec::core_variant(c)
                                        : "array " + spec::array_variant(c);
}

bool variant_ready(cosim::VariantKind k, const spec::CoreSpec& c) {
  return k == cosim::VariantKind::kCore ? cosim::is_core_built(c) : cosim::is_array_built(c);
}

class Progress {
 public:
  Progress(std::ostream& out, bool bar, std::size_t total)
      : out_(out), bar_(bar), total_(total), t0_(Clock::now()) {}
  void point(std::size_t done, std::size_t failed, std::size_t running, std::size_t todo_at_start,
             std::size_t ran, const std::string& last) {
    const double el = std::chrono::duration<double>(Clock::now() - t0_).count();
    const std::size_t left = todo_at_start - ran;
    std::string eta = ran ? duration_text(el / double(ran) * double(left)) : "?";
    char line[256];
    const int width = 30;
    const int fill = total_ ? int(width * double(done) / double(total_)) : width;
    std::snprintf(line, sizeof line, "[%s%s] %zu/%zu points, %zu failed, %zu running, %s, ETA %s",
                  std::string(fill, '#').c_str(), std::string(width - fill, '.').c_str(), done,
                  total_, failed, running, duration_text(el).c_str(), left ? eta.c_str() : "0s");
    if (bar_)
      out_ << "\r" << line << "\033[K" << std::flush;
    else
      out_ << "sasim sweep: " << line << (last.empty() ? "" : " | " + last) << "\n" << std::flush;
  }
  void end() {
    if (bar_) out_ << "\n";
  }

 private:
  std::ostream& out_;
  bool bar_;
  std::size_t total_;
  Clock::time_point t0_;
};

// The output of a command (stdout and stderr), and its exit code.
std::pair<int, std::string> capture(const std::vector<std::string>& argv, const fs::path& tmp) {
  std::error_code ec;
  fs::remove(tmp, ec);
  const int rc = cosim::run_process(argv, tmp);
  std::ifstream in(tmp);
  std::stringstream text;
  text << in.rdbuf();
  fs::remove(tmp, ec);
  return {rc, text.str()};
}

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The Slurm runner: the points as job arrays (at most kArrayChunk tasks each,
// under Slurm's default MaxArraySize) whose tasks each run one point (sasim
// sweep --run-point I --point-key K) into the shared output folder; the
// results are read back as they appear. An array is over when squeue no
// longer knows it; a failing squeue (a busy controller) is retried.
constexpr std::size_t kArrayChunk = 1000;
constexpr int kSqueueFailures = 30;  // consecutive, ~1 min at the default poll

template <typename Finished>
void run_slurm(const Sweep& s, const SweepOptions& o, const fs::path& dir,
               const std::vector<std::size_t>& runnable, std::vector<json>& results,
               Finished finished, std::ostream& out) {
  if (runnable.empty()) return;
  const fs::path sd = fs::absolute(dir / "slurm");
  fs::create_directories(sd);
  // sbatch expands % in --output, and a path is written into a script.
  for (const std::string& path : {sd.string(), fs::absolute(s.source).string(),
                                  fs::absolute(o.out_dir).string(), fs::current_path().string()})
    if (path.find_first_of("%\n\r") != std::string::npos)
      throw SweepError("--runner slurm: the path '" + path +
                       "' contains % or a line break, which sbatch scripts cannot carry");
  std::string cmd = shell_quoted(fs::read_symlink("/proc/self/exe").string()) + " sweep --config " +
                    shell_quoted(fs::absolute(s.source).string()) + " --out " +
                    shell_quoted(fs::absolute(o.out_dir).string());
  for (const auto& ov : s.overrides) cmd += " --set " + shell_quoted(ov);
  if (s.skip_invalid) cmd += " --skip-invalid";

  // One script per array: its points (index and key) are in it, and sbatch
  // keeps its own copy, so a later submission cannot change what a task runs.
  std::vector<std::string> jobs;
  for (std::size_t first = 0; first < runnable.size(); first += kArrayChunk) {
    const std::size_t n = std::min(kArrayChunk, runnable.size() - first);
    std::string script = "#!/bin/sh\n# sasim sweep: one point per array task.\n";
    script += "set -- $(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" <<'SASIM_POINTS'\n";
    for (std::size_t t = 0; t < n; ++t) {
      const SweepPoint& p = s.points[runnable[first + t]];
      script += std::to_string(p.index) + " " + point_key(s, p) + "\n";
    }
    script += "SASIM_POINTS\n)\n";
    script += "exec " + cmd + " --run-point \"$1\" --point-key \"$2\"\n";
    const fs::path file = sd / ("job-" + std::to_string(jobs.size()) + ".sh");
    host::write_file_atomic(file, script);
    std::vector<std::string> sbatch = {
        "sbatch",
        "--parsable",
        "--job-name=sasim-" + s.name,
        "--output=" + (sd / "task-%A_%a.log").string(),
        "--chdir=" + fs::current_path().string(),
        "--ntasks=1",
        "--cpus-per-task=1",
        "--array=0-" + std::to_string(n - 1) + (o.jobs ? "%" + std::to_string(o.jobs) : "")};
    sbatch.insert(sbatch.end(), o.sbatch_args.begin(), o.sbatch_args.end());
    sbatch.push_back(file.string());
    const auto [rc, text] = capture(sbatch, sd / "sbatch.out");
    const std::string job = text.substr(0, text.find_first_of(";\n"));
    if (rc != 0 || job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
      throw std::runtime_error(
          "sbatch failed (exit status " + std::to_string(rc) + "): " + text +
          (jobs.empty() ? "" : " (submitted before: " + jobs.front() + "...)"));
    jobs.push_back(job);
    out << "sasim sweep: Slurm job " << job << ": " << n << " array tasks"
        << (o.jobs ? ", at most " + std::to_string(o.jobs) + " at once" : "") << " (scancel " << job
        << " stops them; logs in " << sd.string() << ")\n"
        << std::flush;
  }

  std::set<std::size_t> pending(runnable.begin(), runnable.end());
  const auto collect = [&] {
    for (auto it = pending.begin(); it != pending.end();) {
      const SweepPoint& p = s.points[*it];
      results[p.index] = stored_result(s, p, dir);
      if (results[p.index].is_null()) {
        ++it;
        continue;
      }
      it = pending.erase(it);
      finished(p, pending.size());
    }
  };
  std::string job_list;
  for (const auto& j : jobs) job_list += (job_list.empty() ? "" : ",") + j;
  for (int failures = 0;;) {
    collect();
    if (pending.empty()) break;
    const auto [qrc, queued] =
        capture({"squeue", "--noheader", "--jobs=" + job_list, "--format=%F"}, sd / "squeue.out");
    const bool known = std::any_of(jobs.begin(), jobs.end(), [&](const std::string& j) {
      return queued.find(j) != std::string::npos;
    });
    if (qrc == 0 && !known) break;  // every array is over
    if (qrc != 0 && queued.find("Invalid job id") != std::string::npos) break;  // forgotten
    if (qrc != 0 && ++failures >= kSqueueFailures)
      throw std::runtime_error("squeue failed " + std::to_string(failures) +
                               " times in a row; the jobs (" + job_list +
                               ") may still run, and running the sweep again collects their "
                               "results: " +
                               queued);
    if (qrc == 0) failures = 0;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.slurm_poll_seconds));
  }
  // Results written at the very end may take a moment to show on a shared
  // file system.
  for (int i = 0; i < 5 && !pending.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.slurm_poll_seconds));
    collect();
  }
  for (const std::size_t i : std::set<std::size_t>(pending)) {
    const SweepPoint& p = s.points[i];
    const std::size_t pos = std::find(runnable.begin(), runnable.end(), i) - runnable.begin();
    const std::string log = (sd / ("task-" + jobs[pos / kArrayChunk] + "_" +
                                   std::to_string(pos % kArrayChunk) + ".log"))
                                .string();
    results[i] = retry_result(s, p, "its Slurm task ended without a result (see " + log + ")");
    write_result(point_dir(dir, p), results[i]);
    pending.erase(i);
    finished(p, pending.size());
  }
}

}  // namespace

std::string point_key(const Sweep& s, const SweepPoint& p) {
  std::string text = s.command + "\n" + cosim::variant_key() + "\n" + executable_hash() + "\n" +
                     s.base_text + "\n";
  for (const auto& [k, v] : s.set) text += k + "=" + v + "\n";
  for (const auto& [k, v] : p.values) text += k + "=" + v + "\n";
  return hex_crc(text);
}

json run_point(const Sweep& s, const SweepPoint& p, const fs::path& sweep_dir) {
  const fs::path dir = point_dir(sweep_dir, p);
  json result;
  if (!p.error.empty()) {
    result = failed_result(s, p, p.error);
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);  // no stale statistics from an interrupted run
    fs::create_directories(dir);
    // This very binary, even if the file was rebuilt (replaced) since the sweep began.
    std::vector<std::string> argv = {"/proc/self/exe", s.command,
                                     "--config",       base_snapshot(s, sweep_dir).string(),
                                     "--out",          dir.string()};
    for (const auto& [k, v] : s.set) argv.insert(argv.end(), {"--set", k + "=" + v});
    for (const auto& [k, v] : p.values) argv.insert(argv.end(), {"--set", k + "=" + v});
    // A waveform per point, in its folder (not one file that every point overwrites).
    if (p.config.run.waves)
      argv.insert(
          argv.end(),
          {"--set", "run.wave_file=" + yaml_quoted((fs::absolute(dir) / "waves.fst").string())});
    const auto t0 = Clock::now();
    const int rc = cosim::run_process(argv, dir / "log.txt");
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    result = failed_result(s, p, "");
    result["exit_code"] = rc;
    result["wall_seconds"] = wall;
    const fs::path stats = dir / p.config.name / stats_file_of(s.command);
    if (rc == 0 || rc == 3) {
      try {
        result["stats"] = json::parse(host::read_file(stats, kMaxResultBytes, "point statistics"));
      } catch (const std::exception& e) {
        result["error"] = std::string("no statistics: ") + e.what();
      }
    }
    if (rc == 0 && !result["stats"].is_null()) {
      result["status"] = "ok";
    } else if (rc == 3) {
      result["status"] = "mismatch";
      result["error"] = "the device result differs from the golden model (see " +
                        (dir / "log.txt").string() + ")";
    } else if (result["error"].get<std::string>().empty()) {
      result["error"] = "exit status " + std::to_string(rc) + ": " + error_of_log(dir / "log.txt");
    }
    // Killed by a signal (out of memory, a time limit) or not started at all:
    // nothing is known about the point itself.
    if (rc >= 126) result["retry"] = true;
  }
  write_result(dir, result);
  return result;
}

json table_row(const Sweep& s, const SweepPoint& p, const json& r) {
  json row = json::object();
  row["point"] = p.index;
  row["id"] = p.id;
  for (const auto& [k, v] : p.values) row[k] = v;
  row["status"] = r.value("status", "error");
  row["error"] = r.value("error", "");
  json m = metrics_of(s.command, p.config,
                      r.is_object() && r.contains("stats") ? r.at("stats") : json());
  m["wall_seconds"] = r.value("wall_seconds", 0.0);
  // Simulation speed: the job's own figure (its simulation alone) where it
  // has one, else cycles over the point's wall time.
  if (m["cycles"].is_number()) {
    const json own = r.is_object() && r.contains("stats") && r.at("stats").is_object()
                         ? at(r.at("stats"), s.command == "train" ? "/sim_cycles_per_s"
                                                                  : "/derived/sim_cycles_per_s")
                         : json();
    const double wall = m["wall_seconds"].get<double>();
    m["sim_cycles_per_s"] = own.is_number() ? own
                            : wall > 0      ? json(m["cycles"].get<double>() / wall)
                                            : json();
  }
  for (const auto& k : sweep_metrics()) row[k] = m[k];
  return row;
}

void write_tables(const Sweep& s, const std::vector<json>& results, const fs::path& dir) {
  std::vector<std::string> cols = {"point", "id"};
  cols.insert(cols.end(), s.axis_keys.begin(), s.axis_keys.end());
  cols.insert(cols.end(), {"status", "error"});
  cols.insert(cols.end(), sweep_metrics().begin(), sweep_metrics().end());
  std::string csv, jsonl;
  for (std::size_t i = 0; i < cols.size(); ++i) csv += (i ? "," : "") + cols[i];
  csv += "\n";
  for (const auto& p : s.points) {
    const json& r = results[p.index];
    if (r.is_null()) continue;
    const json row = table_row(s, p, r);
    for (std::size_t i = 0; i < cols.size(); ++i) csv += (i ? "," : "") + csv_field(row[cols[i]]);
    csv += "\n";
    json full = row;
    full["config_file"] = (fs::path("points") / p.id / p.config.name / "config.yaml").string();
    full["stats"] = r.contains("stats") ? r.at("stats") : json();
    jsonl += dump(full) + "\n";
  }
  host::write_file_atomic(dir / "sweep.csv", csv);
  host::write_file_atomic(dir / "sweep.jsonl", jsonl);
}

SweepSummary run_sweep(const Sweep& s, const SweepOptions& o, std::ostream& out) {
  const auto t0 = Clock::now();
  SweepSummary sum;
  sum.dir = o.out_dir / s.name;
  sum.points = s.points.size();
  host::prepare_output_dir(sum.dir / "points");
  // One sweep at a time in a folder: a second would delete the first's
  // running points. Released when this process ends, however it ends.
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } lock{::open((sum.dir / "sweep.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
  if (lock.fd < 0 || ::flock(lock.fd, LOCK_EX | LOCK_NB) != 0)
    throw SweepError(sum.dir.string() + " is in use by another sasim sweep (" +
                     (sum.dir / "sweep.lock").string() + " is locked); wait for it or use --out");
  {
    json manifest = {{"sweep", s.source},   {"command", s.command},      {"base", s.base.string()},
                     {"axes", s.axis_keys}, {"points", s.points.size()}, {"excluded", s.excluded}};
    host::write_file_atomic(sum.dir / "sweep.json", manifest.dump(2) + "\n");
    fs::create_directories(base_snapshot(s, sum.dir).parent_path());
    host::write_file_atomic(base_snapshot(s, sum.dir), s.base_text);
  }

  // Finished points are kept; the others are to run.
  std::vector<json> results(s.points.size());
  std::vector<std::size_t> todo;
  for (const auto& p : s.points) {
    results[p.index] = stored_result(s, p, sum.dir);
    if (results[p.index].is_null())
      todo.push_back(p.index);
    else
      ++sum.reused;
  }
  out << "sasim sweep: " << s.source << ": " << s.points.size() << " points (" << s.excluded
      << " excluded), " << sum.reused << " already done, " << todo.size() << " to run -> "
      << sum.dir.string() << "\n"
      << std::flush;

  // The cores the points need, built once each, at most build_jobs at a time.
  std::map<std::string, std::pair<cosim::VariantKind, spec::CoreSpec>> missing;
  for (const std::size_t i : todo)
    if (const auto v = variant_of(s, s.points[i]); v && !variant_ready(v->first, v->second))
      missing.emplace(variant_label(v->first, v->second), *v);
  std::map<std::string, std::string> build_errors;
  if (!missing.empty()) {
    out << "sasim sweep: building " << missing.size() << " missing variant(s) (" << o.build_jobs
        << " at a time): ";
    for (const auto& [name, v] : missing)
      out << name << (name == missing.rbegin()->first ? "\n" : ", ");
    out << std::flush;
    std::mutex m;
    auto next = missing.begin();
    std::size_t done = 0;
    const auto worker = [&] {
      for (;;) {
        std::pair<std::string, std::pair<cosim::VariantKind, spec::CoreSpec>> job;
        {
          std::lock_guard<std::mutex> l(m);
          if (next == missing.end()) return;
          job = *next++;
          out << "sasim sweep: building " << job.first << " (log "
              << (cosim::variant_entry(job.second.first, job.second.second) / "build.log").string()
              << ")\n"
              << std::flush;
        }
        std::ostringstream log;  // the builder's own lines: the ones above say it all
        std::string err;
        const auto b0 = Clock::now();
        try {
          cosim::build_variant(job.second.first, job.second.second, log);
        } catch (const std::exception& e) {
          err = e.what();
        }
        const double secs = std::chrono::duration<double>(Clock::now() - b0).count();
        std::lock_guard<std::mutex> l(m);
        ++done;
        if (!err.empty()) build_errors[job.first] = err;
        out << "sasim sweep: [" << done << "/" << missing.size() << " built] " << job.first
            << (err.empty() ? " in " + duration_text(secs) : " FAILED: " + err) << "\n"
            << std::flush;
      }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < std::max(1u, o.build_jobs); ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }

  // Points whose core could not be built fail with the build's error.
  std::vector<std::size_t> runnable;
  for (const std::size_t i : todo) {
    const SweepPoint& p = s.points[i];
    const auto v = variant_of(s, p);
    const auto err = v ? build_errors.find(variant_label(v->first, v->second)) : build_errors.end();
    if (err == build_errors.end()) {
      runnable.push_back(i);
      continue;
    }
    results[i] = retry_result(s, p, "building " + err->first + " failed: " + err->second);
    write_result(point_dir(sum.dir, p), results[i]);
    ++sum.ran;
  }

  Progress progress(out, o.progress_bar, s.points.size());
  const auto count_done = [&] {
    std::size_t done = 0, failed = 0;
    for (const auto& r : results)
      if (!r.is_null()) ++done, failed += r.value("status", "") != "ok";
    return std::make_pair(done, failed);
  };
  // The tables are rewritten as points finish, at most every 2 s (every
  // result is in its result.json already; the end writes them once more).
  auto last_tables = Clock::now() - std::chrono::hours(1);
  const auto finished = [&](const SweepPoint& p, std::size_t running) {
    ++sum.ran;
    const bool ok = results[p.index].value("status", "") == "ok";
    if (Clock::now() - last_tables > std::chrono::seconds(2)) {
      write_tables(s, results, sum.dir);
      last_tables = Clock::now();
    }
    const auto [done, failed] = count_done();
    progress.point(done, failed, running, runnable.size(),
                   sum.ran - (todo.size() - runnable.size()),
                   "point " + std::to_string(p.index) + " " + p.set_text() + ": " +
                       (ok ? "ok" : results[p.index].value("status", "error")));
  };

  if (o.runner == "slurm") {
    run_slurm(s, o, sum.dir, runnable, results, finished, out);
  } else {
    // The pool: one process per point, `jobs` at a time. A point runs in a
    // child of its own (run_point in a forked sasim), so the pool waits on
    // processes and never on threads.
    const unsigned jobs = o.jobs ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
    std::map<pid_t, std::size_t> running;
    std::size_t next = 0;
    const pid_t parent = ::getpid();
    while (next < runnable.size() || !running.empty()) {
      while (running.size() < jobs && next < runnable.size()) {
        const SweepPoint& p = s.points[runnable[next++]];
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        if (pid == 0) {
          // Dies with the sweep (its own child, the point's sasim, too): a
          // killed sweep leaves nothing running that could write a result later.
          ::prctl(PR_SET_PDEATHSIG, SIGKILL);
          if (::getppid() != parent) ::_exit(1);
          int rc = 0;
          try {
            run_point(s, p, sum.dir);
          } catch (const std::exception& e) {
            std::fprintf(stderr, "sasim sweep: point %zu: %s\n", p.index, e.what());
            rc = 1;
          }
          std::fflush(nullptr);
          ::_exit(rc);
        }
        running[pid] = p.index;
      }
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, 0);
      if (pid < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
      }
      const auto it = running.find(pid);
      if (it == running.end()) continue;
      const SweepPoint& p = s.points[it->second];
      running.erase(it);
      results[p.index] = stored_result(s, p, sum.dir);
      if (results[p.index].is_null())
        results[p.index] = retry_result(
            s, p,
            "the point's runner ended with status " + std::to_string(cosim::exit_code(status)));
      finished(p, running.size());
    }
  }
  progress.end();
  write_tables(s, results, sum.dir);
  write_plots(s, results, sum.dir, out);
  sum.failed = count_done().second;
  sum.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return sum;
}

void plan_sweep(const Sweep& s, const SweepOptions& o, std::ostream& out) {
  const fs::path dir = o.out_dir / s.name;
  std::size_t done = 0, invalid = 0, to_run = 0;
  std::set<std::string> builds;
  for (const auto& p : s.points) {
    out << "point " << p.index << " " << p.id << " " << p.set_text() << ": ";
    if (!stored_result(s, p, dir).is_null()) {
      out << "done\n";
      ++done;
    } else if (!p.error.empty()) {
      out << "invalid: " << p.error << "\n";
      ++invalid;
    } else {
      out << "to run";
      ++to_run;
      if (const auto v = variant_of(s, p); v && !variant_ready(v->first, v->second)) {
        out << " (needs " << variant_label(v->first, v->second) << " built)";
        builds.insert(variant_label(v->first, v->second));
      }
      out << "\n";
    }
  }
  out << "sasim sweep: " << s.points.size() << " points (" << s.excluded << " excluded) in "
      << dir.string() << ": " << done << " done, " << to_run << " to run, " << invalid
      << " invalid; " << builds.size() << " variant(s) to build\n";
}

json run_one_point(const Sweep& s, std::size_t index, const std::string& key,
                   const SweepOptions& o) {
  if (index >= s.points.size())
    throw SweepError(s.source + ": --run-point " + std::to_string(index) +
                     " is out of range (the sweep has " + std::to_string(s.points.size()) +
                     " points)");
  const SweepPoint& p = s.points[index];
  // The task runs what was submitted, or nothing.
  if (!key.empty() && point_key(s, p) != key)
    throw SweepError(s.source + ": point " + std::to_string(index) +
                     " is not the point that was submitted (the sweep file, its base config or "
                     "sasim changed since); run the sweep again");
  const fs::path dir = o.out_dir / s.name;
  if (!fs::exists(base_snapshot(s, dir)))
    throw SweepError(base_snapshot(s, dir).string() +
                     " is missing: --run-point runs a point of a sweep that sasim sweep started");
  return run_point(s, p, dir);
}

}  // namespace sasim::app
