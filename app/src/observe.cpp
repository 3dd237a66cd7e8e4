#include "sasim/app/observe.hpp"

namespace sasim::app {

JobObservers::JobObservers(const Config& cfg, cosim::CosimDevice& dev)
    : cfg_(cfg), dev_(dev), power_(cfg), window_(parse_trace_window(cfg.run.trace_window)) {
  if (!cfg.run.trace_file.empty()) {
    const std::filesystem::path p(cfg.run.trace_file);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    trace_file_ = std::make_unique<host::AtomicFile>(p);
    trace_ = std::make_unique<cosim::TraceWriter>(
        [f = trace_file_.get()](std::string_view s) { f->write(s); }, window_.first,
        window_.second);
    dev_.set_trace(trace_.get());
  }
  if (cfg.power.sample_cycles > 0 && dev.cores() == 1)
    dev_.set_sampling(cfg.power.sample_cycles,
                      [this](const cosim::DeviceWindow& w) { on_window(w); });
  dev_.set_clock_mhz(power_.current().mhz);
}

JobObservers::~JobObservers() {
  dev_.set_trace(nullptr);
  dev_.set_sampling(0, nullptr);
}

void JobObservers::on_window(const cosim::DeviceWindow& w) {
  power_.window(w);
  if (!trace_) return;
  const nlohmann::json p = power_.window_power(power_.windows() - 1);
  nlohmann::json watts = nlohmann::json::object();
  const auto& c = p.at("components");
  watts["core"] = c.at("mac").get<double>() + c.at("pe_idle").get<double>() +
                  c.at("scratchpad").get<double>() + c.at("accumulator").get<double>() +
                  c.at("vector").get<double>() + c.at("static").get<double>();
  watts["memory"] =
      c.at("interconnect").get<double>() + c.at("l2").get<double>() + c.at("dram").get<double>();
  trace_->counter("power (W)", w.first_cycle, w.start_us, watts);
  trace_->counter("clock (MHz)", w.first_cycle, w.start_us, {{"core", w.clock_mhz}});
  const auto n = [&](const char* k) {
    return w.counters.contains(k) ? w.counters.at(k) : std::uint64_t{0};
  };
  if (!cfg_.l2.bypass)
    trace_->counter("L2 per window", w.first_cycle, w.start_us,
                    {{"hits", n("device.mem.l2.hits")}, {"misses", n("device.mem.l2.misses")}});
  if (cfg_.memory.model == "dram")
    trace_->counter("DRAM rows per window", w.first_cycle, w.start_us,
                    {{"hits", n("device.mem.dram.row_hits")},
                     {"misses", n("device.mem.dram.row_misses")},
                     {"conflicts", n("device.mem.dram.row_conflicts")}});
}

void JobObservers::after_step() { dev_.set_clock_mhz(power_.govern()); }

void JobObservers::phase(const char* name, std::size_t layer, bool begin) {
  if (!trace_) return;
  if (begin) {
    phase_cycle_ = dev_.device_cycles();
    phase_us_ = dev_.now_us();
    return;
  }
  trace_->span("phases", std::string(name) + " L" + std::to_string(layer + 1), phase_cycle_,
               dev_.device_cycles(), phase_us_, dev_.now_us());
}

void JobObservers::span_begin() {
  span_cycle_ = dev_.device_cycles();
  span_us_ = dev_.now_us();
}

void JobObservers::span_end(const std::string& track, const std::string& name) {
  if (trace_) trace_->span(track, name, span_cycle_, dev_.device_cycles(), span_us_, dev_.now_us());
}

nlohmann::json JobObservers::finish(const std::filesystem::path& dir) {
  nlohmann::json j = nlohmann::json::object();
  if (cfg_.power.sample_cycles > 0 && dev_.cores() > 1) {
    j["power"] = {{"skipped", "power over time is sampled on devices of one core (" +
                                  std::to_string(dev_.cores()) + " cores here)"}};
  } else if (cfg_.power.sample_cycles > 0) {
    host::write_file_atomic(dir / "power.csv", power_.csv());
    j["power"] = power_.json();
    j["power"]["csv"] = (dir / "power.csv").string();
  }
  if (trace_) {
    dev_.set_trace(nullptr);
    trace_->finish();
    trace_file_->commit();
    j["trace"] = {{"file", cfg_.run.trace_file},
                  {"events", trace_->events()},
                  {"window", cfg_.run.trace_window.empty() ? "all" : cfg_.run.trace_window}};
  }
  return j;
}

}  // namespace sasim::app
