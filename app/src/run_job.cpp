#include "sasim/app/run_job.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <vector>

#include "sasim/app/device.hpp"
#include "sasim/app/observe.hpp"
#include "sasim/app/summary.hpp"
#include "sasim/host/driver.hpp"
#include "sasim/host/files.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/multicore_kernels.hpp"
#include "sasim/model/gemm.hpp"

namespace sasim::app {

RunJobResult run_job(const Config& cfg) {
  const model::Datapath dp = cfg.core.datapath;
  // A, B and C must fit the device memory (before anything is allocated).
  const std::uint64_t eb_bytes = dp == model::Datapath::kBf16 ? 2 : 1;
  const double need = double(cfg.gemm.m) * double(cfg.gemm.k) * double(eb_bytes) +
                      double(cfg.gemm.k) * double(cfg.gemm.n) * double(eb_bytes) +
                      double(cfg.gemm.m) * double(cfg.gemm.n) * 4;
  if (need > double(cfg.memory.size))
    throw ConfigError(cfg.source + ": gemm: A, B and C need " +
                      std::to_string(std::uint64_t(need)) +
                      " bytes of device memory, memory.size is " + std::to_string(cfg.memory.size));
  const auto M = static_cast<Eigen::Index>(cfg.gemm.m), K = static_cast<Eigen::Index>(cfg.gemm.k),
             N = static_cast<Eigen::Index>(cfg.gemm.n);
  std::mt19937_64 rng(cfg.gemm.seed);
  const model::RawMatrix a = model::random_operands(dp, M, K, rng, cfg.gemm.operands);
  const model::RawMatrix b = model::random_operands(dp, K, N, rng, cfg.gemm.operands);

  const std::filesystem::path dir = std::filesystem::path(cfg.run.out_dir) / cfg.name;
  host::prepare_output_dir(dir);  // power.csv goes there
  const std::unique_ptr<cosim::CosimDevice> device = make_cosim_device(cfg);
  cosim::CosimDevice& dev = *device;
  host::Driver drv(dev);
  const unsigned eb = dp == model::Datapath::kBf16 ? 2 : 1;
  host::Tensor ta = drv.alloc_tensor(M, K, eb), tb = drv.alloc_tensor(K, N, eb),
               tc = drv.alloc_tensor(M, N, 4);
  const auto put = [&](const host::Tensor& t, const model::RawMatrix& m) {
    if (eb == 2) {
      drv.copy_in(t, std::span<const std::uint16_t>(m.data(), m.size()));
    } else {
      std::vector<std::uint8_t> v(m.data(), m.data() + m.size());
      drv.copy_in(t, std::span<const std::uint8_t>(v));
    }
  };
  put(ta, a);
  put(tb, b);

  RunJobResult r;
  JobObservers obs(cfg, dev);
  const auto t0 = std::chrono::steady_clock::now();
  obs.span_begin();
  if (cfg.cores == 1) {
    r.run = drv.gemm(cfg.core.dataflow, ta, tb, tc);
  } else {
    r.launch = drv.split_gemm(cfg.core.dataflow, ta, tb, tc, cfg.cores, cfg.gemm.split);
    r.run = r.launch.total();
  }
  obs.span_end("host",
               "GEMM " + std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N));
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  obs.useful_macs(double(M) * double(K) * double(N));

  model::AccMatrix c(M, N);
  drv.copy_out(tc, std::span<std::uint32_t>(c.data(), c.size()));
  const model::AccMatrix golden =
      cfg.cores == 1 || cfg.gemm.split == host::GemmSplit::kM
          ? model::gemm(dp, a, b,
                        static_cast<Eigen::Index>(
                            host::gemm_program_fold(dev.params(), cfg.core.dataflow, cfg.gemm.k)))
          : host::split_k_gemm_golden(dev.params(), cfg.core.dataflow, a, b, cfg.cores);
  r.mismatch = first_mismatch(golden, c);
  r.match = !r.mismatch.has_value();

