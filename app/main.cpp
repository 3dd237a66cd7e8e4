// sasim command line: thin argument parsing on top of the sasim libraries.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "sasim/app/array_job.hpp"
#include "sasim/app/config.hpp"
#include "sasim/app/mem_job.hpp"
#include "sasim/app/plots.hpp"
#include "sasim/app/quantize_job.hpp"
#include "sasim/app/run_job.hpp"
#include "sasim/app/sweep.hpp"
#include "sasim/app/sweep_runner.hpp"
#include "sasim/app/train_job.hpp"
#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/core_model.hpp"
#include "sasim/cosim/variant_cache.hpp"
#include "sasim/host/files.hpp"

namespace po = boost::program_options;
using namespace sasim;

namespace {

// Parses a command's options, the first positional argument being --config;
// false after printing the help (--help).
bool parse_options(const std::vector<std::string>& args, const po::options_description& desc,
                   po::variables_map& vm) {
  po::positional_options_description pos;
  pos.add("config", 1);
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (!vm.count("help")) return true;
  std::cout << desc << "\n";
  return false;
}

// The options every job takes: the config file (also positional), the output
// directory, --set overrides and, where `waves_help` is set, --waves; train
// also --resume; run and train --trace, --trace-window and --engine; quantize
// --checkpoint and --engine.
// Returns the loaded config with the overrides applied, or nothing after
// --help. Anything else on the command line is an error.
std::optional<app::Config> job_config(const std::vector<std::string>& args,
                                      const std::string& usage, std::string config_path,
                                      const char* waves_help, bool resume_option, bool trace_option,
                                      bool checkpoint_option) {
  std::string out_dir, trace, trace_window, engine, checkpoint;
  std::vector<std::string> overrides;
  bool waves = false, resume = false;
  po::options_description desc(usage);
  desc.add_options()("help,h", "show this help")(
      "config,c", po::value(&config_path)->default_value(config_path), "YAML configuration")(
      "out,o", po::value(&out_dir), "directory for the statistics and the effective config")(
      "set,s", po::value(&overrides)->composing(),
      "KEY=VALUE: set a config key (e.g. core.rows=32, l2.replacement=srrip); repeatable, "
      "checked like the file");
  if (waves_help) desc.add_options()("waves,w", po::bool_switch(&waves), waves_help);
  if (trace_option)
    desc.add_options()("trace", po::value(&trace),
                       "FILE: write a Chrome/Perfetto trace-event JSON of the run (open it in "
                       "ui.perfetto.dev; run.trace_file)")(
        "trace-window", po::value(&trace_window),
        "START:END: only device cycles START..END-1 in the trace (run.trace_window)");
  if (checkpoint_option)
    desc.add_options()("checkpoint", po::value(&checkpoint),
                       "FILE: the trained checkpoint to quantize (quantize.checkpoint; default "
                       "<out>/<name>/checkpoint.bin, where sasim train writes it)");
  if (trace_option || checkpoint_option)
    desc.add_options()("engine", po::value(&engine),
                       "rtl | model | check: the verilated core, its cycle model (docs/model.md), "
                       "or both compared every cycle (run.engine)");
  if (resume_option)
    desc.add_options()("resume", po::bool_switch(&resume),
                       "continue from <out>/<name>/checkpoint.bin when it exists (a killed run "
                       "resumes where it stopped and ends as it would have)");
  po::variables_map vm;
  if (!parse_options(args, desc, vm)) return std::nullopt;
  // The trace options are config keys: given here, they get the config's checks.
  if (!trace.empty()) overrides.push_back("run.trace_file=" + trace);
  if (!trace_window.empty()) overrides.push_back("run.trace_window=" + trace_window);
  if (!engine.empty()) overrides.push_back("run.engine=" + engine);
  if (!checkpoint.empty()) overrides.push_back("quantize.checkpoint=" + checkpoint);
  app::Config cfg = app::load_config(config_path, overrides);
  if (waves) cfg.run.waves = true;
  if (!out_dir.empty()) cfg.run.out_dir = out_dir;
  if (resume) {
    const auto ck = std::filesystem::path(cfg.run.out_dir) / cfg.name / "checkpoint.bin";
    if (std::filesystem::exists(ck))
      cfg.train.resume = ck.string();
    else
      std::cerr << "sasim train: no checkpoint at " << ck.string() << ", starting fresh\n";
  }
  // Before anything runs: the results must have a place to go.
  host::prepare_output_dir(std::filesystem::path(cfg.run.out_dir) / cfg.name);
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  return cfg;
}

// Writes <out_dir>/<name>/<stats_file> and the effective config beside it,
// each whole or not at all (host::FileError, exit status 2).
void write_outputs(const app::Config& cfg, const std::string& stats_file,
                   const nlohmann::json& stats) {
  const std::filesystem::path dir = std::filesystem::path(cfg.run.out_dir) / cfg.name;
  host::write_file_atomic(dir / stats_file, stats.dump(2) + "\n");
  host::write_file_atomic(dir / "config.yaml", app::to_yaml(cfg));
  std::cout << "  statistics       " << (dir / stats_file).string() << "\n";
}

// What a job command needs besides the job: its name, default config, the
// help of --waves (none: no --waves option) and its statistics file.
struct JobCommand {
  const char* name;
  const char* default_config;
  const char* waves_help;
  const char* stats_file;
};

// One job command: options, the job, its summary on stdout and its
// statistics. Exit status 3 when the device result differs from the golden
// model (jobs that check one).
template <typename Job, typename Summary>
int job_command(const JobCommand& c, const std::vector<std::string>& args, Job job,
                Summary summary) {
  const std::string name = c.name;
  const auto cfg = job_config(args, std::string("sasim ") + c.name + " [options]", c.default_config,
                              c.waves_help, name == "train", name == "run" || name == "train",
                              name == "quantize");
  if (!cfg) return 0;
  const auto r = job(*cfg);
  std::cout << summary(*cfg, r);
  write_outputs(*cfg, c.stats_file, r.stats);
  if constexpr (requires { r.match; }) return r.match ? 0 : 3;
  if constexpr (requires { r.int8_ok; }) return r.int8_ok ? 0 : 3;
  return 0;
}

int cmd_job(const std::string& cmd, const std::vector<std::string>& args) {
  if (cmd == "run")  // the main job: a GEMM on the whole device (RTL core + SystemC memory)
    return job_command({"run", "configs/default.yaml",
                        "write an FST waveform of the core (run.wave_file)", "stats.json"},
                       args, app::run_job, app::run_summary);
  if (cmd == "array")  // the array alone: cycle formula and bit-exactness checks
    return job_command({"array", "configs/default.yaml",
                        "write an FST waveform (run.wave_file, under waves/)", "array_stats.json"},
                       args, app::array_job, app::array_summary);
  if (cmd == "mem")  // synthetic traffic through the memory system
    return job_command({"mem", "configs/memory.yaml", nullptr, "mem_stats.json"}, args,
                       app::mem_job, app::mem_summary);
  if (cmd == "quantize")  // int8 inference of a trained checkpoint; progress on stderr
    return job_command(
        {"quantize", "configs/train.yaml", nullptr, "quantize_report.json"}, args,
        [](const app::Config& c) { return app::quantize_job(c, std::cerr); },
        app::quantize_summary);
  // Training on the device (the `train` section); progress on stderr.
  return job_command(
      {"train", "configs/train.yaml", nullptr, "train_report.json"}, args,
      [](const app::Config& c) { return app::train_job(c, std::cerr); }, app::train_summary);
}

int cmd_variants() {
  std::cout << "cores linked in (SASIM_CORE_VARIANTS, for run and train):\n";
  for (const auto& s : cosim::built_core_variants())
    std::cout << "  " << spec::core_name(s) << "\n";
  std::cout << "arrays linked in (SASIM_ARRAY_VARIANTS, for array):\n";
  for (const auto& s : cosim::built_array_variants())
    std::cout << "  " << spec::array_name(s) << "\n";
  std::cout << "built on demand, in " << cosim::variant_cache_dir().string() << " (key "
            << cosim::variant_key() << "):\n";
  const auto built_in = [](cosim::VariantKind k, const spec::CoreSpec& s) {
    const double secs = cosim::variant_build_seconds(k, s);
    return secs < 0 ? std::string() : " (built in " + std::to_string(std::lround(secs)) + " s)";
  };
  for (const auto& s : cosim::cached_variants(cosim::VariantKind::kCore))
    std::cout << "  core " << spec::core_name(s) << built_in(cosim::VariantKind::kCore, s) << "\n";
  for (const auto& s : cosim::cached_variants(cosim::VariantKind::kArray))
    std::cout << "  array " << spec::array_name(s) << built_in(cosim::VariantKind::kArray, s)
              << "\n";
  std::cout << "Any other legal core or array is built there when a config first asks for it;\n"
               "sasim variants --prune removes the entries of earlier keys.\n";
  return 0;
}

// sasim sweep: the points of a sweep file on a local process pool.
int cmd_sweep(const std::vector<std::string>& args) {
  std::string file, out_dir = "out/sweeps";
  std::vector<std::string> overrides;
  unsigned jobs = 0, build_jobs = 1;
  bool skip_invalid = false, dry_run = false;
  std::string runner = "local";
  std::vector<std::string> sbatch_args;
  long long run_point = -1;
  std::string point_key;
  po::options_description desc("sasim sweep --config FILE [options]");
  desc.add_options()("help,h", "show this help")("config,c", po::value(&file),
                                                 "the sweep file (configs/sweeps/)")(
      "out,o", po::value(&out_dir)->default_value(out_dir),
      "results go to <out>/<sweep name>/ (sweep.csv, sweep.jsonl, plots/, points/)")(
      "jobs,j", po::value(&jobs)->default_value(0),
      "points run at once (local: 0 is the machine's cores; slurm: array tasks at once, 0 no "
      "limit)")("runner", po::value(&runner)->default_value(runner),
                "local (a process pool on this machine) | slurm (one sbatch job array, results "
                "in the shared --out folder)")(
      "sbatch-arg", po::value(&sbatch_args)->composing(),
      "an extra sbatch option for --runner slurm, e.g. --sbatch-arg=--partition=short "
      "(repeatable)")("run-point", po::value(&run_point),
                      "run point I of the sweep and record it (what each Slurm task does)")(
      "point-key", po::value(&point_key),
      "with --run-point: the point's key at submission; a changed point is not run")(
      "build-jobs", po::value(&build_jobs)->default_value(1),
      "missing cores verilated at once (each build uses cores/build-jobs compilers)")(
      "set,s", po::value(&overrides)->composing(),
      "KEY=VALUE applied to every point (after the sweep file's set)")(
      "dry-run,n", po::bool_switch(&dry_run),
      "list the points (done, to run, invalid) and the cores to build; run nothing")(
      "skip-invalid", po::bool_switch(&skip_invalid),
      "run the points whose config is valid and record the others as failed (default: a "
      "sweep with an invalid point does not start)");
  po::variables_map vm;
  if (!parse_options(args, desc, vm)) return 0;
  if (file.empty()) throw po::error("--config FILE is required (see configs/sweeps/)");
  if (jobs > 1024) throw po::error("--jobs " + std::to_string(jobs) + " is out of range (0..1024)");
  if (build_jobs < 1 || build_jobs > 64)
    throw po::error("--build-jobs " + std::to_string(build_jobs) + " is out of range (1..64)");
  if (runner != "local" && runner != "slurm")
    throw po::error("--runner '" + runner + "' is not allowed (allowed local, slurm)");
  if (vm.count("run-point") && run_point < 0)
    throw po::error("--run-point " + std::to_string(run_point) + " is out of range (0..points-1)");
  // Every process of the sweep (and its points) shares the build slots.
  setenv("SASIM_BUILD_SLOTS", std::to_string(build_jobs).c_str(), 1);
  // A dry run lists the invalid points too.
  const app::Sweep sweep = app::load_sweep(file, overrides, skip_invalid || dry_run, run_point);
  app::SweepOptions o;
  o.out_dir = out_dir;
  o.jobs = jobs;
  o.build_jobs = build_jobs;
  o.progress_bar = ::isatty(STDERR_FILENO);
  o.runner = runner;
  o.sbatch_args = sbatch_args;
  if (dry_run) {
    app::plan_sweep(sweep, o, std::cout);
    return 0;
  }
  if (run_point >= 0) {
    const auto r = app::run_one_point(sweep, static_cast<std::size_t>(run_point), point_key, o);
    std::cout << "sasim sweep: point " << run_point << ": " << r.value("status", "error")
              << (r.value("error", "").empty() ? "" : ": " + r.value("error", "")) << "\n";
    return 0;  // the point's own failure is in its result, not in this task's status
  }
  const app::SweepSummary r = app::run_sweep(sweep, o, std::cerr);
  std::cout << "sasim sweep: " << r.points << " points: " << r.ran << " run, " << r.reused
            << " reused, " << r.failed << " failed, in " << static_cast<long>(r.wall_seconds + 0.5)
            << " s\n"
            << "  table            " << (r.dir / "sweep.csv").string() << "\n"
            << "  every counter    " << (r.dir / "sweep.jsonl").string() << "\n";
  if (!sweep.plots.empty())
    std::cout << "  plots            " << (r.dir / "plots").string() << "/\n";
  return r.failed ? 4 : 0;
}

// sasim plot power|trace: figures of a run's power.csv or trace.
int cmd_plot(const std::vector<std::string>& args) {
  const std::string what = args.empty() ? "" : args[0];
  if (what != "power" && what != "trace")
    throw po::error("what to plot: 'power' (power.csv files) or 'trace' (a --trace file)");
  std::vector<std::string> files, labels;
  std::string out, window;
  double cap = 0;
  po::options_description desc(what == "power" ? "sasim plot power FILE.csv... --out STEM [options]"
                                               : "sasim plot trace FILE.json --out STEM [options]");
  desc.add_options()("help,h", "show this help")("file", po::value(&files)->composing(),
                                                 "input files")(
      "out,o", po::value(&out), "STEM: writes STEM.png, STEM.svg and the script STEM.gp");
  if (what == "power")
    desc.add_options()("label", po::value(&labels)->composing(),
                       "a name per file, in order (default: each file's folder)")(
        "cap", po::value(&cap), "W: draw the power cap");
  else
    desc.add_options()("window", po::value(&window),
                       "START:END device cycles (default: the whole trace)");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                .options(desc)
                .positional(pos)
                .run(),
            vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (files.empty()) throw po::error("no input file");
  if (out.empty()) throw po::error("--out STEM is required");
  std::vector<std::filesystem::path> written;
  if (what == "power") {
    if (!(cap >= 0 && cap <= 1e6))
      throw po::error("--cap " + std::to_string(cap) + " is out of range (0..1e6 W)");
    written = app::plot_power({files.begin(), files.end()}, labels, cap, out, std::cerr);
  } else {
    if (files.size() != 1) throw po::error("one trace file at a time");
    std::pair<std::uint64_t, std::uint64_t> w;
    try {
      w = app::parse_trace_window(window);
    } catch (const std::invalid_argument& e) {
      throw po::error(std::string("--window ") + e.what());
    }
    written = app::plot_trace(files[0], w, out, std::cerr);
  }
  for (const auto& f : written) std::cout << "  figure           " << f.string() << "\n";
  return written.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // quiet by default
  const std::string usage =
      "usage: sasim <command> [options]\n"
      "commands:\n"
      "  run [--config FILE] [--waves] [--out DIR] [--trace FILE]\n"
      "                                               GEMM on the device (RTL core + SystemC "
      "memory system), checked against the golden model\n"
      "  array [--config FILE] [--waves] [--out DIR] GEMM on the bare array (cycle formula "
      "check)\n"
      "  train [--config FILE] [--out DIR] [--resume] train the MLP on Fashion-MNIST on the "
      "device (configs/train.yaml)\n"
      "  quantize [--config FILE] [--checkpoint FILE] int8 inference of a trained checkpoint on "
      "the int8 core, checked against the golden int8 model\n"
      "  mem [--config FILE] [--out DIR]              synthetic traffic through the memory "
      "system\n"
      "  sweep --config FILE [--jobs N] [--out DIR] [--runner local|slurm]\n"
      "                                               run the points of a sweep file "
      "(configs/sweeps/): sweep.csv, sweep.jsonl, plots\n"
      "  variants                                     list the verilated core and array "
      "variants\n"
      "  plot power CSV... --out STEM | plot trace JSON [--window S:E] --out STEM\n"
      "                                               figures of power.csv files or a trace\n"
      "Every job command also takes --set KEY=VALUE (repeatable) to change one config key, e.g.\n"
      "  sasim run --set core.dataflow=os --set l2.replacement=srrip\n";
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << usage;
    return argc < 2 ? 1 : 0;
  }
  const std::string cmd = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "run" || cmd == "array" || cmd == "train" || cmd == "mem" || cmd == "quantize")
      return cmd_job(cmd, args);
    if (cmd == "sweep") return cmd_sweep(args);
    if (cmd == "plot") return cmd_plot(args);
    if (cmd == "variants") {
      if (args.size() == 1 && args[0] == "--prune") {
        const auto freed = cosim::prune_variant_cache(std::cout);
        std::cout << "sasim variants: " << freed / (1024 * 1024) << " MiB freed; entries of key "
                  << cosim::variant_key() << " kept\n";
        return 0;
      }
      if (!args.empty()) {
        std::cerr << "sasim variants: unexpected argument '" << args[0]
                  << "' (sasim variants [--prune])\n";
        return 1;
      }
      return cmd_variants();
    }
    std::cerr << "sasim: unknown command '" << cmd << "'\n" << usage;
    return 1;
  } catch (const po::error& e) {
    std::cerr << "sasim " << cmd << ": " << e.what() << "\n";
    return 1;
  } catch (const app::PlotError& e) {
    std::cerr << "sasim plot: " << e.what() << "\n";
    return 2;
  } catch (const app::SweepError& e) {
    std::cerr << "sasim sweep: " << e.what() << "\n";
    return 2;
  } catch (const app::ConfigError& e) {
    std::cerr << "sasim: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "sasim: error: " << e.what() << "\n";
    return 2;
  }
}
