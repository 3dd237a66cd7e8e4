#include "sasim/sim/config.hpp"

#include <yaml-cpp/yaml.h>

#include <bit>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace sasim::sim {

namespace {

// Walks one YAML mapping, remembers which keys were read, and reports the
// file and key path with every error.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& source)
      : node_(node), path_(std::move(path)), source_(source) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) fail(path_, "must be a mapping");
    // yaml-cpp keeps the first of two equal keys; a repeated key is an error.
    if (node_ && node_.IsMap()) {
      std::set<std::string> keys;
      for (const auto& kv : node_) {
        const std::string k = kv.first.as<std::string>();
        if (!keys.insert(k).second) fail(key(k), "duplicate key");
      }
    }
  }

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ConfigError(source_ + ": " + key + ": " + msg);
  }
  std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  // The value of key k, or an undefined node when it is absent or null.
  // (Const access: a non-const operator[] would insert the key.)
  YAML::Node get(const std::string& k) {
    seen_.insert(k);
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& cnode = node_;
    const YAML::Node n = cnode[k];
    if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    return n;
  }

  template <typename T>
  void uint(const std::string& k, T& out, std::uint64_t lo, std::uint64_t hi) {
    const YAML::Node n = get(k);
    if (!n) return;
    std::uint64_t v = 0;
    try {
      const std::string s = n.as<std::string>();
      if (s.empty() || s[0] == '-') throw YAML::BadConversion(n.Mark());
      v = n.as<std::uint64_t>();
    } catch (const YAML::Exception&) {
      fail(key(k), "'" + scalar(n) + "' is not a whole number (allowed " + std::to_string(lo) +
                       ".." + std::to_string(hi) + ")");
    }
    if (v < lo || v > hi) {
      fail(key(k), std::to_string(v) + " is out of range (allowed " + std::to_string(lo) + ".." +
                       std::to_string(hi) + ")");
    }
    out = static_cast<T>(v);
  }

  void number(const std::string& k, double& out) {
    const YAML::Node n = get(k);
    if (!n) return;
    try {
      out = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(key(k), "'" + scalar(n) + "' is not a number");
    }
  }

  void boolean(const std::string& k, bool& out) {
    const YAML::Node n = get(k);
    if (!n) return;
    try {
      out = n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(key(k), "'" + scalar(n) + "' is not a boolean (allowed true, false)");
    }
  }

  void string(const std::string& k, std::string& out) {
    const YAML::Node n = get(k);
    if (!n) return;
    if (!n.IsScalar()) fail(key(k), "must be a string");
    out = n.as<std::string>();
  }

  template <typename E>
  void choice(const std::string& k, E& out,
              const std::function<std::optional<E>(std::string_view)>& parse,
              const std::string& allowed) {
    const YAML::Node n = get(k);
    if (!n) return;
    const std::string s = n.IsScalar() ? n.as<std::string>() : std::string();
    const auto v = parse(s);
    if (!v) fail(key(k), "'" + s + "' is not allowed (allowed " + allowed + ")");
    out = *v;
  }

  Section child(const std::string& k) { return Section(get(k), key(k), source_); }

  // A list of whole numbers, each in [lo, hi], with count in [min_n, max_n].
  void uint_list(const std::string& k, std::vector<unsigned>& out, std::uint64_t lo,
                 std::uint64_t hi, std::size_t min_n, std::size_t max_n) {
    const YAML::Node n = get(k);
    if (!n) return;
    if (!n.IsSequence() || n.size() < min_n || n.size() > max_n) {
      fail(key(k), "must be a list of " + std::to_string(min_n) + ".." + std::to_string(max_n) +
                       " whole numbers");
    }
    std::vector<unsigned> v;
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::uint64_t x = 0;
      try {
        const std::string s = n[i].as<std::string>();
        if (s.empty() || s[0] == '-') throw YAML::BadConversion(n[i].Mark());
        x = n[i].as<std::uint64_t>();
      } catch (const YAML::Exception&) {
        fail(key(k) + "[" + std::to_string(i) + "]",
             "'" + scalar(n[i]) + "' is not a whole number");
      }
      if (x < lo || x > hi) {
        fail(key(k) + "[" + std::to_string(i) + "]",
             std::to_string(x) + " is out of range (allowed " + std::to_string(lo) + ".." +
                 std::to_string(hi) + ")");
      }
      v.push_back(static_cast<unsigned>(x));
    }
    out = v;
  }

  // Every key present must have been read.
  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      const std::string k = kv.first.as<std::string>();
      if (!seen_.count(k)) fail(key(k), "unknown key");
    }
  }

 private:
  static std::string scalar(const YAML::Node& n) {
    return n.IsScalar() ? n.Scalar() : std::string("<not a scalar>");
  }
  YAML::Node node_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> seen_;
};

