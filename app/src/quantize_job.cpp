#include "sasim/app/quantize_job.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "sasim/app/device.hpp"
#include "sasim/app/energy.hpp"
#include "sasim/app/summary.hpp"
#include "sasim/app/train_job.hpp"
#include "sasim/host/checkpoint.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/quant_mlp.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/quant.hpp"

namespace sasim::app {

std::string quantize_checkpoint(const Config& cfg) {
  if (!cfg.quantize.checkpoint.empty()) return cfg.quantize.checkpoint;
  return (std::filesystem::path(cfg.run.out_dir) / cfg.name / "checkpoint.bin").string();
}

QuantizeJobResult quantize_job(const Config& cfg, std::ostream& progress) {
  if (cfg.cores != 1)
    throw ConfigError(cfg.source + ": core.count: " + std::to_string(cfg.cores) +
                      " cores: quantized inference runs on one core so far (allowed 1 for "
                      "sasim quantize)");
  const TrainConfig& t = cfg.train;
  const model::MlpConfig m = mlp_config(cfg);
  QuantizeJobResult r;
  r.checkpoint = quantize_checkpoint(cfg);
  // The trained state: a checkpoint of this config's run, at any step.
  const std::uint64_t end = m.total_steps;
  model::MlpState state;
  std::uint64_t step = 0;
  try {
    host::Checkpoint c =
        host::load_checkpoint(r.checkpoint, host::RunFingerprint{m, t.train_images}, end);
    state = std::move(c.state);
    step = c.step;
  } catch (const host::CheckpointError& e) {
    throw ConfigError(cfg.source + ": quantize.checkpoint: " + e.what());
  }
  const std::uint64_t nc = cfg.quantize.calibration_images;
  const host::Dataset calib =
      load_images(cfg, host::Split::kTrain, nc, "quantize.calibration_images");
  const host::Dataset test =
      load_images(cfg, host::Split::kTest, t.test_images, "train.test_images");
  const model::QuantMlp q = model::quantize_mlp(state, host::padded_batch(calib, 0, nc).x);

  // The fp32 accuracy of the same master weights.
  model::ReferenceMlp ref(m);
  for (std::size_t l = 0; l < state.w32.size(); ++l) {
    for (Eigen::Index i = 0; i < state.w32[l].size(); ++i)
      ref.weight(l).data()[i] = model::bits_to_f32(state.w32[l].data()[i]);
    for (Eigen::Index i = 0; i < state.b32[l].size(); ++i)
      ref.bias(l)(i) = model::bits_to_f32(state.b32[l].data()[i]);
  }
  r.fp32_accuracy = ref.evaluate(test.samples());

  // The int8 twin of the core.
  Config c8 = cfg;
  c8.core.datapath = model::Datapath::kInt8;
  const std::unique_ptr<cosim::CosimDevice> dev = make_cosim_device(c8);
  host::Driver drv(*dev);
  host::DeviceInt8Mlp mlp(drv, q, t.batch);
  spec::RunResult runs;
  std::uint64_t correct = 0, golden_correct = 0;
  const std::size_t batches = (test.count + t.batch - 1) / t.batch;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t first_img = 0, b = 0; first_img < test.count; first_img += t.batch, ++b) {
    // The last batch is padded; the padding's predictions are ignored.
    const std::size_t n = std::min<std::size_t>(t.batch, test.count - first_img);
    const model::Batch batch = host::padded_batch(test, first_img, t.batch);
    const model::RawMatrix xq = model::quantize_input(q, batch.x);
    const model::AccMatrix got = [&] {
      try {
        return mlp.logits(xq, &runs);
      } catch (const std::invalid_argument& e) {  // the kernels' plans (the first batch)
        throw ConfigError(cfg.source + ": core: the int8 kernels do not fit a " +
                          spec::core_name(c8.core) + " core: " + e.what());
      }
    }();
    std::vector<model::RawMatrix> gold_hidden;
    const model::AccMatrix gold = model::int8_logits(q, xq, &gold_hidden);
    const std::vector<model::RawMatrix> hidden = mlp.hidden();
    for (std::size_t l = 0; l < hidden.size(); ++l)
      if (!(hidden[l].array() == gold_hidden[l].array()).all())
        throw std::runtime_error("quantize: test batch " + std::to_string(b) + ": layer " +
                                 std::to_string(l) +
                                 " int8 activations differ between the device and the golden "
                                 "int8 model");
    if (!(got.array() == gold.array()).all())
      throw std::runtime_error("quantize: test batch " + std::to_string(b) +
                               ": the logits differ between the device and the golden int8 model");
    const std::vector<unsigned> pred = model::int8_predict(got);
    const std::vector<unsigned> gpred = model::int8_predict(gold);
    for (std::size_t i = 0; i < n; ++i) {
      correct += pred[i] == batch.labels[i];
      golden_correct += gpred[i] == batch.labels[i];
    }
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char line[160];
    std::snprintf(line, sizeof line, "\rint8 inference: batch %zu/%zu  elapsed %s  ETA %s   ",
                  b + 1, batches, duration_text(el).c_str(),
                  duration_text(el / double(b + 1) * double(batches - b - 1)).c_str());
    progress << line << std::flush;
  }
  progress << "\n";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.int8_accuracy = double(correct) / double(test.count);