  // Derived figures.
  const double pes = double(cfg.cores) * cfg.core.rows * cfg.core.cols;
  const double macs = double(cfg.gemm.m) * cfg.gemm.k * cfg.gemm.n;
  const double cycles = double(r.run.cycles);
  const double clock_hz = cfg.core.clock_mhz * 1e6;
  const double peak_bw = dev.memory().peak_bytes_per_s();  // 0: no bound (ideal memory)
  const double min_bytes = double(cfg.gemm.m) * cfg.gemm.k * eb +
                           double(cfg.gemm.k) * cfg.gemm.n * eb +
                           double(cfg.gemm.m) * cfg.gemm.n * 4;
  const double min_cycles_compute = macs / pes;
  const double min_cycles_memory = peak_bw > 0 ? min_bytes / peak_bw * clock_hz : 0;
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [k, v] : r.run.counters) counters[k] = v;
  const double rd = double(r.run.counters.at("device.bridge.read_bytes"));
  const double wr = double(r.run.counters.at("device.bridge.write_bytes"));
  const double secs = cycles / clock_hz;
  r.stats = {
      {"config", cfg.name},
      {"core",
       {{"rows", cfg.core.rows},
        {"cols", cfg.core.cols},
        {"datapath", model::to_string(dp)},
        {"dataflow", model::to_string(cfg.core.dataflow)},
        {"spad_rows", cfg.core.spad_rows},
        {"acc_rows", cfg.core.acc_rows},
        {"bus_bytes", cfg.core.bus_bytes},
        {"clock_mhz", cfg.core.clock_mhz},
        {"count", cfg.cores}}},
      {"split", std::string(host::to_string(cfg.gemm.split))},
      {"gemm", {{"m", cfg.gemm.m}, {"k", cfg.gemm.k}, {"n", cfg.gemm.n}, {"seed", cfg.gemm.seed}}},
      {"counters", counters},
      {"bounds",
       {{"peak_macs_per_s", pes * clock_hz},
        {"peak_memory_bytes_per_s", peak_bw},
        {"min_cycles_compute", min_cycles_compute},
        {"min_cycles_memory", min_cycles_memory},
        {"min_cycles", std::max(min_cycles_compute, min_cycles_memory)}}},
      {"derived",
       {{"cycles", r.run.cycles},
        {"macs", macs},
        {"pe_utilization", macs / (pes * cycles)},
        {"simulated_us", secs * 1e6},
        {"achieved_macs_per_s", macs / secs},
        {"memory_read_bytes", rd},
        {"memory_write_bytes", wr},
        {"achieved_bytes_per_s", (rd + wr) / secs},
        {"wall_seconds", r.wall_seconds},
        {"sim_cycles_per_s", cycles / r.wall_seconds},
        {"sim_macs_per_s", macs / r.wall_seconds}}},
      {"energy", energy_json(cfg, r.run.counters, macs)},
      {"engine", cosim::to_string(cfg.run.engine)},
      {"correlation_class", correlation_class(cfg)},
      {"match", r.match},
  };
  if (cfg.cores > 1) {
    nlohmann::json cores = nlohmann::json::array();
    for (const spec::RunResult& core : r.launch.cores) {
      nlohmann::json cc = nlohmann::json::object();
      for (const auto& [k, v] : core.counters) cc[k] = v;
      cores.push_back({{"cycles", core.cycles}, {"counters", cc}});
    }
    r.stats["cores"] = cores;
  }
  r.stats.update(obs.finish(dir));
  return r;
}