constexpr std::uint64_t kMaxDim = 1u << 16;
constexpr std::uint64_t kU32 = 0xFFFF'FFFFu;
constexpr std::uint64_t kU64 = std::numeric_limits<std::uint64_t>::max();

// The components validate their own configuration (one place per range); the
// YAML layer adds the file and the section to their message.
template <typename F>
void validated(const std::string& source, const std::string& section, F&& check) {
  try {
    check();
  } catch (const std::invalid_argument& e) {
    throw ConfigError(source + ": " + section + ": " + e.what());
  }
}

void parse_interconnect(Section s, mem::InterconnectConfig& c) {
  s.number("clock_mhz", c.clock_mhz);
  s.uint("width_bytes", c.width_bytes, 0, kU32);
  s.uint("latency_cycles", c.latency_cycles, 0, kU32);
  s.string("arbitration", c.arbitration);
  s.finish();
}

void parse_l2(Section s, mem::CacheConfig& c) {
  s.uint("size_bytes", c.size_bytes, 0, kU64);
  s.uint("line_bytes", c.line_bytes, 0, kU32);
  s.uint("ways", c.ways, 0, kU32);
  s.uint("hit_latency_cycles", c.hit_latency_cycles, 0, kU32);
  s.uint("mshrs", c.mshrs, 0, kU32);
  s.number("clock_mhz", c.clock_mhz);
  s.string("replacement", c.replacement);
  s.string("write_policy", c.write_policy);
  s.boolean("bypass", c.bypass);
  s.uint("seed", c.seed, 0, kU64);
  s.finish();
}

void parse_dram(Section s, mem::DramConfig& c) {
  s.uint("channels", c.channels, 0, kU32);
  s.uint("ranks", c.ranks, 0, kU32);
  s.uint("banks", c.banks, 0, kU32);
  s.uint("row_bytes", c.row_bytes, 0, kU64);
  s.uint("bus_width_bits", c.bus_width_bits, 0, kU32);
  s.uint("data_rate", c.data_rate, 0, kU32);
  s.number("clock_mhz", c.clock_mhz);
  s.uint("burst_length", c.burst_length, 0, kU32);
  s.uint("tCL", c.tCL, 0, kU32);
  s.uint("tRCD", c.tRCD, 0, kU32);
  s.uint("tRP", c.tRP, 0, kU32);
  s.uint("tRAS", c.tRAS, 0, kU32);
  s.uint("tCWL", c.tCWL, 0, kU32);
  s.uint("tWR", c.tWR, 0, kU32);
  s.uint("tRTP", c.tRTP, 0, kU32);
  s.uint("tCCD", c.tCCD, 0, kU32);
  s.uint("tRRD", c.tRRD, 0, kU32);
  s.uint("tWTR", c.tWTR, 0, kU32);
  s.boolean("refresh", c.refresh);
  s.uint("tREFI", c.tREFI, 0, kU32);
  s.uint("tRFC", c.tRFC, 0, kU32);
  s.string("page_policy", c.page_policy);
  s.string("scheduler", c.scheduler);
  s.uint("queue_depth", c.queue_depth, 0, kU32);
  s.string("address_mapping", c.address_mapping);
  s.uint("frontend_latency_cycles", c.frontend_latency_cycles, 0, kU32);
  s.finish();
}