  std::uint64_t macs = 0;
  nlohmann::json layers = nlohmann::json::array();
  for (const model::QuantLayer& y : q.layers) {
    macs += std::uint64_t(t.batch) * std::uint64_t(y.w.rows()) * std::uint64_t(y.w.cols());
    nlohmann::json j = {{"inputs", y.w.rows()},
                        {"outputs", y.w.cols()},
                        {"input_scale", y.in_scale},
                        {"weight_scale", y.w_scale}};
    if (&y != &q.layers.back()) j["shift"] = y.shift;
    layers.push_back(j);
  }
  macs *= batches;
  const double pes = double(cfg.core.rows) * cfg.core.cols;
  r.stats = {
      {"config", cfg.name},
      {"checkpoint", r.checkpoint},
      {"checkpoint_step", step},
      {"core", spec::core_name(c8.core)},
      {"engine", cosim::to_string(cfg.run.engine)},
      {"correlation_class", correlation_class(cfg)},
      {"calibration_images", q.calibration_images},
      {"scales", "per tensor, symmetric; hidden layers requantized by a power of two (TO_INT8)"},
      {"layers", layers},
      {"test_images", test.count},
      {"int8_test_accuracy", r.int8_accuracy},
      {"golden_int8_test_accuracy", double(golden_correct) / double(test.count)},
      {"fp32_test_accuracy", r.fp32_accuracy},
      {"checked_against_golden", true},
      {"cycles", runs.cycles},
      {"macs", macs},
      {"utilization", runs.cycles ? double(macs) / (pes * double(runs.cycles)) : 0.0},
      {"energy", energy_json(c8, runs.counters, double(macs))},
      {"wall_seconds", secs},
  };
  return r;
}

std::string quantize_summary(const Config& cfg, const QuantizeJobResult& r) {
  const auto& j = r.stats;
  std::ostringstream o;
  char line[400];
  o << "sasim: int8 inference of a trained MLP on the device (" << j.at("core").get<std::string>()
    << "), " << engine_text(cfg) << " + SystemC memory system, " << cfg.source << "\n";
  o << "  checkpoint       " << r.checkpoint << " (step " << j.at("checkpoint_step") << ")\n";
  std::string shifts;
  for (const auto& l : j.at("layers"))
    if (l.contains("shift")) shifts += (shifts.empty() ? "" : ", ") + l.at("shift").dump();
  std::snprintf(line, sizeof line,
                "  quantization     per-tensor int8, %llu calibration images, hidden shifts %s\n",
                static_cast<unsigned long long>(j.at("calibration_images").get<std::uint64_t>()),
                shifts.empty() ? "(none)" : shifts.c_str());
  o << line;
  std::snprintf(line, sizeof line, "  inference        %llu cycles, %.1f %% PE utilization\n",
                static_cast<unsigned long long>(j.at("cycles").get<std::uint64_t>()),
                100.0 * j.at("utilization").get<double>());
  o << line << energy_line(j.at("energy"), "energy/inference");
  std::snprintf(line, sizeof line,
                "  test accuracy    %.2f %% int8 on the device, %.2f %% fp32 (the same weights; "
                "%llu images)\n",
                100.0 * r.int8_accuracy, 100.0 * r.fp32_accuracy,
                static_cast<unsigned long long>(j.at("test_images").get<std::uint64_t>()));
  o << line << engine_line(cfg) << "  golden model     match (bit-exact) for every batch\n";
  return o.str();
}

}  // namespace sasim::app