std::string run_summary(const Config& cfg, const RunJobResult& r) {
  const auto& run = r.run;
  const auto c = [&](const std::string& n) { return double(run.counters.at(n)); };
  const auto& d = r.stats.at("derived");
  const auto& b = r.stats.at("bounds");
  const double cycles = double(run.cycles);
  // Core cycles: of all cores together.
  const double core_cycles = cycles * cfg.cores;
  const auto pct = [&](double v) { return 100.0 * v / core_cycles; };
  std::ostringstream o;
  char line[320];
  o << "sasim: GEMM " << cfg.gemm.m << "x" << cfg.gemm.k << "x" << cfg.gemm.n << " on the device ("
    << (cfg.cores > 1 ? std::to_string(cfg.cores) + " cores " : std::string())
    << spec::core_name(cfg.core) << ", " << model::to_string(cfg.core.dataflow)
    << (cfg.cores == 1                          ? ""
        : cfg.gemm.split == host::GemmSplit::kK ? ", K split, reduced on the device"
                                                : ", rows split")
    << "), " << engine_text(cfg) << " + SystemC memory system (" << cfg.source << ")\n";
  std::snprintf(line, sizeof line,
                "  bounds           peak %.1f GMAC/s, memory %.2f GB/s, min cycles %.0f "
                "(compute %.0f, memory %.0f)\n",
                b.at("peak_macs_per_s").get<double>() * 1e-9,
                b.at("peak_memory_bytes_per_s").get<double>() * 1e-9,
                b.at("min_cycles").get<double>(), b.at("min_cycles_compute").get<double>(),
                b.at("min_cycles_memory").get<double>());
  o << line;
  const double busy = c("core.exec_busy"), wld = c("core.exec_wait_load"),
               wst = c("core.exec_wait_store"), starved = c("core.exec_starved");
  std::snprintf(line, sizeof line,
                "  cycles           %.0f (%.2f us at %.0f MHz): %scompute %.1f %%, waiting on "
                "memory %.1f %% (operands %.1f %%, results %.1f %%), waiting on dependencies "
                "%.1f %%, other %.1f %%\n",
                cycles, d.at("simulated_us").get<double>(), cfg.core.clock_mhz,
                cfg.cores > 1 ? "all cores: " : "", pct(busy), pct(wld + wst), pct(wld), pct(wst),
                pct(starved), pct(core_cycles - busy - wld - wst - starved));
  o << line;
  for (std::size_t i = 0; i < r.launch.cores.size() && cfg.cores > 1; ++i) {
    const spec::RunResult& k = r.launch.cores[i];
    const auto kc = [&](const std::string& n) { return double(k.counters.at(n)); };
    const double own = double(k.cycles);
    std::snprintf(line, sizeof line,
                  "  core %-2zu          %.0f cycles (%.1f %% of the run): compute %.1f %%, "
                  "waiting on memory %.1f %%, at the barrier %.1f %% (%.0f cycles waiting for "
                  "other cores); %.0f array steps\n",
                  i, own, 100.0 * own / cycles, 100.0 * kc("core.exec_busy") / own,
                  100.0 * (kc("core.exec_wait_load") + kc("core.exec_wait_store")) / own,
                  100.0 * kc("core.sync_wait") / own, kc("device.bridge.barrier_wait_cycles"),
                  kc("core.array_steps"));
    o << line;
  }
  if (cfg.cores > 1) {
    const double req = c("device.mem.noc.requests");
    std::snprintf(line, sizeof line,
                  "  interconnect     %.0f requests from %u cores, %.2f interconnect cycles of "
                  "contention per request (%.0f in all)\n",
                  req, cfg.cores, req > 0 ? c("device.mem.noc.stall_cycles") / req : 0.0,
                  c("device.mem.noc.stall_cycles"));
    o << line;
  }
  std::snprintf(line, sizeof line,
                "  PE utilization   %.1f %%  (%.2f GMAC/s achieved, %.0f array steps)\n",
                100.0 * d.at("pe_utilization").get<double>(),
                d.at("achieved_macs_per_s").get<double>() * 1e-9, c("core.array_steps"));
  o << line;
  std::snprintf(line, sizeof line,
                "  SRAM             scratchpad %.0f row reads, %.0f row writes; accumulator %.0f "
                "reads, %.0f writes\n",
                c("core.spad_reads"), c("core.spad_writes"), c("core.acc_reads"),
                c("core.acc_writes"));
  o << line;
  std::snprintf(line, sizeof line,
                "  memory traffic   %.0f B read, %.0f B written by the core (%.2f GB/s); %.0f "
                "instructions\n",
                d.at("memory_read_bytes").get<double>(), d.at("memory_write_bytes").get<double>(),
                d.at("achieved_bytes_per_s").get<double>() * 1e-9, double(run.instructions()));
  o << line;
  o << l2_line(cfg, run.counters, "device.mem.")
    << memory_line(cfg, run.counters, "device.mem.", cycles / (cfg.core.clock_mhz * 1e6))
    << energy_line(r.stats.at("energy"));
  if (r.stats.contains("power")) o << power_line(r.stats.at("power"));
  if (r.stats.contains("trace"))
    o << "  trace            " << r.stats.at("trace").at("file").get<std::string>() << " ("
      << r.stats.at("trace").at("events").get<std::uint64_t>() << " events)\n";
  std::snprintf(line, sizeof line,
                "  co-simulation    %.2f s wall, %.0f cycles/s, %.2f M MAC/s simulated\n",
                r.wall_seconds, d.at("sim_cycles_per_s").get<double>(),
                d.at("sim_macs_per_s").get<double>() * 1e-6);
  o << line << engine_line(cfg);
  o << "  golden model     " << (r.match ? "match (bit-exact)" : "MISMATCH") << "\n";
  if (r.mismatch) o << "  first mismatch   " << r.mismatch->describe(cfg.core.datapath) << "\n";
  if (cfg.run.waves) o << "  waves            " << cfg.run.wave_file << "\n";
  return o.str();
}

}  // namespace sasim::app