void parse_fixed(Section s, mem::FixedLatencyConfig& c) {
  s.number("latency_ns", c.latency_ns);
  s.number("bandwidth_gbps", c.bandwidth_gbps);
  s.uint("queue_depth", c.queue_depth, 0, kU32);
  s.finish();
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": not valid YAML: " + e.what());
  }
  Config cfg;
  cfg.source = source;
  cfg.name = std::filesystem::path(source).stem().string();
  Section top(root, "", source);

  Section core = top.child("core");
  core.uint("rows", cfg.core.rows, 2, 128);
  core.uint("cols", cfg.core.cols, 2, 128);
  core.number("clock_mhz", cfg.core.clock_mhz);
  core.uint("spad_rows", cfg.core.spad_rows, std::uint64_t{cfg.core.rows} + 1, 65536);
  core.uint("acc_rows", cfg.core.acc_rows, cfg.core.rows, 65536);
  core.uint("bus_bytes", cfg.core.bus_bytes, 16, 64);
  if (cfg.core.bus_bytes != 16 && cfg.core.bus_bytes != 32 && cfg.core.bus_bytes != 64) {
    core.fail("core.bus_bytes",
              std::to_string(cfg.core.bus_bytes) + " is not allowed (allowed 16, 32, 64)");
  }
  if (!(cfg.core.clock_mhz > 0 && cfg.core.clock_mhz <= 10000)) {
    core.fail("core.clock_mhz",
              std::to_string(cfg.core.clock_mhz) + " is out of range (allowed (0, 10000])");
  }
  core.choice<model::Datapath>("datapath", cfg.core.datapath, model::parse_datapath, "int8, bf16");
  core.choice<model::Dataflow>("dataflow", cfg.core.dataflow, model::parse_dataflow, "ws, os, is");
  core.finish();
  Section gemm = top.child("gemm");
  gemm.uint("m", cfg.gemm.m, 1, kMaxDim);
  gemm.uint("k", cfg.gemm.k, 1, kMaxDim);
  gemm.uint("n", cfg.gemm.n, 1, kMaxDim);
  gemm.uint("seed", cfg.gemm.seed, 0, std::numeric_limits<std::uint64_t>::max());
  gemm.choice<model::OperandMix>("operands", cfg.gemm.operands, model::parse_operand_mix,
                                 "uniform, edge, specials");
  gemm.finish();

  Section run = top.child("run");
  run.boolean("waves", cfg.run.waves);
  run.string("wave_file", cfg.run.wave_file);
  run.uint("watchdog_cycles", cfg.run.watchdog_cycles, 1, 1'000'000'000);
  run.string("out_dir", cfg.run.out_dir);
  run.finish();
  if (cfg.run.wave_file.empty()) cfg.run.wave_file = "waves/" + cfg.name + ".fst";

  parse_interconnect(top.child("interconnect"), cfg.interconnect);
  validated(source, "interconnect", [&] { cfg.interconnect.validate(); });
  parse_l2(top.child("l2"), cfg.l2);
  validated(source, "l2", [&] { mem::validate(cfg.l2); });

  Section memory = top.child("memory");
  memory.string("model", cfg.memory.model);
  memory.uint("base", cfg.memory.base, 0, kU64);
  memory.uint("size", cfg.memory.size, 0, kU64);
  parse_dram(memory.child("dram"), cfg.memory.dram);
  parse_fixed(memory.child("fixed"), cfg.memory.fixed);
  memory.finish();
  try {
    cfg.memory.validate();  // its messages name the key already
  } catch (const std::invalid_argument& e) {
    throw ConfigError(source + ": " + e.what());
  }
  validated(source, "memory.dram", [&] { cfg.memory.dram.validate(); });
  validated(source, "memory.fixed", [&] { cfg.memory.fixed.validate(); });

  Section traffic = top.child("traffic");
  traffic.choice<std::string>(
      "pattern", cfg.traffic.pattern,
      [](std::string_view v) -> std::optional<std::string> {
        if (v == "stream" || v == "random") return std::string(v);
        return std::nullopt;
      },
      "stream, random");
  traffic.uint("requests", cfg.traffic.requests, 1, 10'000'000);
  traffic.uint("request_bytes", cfg.traffic.request_bytes, 1, 4096);
  if (!std::has_single_bit(cfg.traffic.request_bytes)) {
    traffic.fail("traffic.request_bytes",
                 std::to_string(cfg.traffic.request_bytes) + " is not a power of two");
  }
  traffic.number("write_fraction", cfg.traffic.write_fraction);
  if (!(cfg.traffic.write_fraction >= 0 && cfg.traffic.write_fraction <= 1)) {
    traffic.fail("traffic.write_fraction",
                 std::to_string(cfg.traffic.write_fraction) + " is out of range (allowed 0..1)");
  }
  traffic.uint("outstanding", cfg.traffic.outstanding, 1, 1024);
  traffic.uint("footprint_bytes", cfg.traffic.footprint_bytes, cfg.traffic.request_bytes,
               cfg.memory.size);
  traffic.uint("seed", cfg.traffic.seed, 0, kU64);
  traffic.finish();
  if (!cfg.l2.bypass && cfg.traffic.request_bytes > cfg.l2.line_bytes) {
    traffic.fail("traffic.request_bytes", std::to_string(cfg.traffic.request_bytes) +
                                              " is larger than l2.line_bytes (" +
                                              std::to_string(cfg.l2.line_bytes) +
                                              "): the L2 does not split requests across lines");
  }

  Section train = top.child("train");
  train.uint_list("layers", cfg.train.layers, 1, 4096, 2, 16);
  if (cfg.train.layers.back() > 256) {
    train.fail("train.layers", "the last entry (classes) must be at most 256");
  }
  train.number("lr", cfg.train.lr);
  if (!(cfg.train.lr > 0 && cfg.train.lr <= 100)) {
    train.fail("train.lr", std::to_string(cfg.train.lr) + " is out of range (allowed (0, 100])");
  }
  train.number("momentum", cfg.train.momentum);
  if (!(cfg.train.momentum >= 0 && cfg.train.momentum < 1)) {
    train.fail("train.momentum",
               std::to_string(cfg.train.momentum) + " is out of range (allowed [0, 1))");
  }
  train.uint("batch", cfg.train.batch, 1, 4095);
  train.uint("steps", cfg.train.steps, 0, 100'000'000);
  train.uint("epochs", cfg.train.epochs, 1, 1000);
  train.uint("train_images", cfg.train.train_images, cfg.train.batch, 60000);
  train.uint("test_images", cfg.train.test_images, 1, 10000);
  train.uint("seed", cfg.train.seed, 0, kU64);
  train.boolean("check", cfg.train.check);
  train.string("data_dir", cfg.train.data_dir);
  train.string("resume", cfg.train.resume);
  train.finish();

  top.finish();
  return cfg;
}

