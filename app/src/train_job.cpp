#include "sasim/app/train_job.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <sstream>
#include <vector>

#include "sasim/app/device.hpp"
#include "sasim/app/observe.hpp"
#include "sasim/app/summary.hpp"
#include "sasim/cosim/subprocess.hpp"
#include "sasim/host/checkpoint.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/files.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "sasim/model/mlp_golden.hpp"
#include "sasim/model/numerics.hpp"

namespace sasim::app {

namespace {

struct Phase {
  spec::RunResult run;
  std::uint64_t macs = 0;
  nlohmann::json energy;  // the sum of each part's at its DVFS step
  // A step's part of the phase, run at supply ratio v and clock ratio f
  // (power.hpp: scale_energy).
  void add(const Config& cfg, const spec::RunResult& r, std::uint64_t m, double v, double f) {
    run.add(r);
    macs += m;
    nlohmann::json e = scale_energy(energy_json(cfg, r.counters, double(m)), v, f);
    energy = energy.is_null() ? std::move(e) : energy_sum({energy, e});
  }
  // A phase that ran nothing has no counters: its figures are 0. The L2 and
  // DRAM figures exist when the memory system has them.
  nlohmann::json json(double pes, const Config& cfg) const {
    const std::uint64_t cycles = run.cycles;
    const auto c = [&](const std::string& k) {
      return run.counters.size() ? run.counters.at(k) : std::uint64_t{0};
    };
    nlohmann::json j = {{"cycles", cycles},
                        {"macs", macs},
                        {"utilization", cycles ? double(macs) / (pes * double(cycles)) : 0.0},
                        {"array_steps", c("core.array_steps")},
                        {"vector_rows", c("core.vec_rows")}};
    if (cfg.memory.model == "dram") {
      j["dram_bytes_read"] = c("device.mem.dram.bytes_read");
      j["dram_bytes_written"] = c("device.mem.dram.bytes_written");
      j["dram_row_hits"] = c("device.mem.dram.row_hits");
      j["dram_row_misses"] = c("device.mem.dram.row_misses");
      j["dram_row_conflicts"] = c("device.mem.dram.row_conflicts");
    }
    if (!cfg.l2.bypass) {
      j["l2_hits"] = c("device.mem.l2.hits");
      j["l2_misses"] = c("device.mem.l2.misses");
    }
    j["energy"] = energy.is_null() ? energy_json(cfg, run.counters, 0.0) : energy;
    return j;
  }
};

// A bound over `steps` steps: its figures, which one binds and the fraction of
// it achieved in `cycles` (1: at the bound).
nlohmann::json bound_json(const host::PhaseBound& b, std::uint64_t steps, std::uint64_t cycles) {
  const double n = double(steps);
  const double bound = b.cycles() * n;
  return {{"compute_cycles", b.compute_cycles * n},
          {"memory_cycles", b.memory_cycles * n},
          {"read_bytes", double(b.read_bytes) * n},
          {"write_bytes", double(b.write_bytes) * n},
          {"binding", b.compute_cycles >= b.memory_cycles ? "compute" : "memory"},
          {"fraction_of_bound", cycles ? bound / double(cycles) : 0.0}};
}

// "bound 56821 (memory; compute 25585, memory 56821), 42.1 % of it", the
// cycles divided by `per` (1: the totals; the steps: per step).
std::string bound_text(const nlohmann::json& b, double per = 1) {
  const double c = b.at("compute_cycles").get<double>() / per;
  const double m = b.at("memory_cycles").get<double>() / per;
  char s[160];
  std::snprintf(s, sizeof s, "bound %.0f (%s; compute %.0f, memory %.0f), %.1f %% of it",
                std::max(c, m), b.at("binding").get<std::string>().c_str(), c, m,
                100.0 * b.at("fraction_of_bound").get<double>());
  return s;
}

// The optimizer and its fields (the binary32 values the run uses).
nlohmann::json optimizer_json(const model::MlpConfig& m) {
  nlohmann::json j = {{"kind", model::to_string(m.optimizer)}};
  if (m.optimizer == model::Optimizer::kSgd) {
    j["momentum"] = m.momentum;
  } else {
    j["beta1"] = m.beta1;
    j["beta2"] = m.beta2;
    j["eps"] = m.eps;
    j["weight_decay"] = m.weight_decay;
  }
  return j;
}

// "sgd, momentum 0.9" / "adamw, beta1 0.9, beta2 0.999, eps 1e-08, weight decay 0.01".
std::string optimizer_text(const nlohmann::json& o) {
  const std::string kind = o.at("kind").get<std::string>();
  char s[200];
  if (kind == "sgd") {
    std::snprintf(s, sizeof s, "sgd, momentum %.4g", o.at("momentum").get<double>());
  } else {
    std::snprintf(s, sizeof s, "%s, beta1 %.4g, beta2 %.4g, eps %.3g, weight decay %.4g%s",
                  kind.c_str(), o.at("beta1").get<double>(), o.at("beta2").get<double>(),
                  o.at("eps").get<double>(), o.at("weight_decay").get<double>(),
                  o.at("weight_decay").get<double>() == 0 ? ""
                  : kind == "adam"                        ? " (L2, in the gradient)"
                                                          : " (decoupled)");
  }
  return s;
}

}  // namespace

host::Dataset load_images(const Config& cfg, host::Split split, std::uint64_t n,
                          const std::string& key) {
  const host::Dataset all = host::load_fashion_mnist(cfg.train.data_dir, split);
  if (n > all.count)
    throw ConfigError(cfg.source + ": " + key + ": " + std::to_string(n) + " images asked, the " +
                      (split == host::Split::kTrain ? "training" : "test") + " files in " +
                      cfg.train.data_dir + " hold " + std::to_string(all.count));
  return host::subset(all, 0, n);
}

TrainJobResult train_job(const Config& cfg, std::ostream& progress) {
  if (cfg.core.datapath != model::Datapath::kBf16)
    throw ConfigError(cfg.source + ": core.datapath: training needs bf16");
  const TrainConfig& t = cfg.train;
  if (t.layers.size() < 2) throw ConfigError(cfg.source + ": train.layers: at least two entries");
  const model::MlpConfig m = mlp_config(cfg);
  if (const std::string why = host::parallel_problem(m, cfg.cores, t.parallel); !why.empty())
    throw ConfigError(cfg.source + ": train.parallel: " + why + " (core.count " +
                      std::to_string(cfg.cores) + ", train.layers, train.batch)");
  if (cfg.core.dataflow != model::Dataflow::kWs)
    throw ConfigError(cfg.source +
                      ": core.dataflow: " + std::string(model::to_string(cfg.core.dataflow)) +
                      " is not supported by sasim train (its kernels run weight-stationary: ws)");
  const host::Dataset train =
      load_images(cfg, host::Split::kTrain, t.train_images, "train.train_images");
  const host::Dataset test =
      load_images(cfg, host::Split::kTest, t.test_images, "train.test_images");
  if (train.features() != t.layers.front())
    throw ConfigError(cfg.source + ": train.layers: the first entry must be " +
                      std::to_string(train.features()) + " (the image pixels)");
  const std::uint64_t per_epoch = t.train_images / t.batch;
  // The whole run: steps 0..run_end-1 (the schedule's length); this job does
  // those from its checkpoint (a resumed run) to `end` (train.stop_after).
  const std::uint64_t run_end = t.steps ? t.steps : std::uint64_t{t.epochs} * per_epoch;
  const std::uint64_t end = t.stop_after ? t.stop_after : run_end;
  if (end > run_end)
    throw ConfigError(cfg.source + ": train.stop_after: " + std::to_string(end) +
                      " is past the run's end (allowed 0.." + std::to_string(run_end) +
                      ", its steps)");
  const std::filesystem::path dir = std::filesystem::path(cfg.run.out_dir) / cfg.name;
  host::prepare_output_dir(dir);
  const std::string checkpoint = (dir / "checkpoint.bin").string();
  const host::RunFingerprint fingerprint{m, t.train_images};

  const std::unique_ptr<cosim::CosimDevice> device = make_cosim_device(cfg);
  cosim::CosimDevice& dev = *device;
  host::Driver drv(dev);
  std::uint64_t start = 0;
  model::MlpState init = model::mlp_init(m);
  if (!t.resume.empty()) {
    try {
      host::Checkpoint c = host::load_checkpoint(t.resume, fingerprint, run_end);
      init = std::move(c.state);
      start = c.step;
    } catch (const host::CheckpointError& e) {
      throw ConfigError(cfg.source + ": train.resume: " + e.what());
    }
  }
  if (start > end)
    throw ConfigError(cfg.source + ": train.stop_after: " + std::to_string(end) +
                      " is before the checkpoint's step " + std::to_string(start) +
                      " (train.resume)");
  const std::uint64_t total = end - start;  // steps of this job
  // The parameters, optimizer state and activations live in device memory.
  const auto device_mlp = [&] {
    try {
      return std::make_unique<host::DeviceMlp>(drv, m, init, false, start, cfg.cores, t.grad_reduce,
                                               t.parallel);
    } catch (const host::DeviceOutOfMemory& e) {
      throw ConfigError(cfg.source + ": memory.size: " + std::to_string(cfg.memory.size) +
                        " bytes do not hold the MLP of train.layers with train.batch " +
                        std::to_string(t.batch) + " (" + e.what() + ")");
    }
  };
  const std::unique_ptr<host::DeviceMlp> mlp_ptr = device_mlp();
  host::DeviceMlp& mlp = *mlp_ptr;
  JobObservers obs(cfg, dev);
  obs.power().segment("training");
  mlp.set_phase_hook([&](const char* p, std::size_t l, bool b) { obs.phase(p, l, b); });
  model::MlpState gold = init;
  model::ReferenceMlp ref(m);
  const model::StepFolds folds =
      host::step_folds(dev.params(), m, cfg.cores, t.grad_reduce, t.parallel);

  // Work and lower bounds per step and phase (host::step_bounds).
  const host::StepBounds bounds = host::step_bounds(m, cfg.core);
  const std::uint64_t fwd_macs = bounds.forward.macs, dgrad_macs = bounds.data_grad.macs,
                      wupd_macs = bounds.weight_update.macs;
  Phase fwd, dgrad, wupd, inf;
  std::vector<spec::RunResult> per_core;     // several cores: each core's share of the steps
  std::vector<std::uint64_t> per_core_macs;  // and its useful MACs in them
  std::uint64_t reduction = 0;               // several cores: StepStats::reduction summed
  std::vector<float> losses;
  std::vector<std::size_t> order;
  std::uint64_t order_epoch = ~std::uint64_t{0};
  const auto batch_at = [&](std::uint64_t s) {
    const std::uint64_t e = s / per_epoch;
    if (e != order_epoch) {
      order = host::shuffled_order(train.count, t.seed, e);
      order_epoch = e;
    }
    return host::make_batch(train, order, (s % per_epoch) * t.batch, t.batch);
  };
  // The fp32 reference, trained on the same batches from the start.
  for (std::uint64_t s = 0; s < end; ++s) {
    const model::Batch b = batch_at(s);
    ref.train_batch(b.x, b.labels);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const double sim_t0 = dev.now_us();
  const std::uint64_t report_every = std::max<std::uint64_t>(1, total / 10);
  double interval_loss = 0;
  std::uint64_t interval_steps = 0;
  // train.check: the golden step s runs on a second thread while the device
  // simulates step s + 1 (the golden model touches no SystemC object and the
  // device state it compares with is a copy); its verdict is taken after
  // step s + 1, before a checkpoint is written and at the end, so a
  // difference stops the run one step later at most and no checkpoint holds
  // an unchecked step.
  struct PendingCheck {
    std::uint64_t step = 0;
    std::future<std::string> diff;  // empty: the same
  };
  std::optional<PendingCheck> pending;
  const auto take_check = [&] {
    if (!pending) return;
    const std::uint64_t cs = pending->step;
    const std::string diff = pending->diff.get();
    pending.reset();
    if (!diff.empty()) {
      throw std::runtime_error("train.check: step " + std::to_string(cs) +
                               ": the device and the golden model differ in " + diff);
    }
  };
  for (std::uint64_t s = start; s < end; ++s) {
    const model::Batch b = batch_at(s);
    const model::RawMatrix x = model::to_bf16_input(b.x);
    obs.span_begin();
    const host::StepStats st = [&] {
      try {
        return mlp.step(x, b.labels);
      } catch (const std::invalid_argument& e) {
        // The kernels plan every program of a step on the host: a core whose
        // SRAMs cannot hold their tiles fails here, in the first step.
        throw ConfigError(cfg.source + ": core: the training kernels do not fit a " +
                          spec::core_name(cfg.core) + " core: " + e.what());
      }
    }();
    obs.span_end("steps", "step " + std::to_string(s));
    const double v = obs.power().v_ratio(), f = obs.power().f_ratio();
    fwd.add(cfg, st.forward, fwd_macs, v, f);
    dgrad.add(cfg, st.data_grad, dgrad_macs, v, f);
    wupd.add(cfg, st.weight_update, wupd_macs, v, f);
    if (per_core.size() < st.cores.size()) per_core.resize(st.cores.size());
    for (std::size_t i = 0; i < st.cores.size(); ++i) per_core[i].add(st.cores[i]);
    if (per_core_macs.size() < st.core_macs.size()) per_core_macs.resize(st.core_macs.size());
    for (std::size_t i = 0; i < st.core_macs.size(); ++i) per_core_macs[i] += st.core_macs[i];
    reduction += st.reduction;
    obs.useful_macs(double(fwd_macs + dgrad_macs + wupd_macs));
    obs.after_step();
    losses.push_back(st.loss);
    if (t.check) {
      take_check();  // step s - 1's
      pending = PendingCheck{
          s, std::async(std::launch::async, [&gold, &m, &folds, s, x, labels = b.labels,
                                             loss = st.loss, device_state = mlp.state()] {
            const float gl = model::mlp_step(gold, m, s, x, labels, folds);
            return gl != loss ? std::string("the loss")
                              : model::first_difference(device_state, gold);
          })};
    }
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::uint64_t done = s - start + 1;
    char line[200];
    std::snprintf(line, sizeof line,
                  "\rstep %llu/%llu  loss %.4f  simulated cycles %.3g  elapsed %s  ETA %s   ",
                  static_cast<unsigned long long>(s + 1), static_cast<unsigned long long>(end),
                  st.loss, double(fwd.run.cycles + dgrad.run.cycles + wupd.run.cycles),
                  duration_text(el).c_str(),
                  duration_text(el / double(done) * double(total - done)).c_str());
    progress << line << std::flush;
    // Every tenth of the run the line stays, with the mean loss since the last
    // one, so the log shows the loss going down.
    interval_loss += st.loss;
    ++interval_steps;
    if (done % report_every == 0 || done == total) {
      std::snprintf(line, sizeof line, " mean loss of steps %llu-%llu: %.4f\n",
                    static_cast<unsigned long long>(s + 2 - interval_steps),
                    static_cast<unsigned long long>(s + 1), interval_loss / double(interval_steps));
      progress << line << std::flush;
      interval_loss = 0;
      interval_steps = 0;
    }
    if (t.checkpoint_every && (s + 1) % t.checkpoint_every == 0 && s + 1 < end) {
      take_check();
      host::save_checkpoint(checkpoint, mlp.state(), s + 1, fingerprint);
    }
  }
  take_check();
  const double train_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double train_sim_us = dev.now_us() - sim_t0;

  // Test accuracy: inference on the device, batch by batch (the last batch
  // padded with zero images whose predictions are ignored).
  std::uint64_t correct = 0;
  obs.power().segment("inference");
  for (std::size_t first = 0; first < test.count; first += t.batch) {
    const std::size_t n = std::min<std::size_t>(t.batch, test.count - first);
    const model::Batch b = host::padded_batch(test, first, t.batch);
    spec::RunResult r;
    obs.span_begin();
    const model::AccMatrix lg = mlp.logits(model::to_bf16_input(b.x), &r);
    obs.span_end("steps", "inference " + std::to_string(first / t.batch));
    inf.add(cfg, r, fwd_macs, obs.power().v_ratio(), obs.power().f_ratio());
    obs.useful_macs(double(fwd_macs));
    obs.after_step();
    for (std::size_t i = 0; i < n; ++i) {
      Eigen::Index best = 0;
      for (Eigen::Index c = 1; c < lg.cols(); ++c)
        if (model::bits_to_f32(lg(Eigen::Index(i), c)) >
            model::bits_to_f32(lg(Eigen::Index(i), best)))
          best = c;
      correct += static_cast<std::uint64_t>(best) == b.labels[i];
    }
  }

  TrainJobResult r;
  r.steps = total;
  r.device_accuracy = double(correct) / double(test.count);
  r.reference_accuracy = ref.evaluate(test.samples());
  // (A resumed run whose checkpoint is at the end trains no step: no losses.)
  const std::size_t k =
      losses.empty() ? 0 : std::max<std::size_t>(1, std::min<std::size_t>(10, losses.size() / 2));
  for (std::size_t i = 0; i < k; ++i) {
    r.first_loss += losses[i] / double(k);
    r.last_loss += losses[losses.size() - 1 - i] / double(k);
  }
  r.checkpoint = checkpoint;
  host::save_checkpoint(r.checkpoint, mlp.state(), end, fingerprint);
  const double pes = double(cfg.cores) * cfg.core.rows * cfg.core.cols;
  const std::uint64_t cycles = fwd.run.cycles + dgrad.run.cycles + wupd.run.cycles;
  // A phase's bounds over the steps run, beside the cycles it took.
  const auto with_bound = [&](const Phase& ph, const host::PhaseBound& b) {
    nlohmann::json j = ph.json(pes, cfg);
    j["bound"] = bound_json(b, total, ph.run.cycles);
    return j;
  };
  r.stats = {
      {"config", cfg.name},
      {"layers", t.layers},
      {"batch", t.batch},
      {"lr", t.lr},
      {"lr_schedule",
       {{"kind", model::to_string(m.schedule)},
        {"warmup_steps", m.warmup_steps},
        {"step_size", m.step_size},
        {"gamma", m.gamma},
        {"lr_min", m.lr_min},
        {"total_steps", m.total_steps},
        {"first_lr", m.lr_at(start)},
        {"last_lr", end > start ? m.lr_at(end - 1) : m.lr_at(start)}}},
      {"optimizer", optimizer_json(m)},
      {"first_step", start},
      {"steps", total},
      {"checked_against_golden", t.check},
      {"losses", losses},
      {"test_images", test.count},
      {"device_test_accuracy", r.device_accuracy},
      {"reference_test_accuracy", r.reference_accuracy},
      {"phases",
       {{"forward", with_bound(fwd, bounds.forward)},
        {"data_gradient", with_bound(dgrad, bounds.data_grad)},
        {"weight_update", with_bound(wupd, bounds.weight_update)},
        {"inference", inf.json(pes, cfg)}}},
      {"training_cycles", cycles},
      {"step_bound", bound_json(bounds.step(), total, cycles)},
      {"training_simulated_us", train_sim_us},
      {"wall_seconds_training", train_secs},
      {"wall_seconds_per_step", total ? train_secs / double(total) : 0.0},
      {"engine", cosim::to_string(cfg.run.engine)},
      {"correlation_class", correlation_class(cfg)},
      {"sim_cycles_per_s", total ? double(cycles) / train_secs : 0.0},
      {"sim_macs_per_s", total ? double(fwd.macs + dgrad.macs + wupd.macs) / train_secs : 0.0},
      {"checkpoint", r.checkpoint},
  };
  if (cfg.cores > 1) {
    // Each core's share of the training steps.
    nlohmann::json cores = nlohmann::json::array();
    const double core_pes = double(cfg.core.rows) * cfg.core.cols;
    for (std::size_t i = 0; i < per_core.size(); ++i) {
      const spec::RunResult& c = per_core[i];
      const auto n = [&](const char* k) { return c.counters.at(k); };
      const auto k = [&](spec::CounterId id) { return c.counters.at(id); };
      const std::uint64_t macs = i < per_core_macs.size() ? per_core_macs[i] : 0;
      cores.push_back(
          {{"cycles", c.cycles},
           {"macs", macs},
           {"pe_utilization", c.cycles ? double(macs) / (core_pes * double(c.cycles)) : 0.0},
           {"exec_busy", k(spec::CounterId::kExecBusy)},
           {"exec_wait_memory",
            k(spec::CounterId::kExecWaitLoad) + k(spec::CounterId::kExecWaitStore)},
           {"sync_wait", k(spec::CounterId::kSyncWait)},
           {"barrier_wait_cycles", n("device.bridge.barrier_wait_cycles")},
           {"barriers", n("device.bridge.barriers")},
           {"interconnect_wait_cycles", n("device.bridge.request_wait_cycles")},
           {"array_steps", k(spec::CounterId::kArraySteps)},
           {"read_bytes", n("device.bridge.read_bytes")},
           {"write_bytes", n("device.bridge.write_bytes")}});
    }
    r.stats["parallel"] = {{"mode", std::string(host::to_string(t.parallel))},
                           {"cores", cfg.cores},
                           {"reduction_cycles", reduction},
                           {"per_core", cores}};
    if (t.parallel == host::Parallelism::kData)
      r.stats["parallel"]["grad_reduce"] = std::string(host::to_string(t.grad_reduce));
  }
  // The training steps' energy (their phases) and the inference's.
  std::vector<nlohmann::json> steps;
  for (const char* p : host::kStepPhases) steps.push_back(r.stats.at("phases").at(p).at("energy"));
  r.stats["energy"] = {{"training", energy_sum(steps)},
                       {"inference", r.stats.at("phases").at("inference").at("energy")}};
  r.stats.update(obs.finish(dir));
  if (cfg.quantize.after_training) {
    // int8 inference of the checkpoint just written (sasim quantize): its own
    // process (one SystemC simulation per process), with this run's effective
    // config (under a folder of its own so that its name stays this run's).
    const auto qdir = dir / "quantize";
    std::filesystem::create_directories(qdir);
    Config q = cfg;
    q.quantize.checkpoint = r.checkpoint;
    q.run.trace_file.clear();
    q.run.waves = false;
    const auto qcfg = qdir / (cfg.name + ".yaml");
    host::write_file_atomic(qcfg, to_yaml(q));
    const auto log = dir / "quantize.log";
    std::filesystem::remove(log);  // run_process appends: this run's log only
    progress << "sasim train: int8 inference of the trained model on the int8 core (log "
             << log.string() << ")\n";
    const int rc =
        cosim::run_process({std::filesystem::read_symlink("/proc/self/exe").string(), "quantize",
                            "--config", qcfg.string(), "--out", cfg.run.out_dir},
                           log);
    if (rc == 0) {
      r.stats["int8_inference"] = nlohmann::json::parse(
          host::read_file(dir / "quantize_report.json", std::uint64_t{1} << 30, "quantize report"));
    } else {
      // The training's results stay (report, checkpoint); the command fails.
      r.int8_ok = false;
      r.stats["int8_inference"] = {
          {"error", "the int8 inference failed (exit " + std::to_string(rc) + ")"},
          {"log", log.string()}};
    }
  }
  if (cfg.power.cap_watts > 0 && cfg.power.compare_uncapped) {
    // The same run without the cap, for the comparison: its own process
    // (one SystemC simulation per process), config and folder.
    Config u = cfg;
    u.power.cap_watts = 0;
    u.power.compare_uncapped = false;
    u.run.trace_file.clear();
    u.train.resume.clear();
    u.quantize.after_training = false;
    const std::string uname = cfg.name + "_uncapped";
    const auto ucfg = dir / (uname + ".yaml");
    host::write_file_atomic(ucfg, to_yaml(u));
    progress << "sasim train: the same run without the power cap, for the comparison (log "
             << (dir / (uname + ".log")).string() << ")\n";
    const int rc = cosim::run_process({std::filesystem::read_symlink("/proc/self/exe").string(),
                                       "train", "--config", ucfg.string(), "--out", u.run.out_dir},
                                      dir / (uname + ".log"));
    const auto udir = std::filesystem::path(u.run.out_dir) / uname;
    if (rc != 0)
      throw std::runtime_error("power.compare_uncapped: the run without the cap failed (exit " +
                               std::to_string(rc) + "; see " + (dir / (uname + ".log")).string() +
                               ")");
    TrainJobResult ur;
    ur.stats = nlohmann::json::parse(
        host::read_file(udir / "train_report.json", std::uint64_t{1} << 30, "training report"));
    ur.device_accuracy = ur.stats.at("device_test_accuracy").get<double>();
    const auto figures = [](const nlohmann::json& j) {
      return nlohmann::json{
          {"training_simulated_us", j.at("training_simulated_us")},
          {"training_energy_pj", j.at("energy").at("training").at("total_pj")},
          {"average_w", j.contains("power") ? j.at("power").at("average_w") : nlohmann::json()},
          {"peak_w", j.contains("power") ? j.at("power").at("peak_w") : nlohmann::json()},
          {"losses_equal", true}};
    };
    nlohmann::json cmp = {{"capped", figures(r.stats)}, {"uncapped", figures(ur.stats)}};
    const bool same =
        ur.stats.at("losses") == r.stats.at("losses") && ur.device_accuracy == r.device_accuracy;
    cmp["capped"]["losses_equal"] = same;
    cmp["uncapped"]["losses_equal"] = same;
    cmp["uncapped"]["report"] = (udir / "train_report.json").string();
    r.stats["power_cap_comparison"] = cmp;
  }
  return r;
}

std::string train_summary(const Config& cfg, const TrainJobResult& r) {
  const auto& j = r.stats;
  std::ostringstream o;
  char line[400];
  o << "sasim: MLP training on the device (" << spec::core_name(cfg.core) << "), "
    << engine_text(cfg) << " + SystemC memory system, " << cfg.source << "\n";
  std::snprintf(line, sizeof line, "  steps            %llu (batch %u), loss %.4f -> %.4f\n",
                static_cast<unsigned long long>(r.steps), cfg.train.batch, r.first_loss,
                r.last_loss);
  o << line;
  const auto& ls = j.at("lr_schedule");
  std::snprintf(line, sizeof line,
                "  learning rate    %s, %.4g at the first step -> %.4g at the last",
                ls.at("kind").get<std::string>().c_str(), ls.at("first_lr").get<double>(),
                ls.at("last_lr").get<double>());
  o << line;
  if (const auto w = ls.at("warmup_steps").get<std::uint64_t>(); w > 0)
    o << " (" << w << (w == 1 ? " warm-up step)" : " warm-up steps)");
  o << "\n  optimizer        " << optimizer_text(j.at("optimizer")) << "\n";
  std::vector<const char*> phases(std::begin(host::kStepPhases), std::end(host::kStepPhases));
  phases.push_back("inference");
  for (const char* p : phases) {
    const auto& ph = j.at("phases").at(p);
    const auto n = [&](const char* k) {
      return static_cast<unsigned long long>(ph.at(k).get<std::uint64_t>());
    };
    std::snprintf(line, sizeof line, "  %-15s  %llu cycles, %.1f %% PE utilization", p, n("cycles"),
                  100.0 * ph.at("utilization").get<double>());
    o << line;
    if (ph.contains("bound")) o << ", " << bound_text(ph.at("bound"));
    if (ph.contains("dram_bytes_read")) {
      std::snprintf(line, sizeof line, ", DRAM %llu B read / %llu B written", n("dram_bytes_read"),
                    n("dram_bytes_written"));
      o << line;
    }
    if (ph.contains("l2_hits")) {
      std::snprintf(line, sizeof line, ", L2 %llu hits / %llu misses", n("l2_hits"),
                    n("l2_misses"));
      o << line;
    }
    o << "\n";
  }
  if (r.steps > 0) {
    std::snprintf(line, sizeof line, "  %-15s  %.0f cycles per step, ", "step",
                  j.at("training_cycles").get<double>() / double(r.steps));
    o << line << bound_text(j.at("step_bound"), double(r.steps)) << "\n";
  }
  if (j.contains("parallel")) {
    const auto& par = j.at("parallel");
    const auto per_step = [&](std::uint64_t v) {
      return static_cast<unsigned long long>(r.steps ? v / r.steps : 0);
    };
    const unsigned long long red = per_step(par.at("reduction_cycles").get<std::uint64_t>());
    if (par.at("mode") == "data") {
      const std::string reduce = par.at("grad_reduce").get<std::string>();
      o << "  parallel         data parallel on " << cfg.cores << " cores (batch "
        << cfg.train.batch << " -> " << cfg.train.batch / cfg.cores
        << " rows each), gradients reduced "
        << (reduce == "fused" ? "in each core's weight-gradient GEMM (fused reduce-scatter, no "
                                "separate reduction)"
                              : "from per-core partials after a SYNC (reduce-scatter)")
        << " in the weight_update phase ("
        << per_step(j.at("phases").at("weight_update").at("cycles").get<std::uint64_t>())
        << " cycles per step)";
    } else {
      o << "  parallel         tensor parallel on " << cfg.cores
        << " cores (layer pairs split by columns, then by rows; partial products reduced "
           "after a SYNC)";
    }
    if (par.at("mode") == "tensor" || par.at("grad_reduce") == "partials")
      o << "; reduction phase (after the barrier) " << red << " cycles per step";
    o << "; the bounds above are one core's\n";
    std::size_t i = 0;
    for (const auto& c : par.at("per_core")) {
      const double own = c.at("cycles").get<double>();
      const auto pc = [&](const char* k) {
        return own > 0 ? 100.0 * c.at(k).get<double>() / own : 0.0;
      };
      std::snprintf(
          line, sizeof line,
          "  core %-2zu          %.0f cycles, %.1f %% PE utilization: compute %.1f %%, waiting on "
          "memory %.1f %%, "
          "at a SYNC %.1f %% (%.0f cycles waiting for other cores), %.0f array steps, "
          "%.0f B read / %.0f B written, requests queued at the interconnect %.0f cycles (summed "
          "over requests)\n",
          i++, own, 100.0 * c.at("pe_utilization").get<double>(), pc("exec_busy"),
          pc("exec_wait_memory"), pc("sync_wait"), c.at("barrier_wait_cycles").get<double>(),
          c.at("array_steps").get<double>(), c.at("read_bytes").get<double>(),
          c.at("write_bytes").get<double>(), c.at("interconnect_wait_cycles").get<double>());
      o << line;
    }
  }
  o << energy_line(j.at("energy").at("training"), "energy/training")
    << energy_line(j.at("energy").at("inference"), "energy/inference");
  if (j.contains("power")) o << power_line(j.at("power"));
  if (j.contains("power_cap_comparison")) {
    const auto& c = j.at("power_cap_comparison");
    const auto& a = c.at("capped");
    const auto& u = c.at("uncapped");
    const auto ratio = [&](const char* k) { return a.at(k).get<double>() / u.at(k).get<double>(); };
    std::snprintf(line, sizeof line,
                  "  cap vs no cap    training %.4g us vs %.4g us (x%.3f), %.4g uJ vs %.4g uJ "
                  "(x%.3f), avg %.3g W vs %.3g W; results %s\n",
                  a.at("training_simulated_us").get<double>(),
                  u.at("training_simulated_us").get<double>(), ratio("training_simulated_us"),
                  a.at("training_energy_pj").get<double>() * 1e-6,
                  u.at("training_energy_pj").get<double>() * 1e-6, ratio("training_energy_pj"),
                  a.at("average_w").get<double>(), u.at("average_w").get<double>(),
                  a.at("losses_equal").get<bool>() ? "identical" : "DIFFERENT");
    o << line;
  }
  if (j.contains("trace"))
    o << "  trace            " << j.at("trace").at("file").get<std::string>() << " ("
      << j.at("trace").at("events").get<std::uint64_t>() << " events)\n";
  std::snprintf(line, sizeof line,
                "  test accuracy    %.2f %% on the device, %.2f %% fp32 reference (%llu images)\n",
                100.0 * r.device_accuracy, 100.0 * r.reference_accuracy,
                static_cast<unsigned long long>(j.at("test_images").get<std::uint64_t>()));
  o << line;
  if (j.contains("int8_inference") && j.at("int8_inference").contains("error")) {
    const auto& q = j.at("int8_inference");
    o << "  int8 inference   FAILED: " << q.at("error").get<std::string>() << ", see "
      << q.at("log").get<std::string>() << "\n";
  } else if (j.contains("int8_inference")) {
    const auto& q = j.at("int8_inference");
    const double a8 = q.at("int8_test_accuracy").get<double>();
    std::snprintf(line, sizeof line,
                  "  int8 inference   %.2f %% on the int8 core (%+.2f points against the bf16 "
                  "device), %llu cycles (bf16: %llu), golden int8 model match\n",
                  100.0 * a8, 100.0 * (a8 - r.device_accuracy),
                  static_cast<unsigned long long>(q.at("cycles").get<std::uint64_t>()),
                  static_cast<unsigned long long>(
                      j.at("phases").at("inference").at("cycles").get<std::uint64_t>()));
    o << line;
  }
  std::snprintf(line, sizeof line, "  co-simulation    %.2f s per step, %.0f cycles/s\n",
                j.at("wall_seconds_per_step").get<double>(),
                j.at("sim_cycles_per_s").get<double>());
  o << line << engine_line(cfg);
  if (cfg.train.check) o << "  golden model     match (bit-exact) after every step\n";
  o << "  checkpoint       " << r.checkpoint << "\n";
  return o.str();
}

}  // namespace sasim::app