Config load_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path.string() + ": cannot open the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path.string());
}

void require_array_variant(const Config& cfg) {
  if (is_built(cfg.core.shape())) return;
  std::string built;
  for (const auto& s : built_array_variants()) built += (built.empty() ? "" : ", ") + to_string(s);
  throw ConfigError(cfg.source + ": core: array " + to_string(cfg.core.shape()) +
                    " is not verilated into this build (built: " + built +
                    "); add it to SASIM_ARRAY_VARIANTS and rebuild");
}

void require_core_variant(const Config& cfg) {
  const CoreShape want = cfg.core.core_shape();
  std::string built;
  for (const auto& s : built_core_variants()) {
    if (s == want) return;
    built += (built.empty() ? "" : "; ") + to_string(s);
  }
  throw ConfigError(cfg.source + ": core: " + to_string(want) +
                    " is not verilated into this build (built: " + built +
                    "); add it to SASIM_CORE_VARIANTS and rebuild");
}

std::string to_yaml(const Config& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "core" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "rows" << YAML::Value << c.core.rows;
  e << YAML::Key << "cols" << YAML::Value << c.core.cols;
  e << YAML::Key << "clock_mhz" << YAML::Value << c.core.clock_mhz;
  e << YAML::Key << "spad_rows" << YAML::Value << c.core.spad_rows;
  e << YAML::Key << "acc_rows" << YAML::Value << c.core.acc_rows;
  e << YAML::Key << "bus_bytes" << YAML::Value << c.core.bus_bytes;
  e << YAML::Key << "datapath" << YAML::Value << std::string(model::to_string(c.core.datapath));
  e << YAML::Key << "dataflow" << YAML::Value << std::string(model::to_string(c.core.dataflow));
  e << YAML::EndMap;
  e << YAML::Key << "gemm" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "m" << YAML::Value << c.gemm.m;
  e << YAML::Key << "k" << YAML::Value << c.gemm.k;
  e << YAML::Key << "n" << YAML::Value << c.gemm.n;
  e << YAML::Key << "seed" << YAML::Value << c.gemm.seed;
  e << YAML::Key << "operands" << YAML::Value << std::string(model::to_string(c.gemm.operands));
  e << YAML::EndMap;
  e << YAML::Key << "run" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "waves" << YAML::Value << c.run.waves;
  e << YAML::Key << "wave_file" << YAML::Value << c.run.wave_file;
  e << YAML::Key << "watchdog_cycles" << YAML::Value << c.run.watchdog_cycles;
  e << YAML::Key << "out_dir" << YAML::Value << c.run.out_dir;
  e << YAML::EndMap;

  const auto& ic = c.interconnect;
  e << YAML::Key << "interconnect" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "clock_mhz" << YAML::Value << ic.clock_mhz;
  e << YAML::Key << "width_bytes" << YAML::Value << ic.width_bytes;
  e << YAML::Key << "latency_cycles" << YAML::Value << ic.latency_cycles;
  e << YAML::Key << "arbitration" << YAML::Value << ic.arbitration;
  e << YAML::EndMap;

  const auto& l2 = c.l2;
  e << YAML::Key << "l2" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "size_bytes" << YAML::Value << l2.size_bytes;
  e << YAML::Key << "line_bytes" << YAML::Value << l2.line_bytes;
  e << YAML::Key << "ways" << YAML::Value << l2.ways;
  e << YAML::Key << "hit_latency_cycles" << YAML::Value << l2.hit_latency_cycles;
  e << YAML::Key << "mshrs" << YAML::Value << l2.mshrs;
  e << YAML::Key << "clock_mhz" << YAML::Value << l2.clock_mhz;
  e << YAML::Key << "replacement" << YAML::Value << l2.replacement;
  e << YAML::Key << "write_policy" << YAML::Value << l2.write_policy;
  e << YAML::Key << "bypass" << YAML::Value << l2.bypass;
  e << YAML::Key << "seed" << YAML::Value << l2.seed;
  e << YAML::EndMap;

  const auto& m = c.memory;
  const auto& d = m.dram;
  e << YAML::Key << "memory" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "model" << YAML::Value << m.model;
  e << YAML::Key << "base" << YAML::Value << m.base;
  e << YAML::Key << "size" << YAML::Value << m.size;
  e << YAML::Key << "dram" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "channels" << YAML::Value << d.channels;
  e << YAML::Key << "ranks" << YAML::Value << d.ranks;
  e << YAML::Key << "banks" << YAML::Value << d.banks;
  e << YAML::Key << "row_bytes" << YAML::Value << d.row_bytes;
  e << YAML::Key << "bus_width_bits" << YAML::Value << d.bus_width_bits;
  e << YAML::Key << "data_rate" << YAML::Value << d.data_rate;
  e << YAML::Key << "clock_mhz" << YAML::Value << d.clock_mhz;
  e << YAML::Key << "burst_length" << YAML::Value << d.burst_length;
  e << YAML::Key << "tCL" << YAML::Value << d.tCL;
  e << YAML::Key << "tRCD" << YAML::Value << d.tRCD;
  e << YAML::Key << "tRP" << YAML::Value << d.tRP;
  e << YAML::Key << "tRAS" << YAML::Value << d.tRAS;
  e << YAML::Key << "tCWL" << YAML::Value << d.tCWL;
  e << YAML::Key << "tWR" << YAML::Value << d.tWR;
  e << YAML::Key << "tRTP" << YAML::Value << d.tRTP;
  e << YAML::Key << "tCCD" << YAML::Value << d.tCCD;
  e << YAML::Key << "tRRD" << YAML::Value << d.tRRD;
  e << YAML::Key << "tWTR" << YAML::Value << d.tWTR;
  e << YAML::Key << "refresh" << YAML::Value << d.refresh;
  e << YAML::Key << "tREFI" << YAML::Value << d.tREFI;
  e << YAML::Key << "tRFC" << YAML::Value << d.tRFC;
  e << YAML::Key << "page_policy" << YAML::Value << d.page_policy;
  e << YAML::Key << "scheduler" << YAML::Value << d.scheduler;
  e << YAML::Key << "queue_depth" << YAML::Value << d.queue_depth;
  e << YAML::Key << "address_mapping" << YAML::Value << d.address_mapping;
  e << YAML::Key << "frontend_latency_cycles" << YAML::Value << d.frontend_latency_cycles;
  e << YAML::EndMap;
  e << YAML::Key << "fixed" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "latency_ns" << YAML::Value << m.fixed.latency_ns;
  e << YAML::Key << "bandwidth_gbps" << YAML::Value << m.fixed.bandwidth_gbps;
  e << YAML::Key << "queue_depth" << YAML::Value << m.fixed.queue_depth;
  e << YAML::EndMap;
  e << YAML::EndMap;

  const auto& t = c.traffic;
  e << YAML::Key << "traffic" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "pattern" << YAML::Value << t.pattern;
  e << YAML::Key << "requests" << YAML::Value << t.requests;
  e << YAML::Key << "request_bytes" << YAML::Value << t.request_bytes;
  e << YAML::Key << "write_fraction" << YAML::Value << t.write_fraction;
  e << YAML::Key << "outstanding" << YAML::Value << t.outstanding;
  e << YAML::Key << "footprint_bytes" << YAML::Value << t.footprint_bytes;
  e << YAML::Key << "seed" << YAML::Value << t.seed;
  e << YAML::EndMap;

  const TrainConfig& tr = c.train;
  e << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "layers" << YAML::Value << YAML::Flow << tr.layers;
  e << YAML::Key << "lr" << YAML::Value << tr.lr;
  e << YAML::Key << "momentum" << YAML::Value << tr.momentum;
  e << YAML::Key << "batch" << YAML::Value << tr.batch;
  e << YAML::Key << "steps" << YAML::Value << tr.steps;
  e << YAML::Key << "epochs" << YAML::Value << tr.epochs;
  e << YAML::Key << "train_images" << YAML::Value << tr.train_images;
  e << YAML::Key << "test_images" << YAML::Value << tr.test_images;
  e << YAML::Key << "seed" << YAML::Value << tr.seed;
  e << YAML::Key << "check" << YAML::Value << tr.check;
  e << YAML::Key << "data_dir" << YAML::Value << tr.data_dir;
  e << YAML::Key << "resume" << YAML::Value << tr.resume;
  e << YAML::EndMap;

  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace sasim::sim
