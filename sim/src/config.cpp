#include "sasim/sim/config.hpp"

#include <yaml-cpp/yaml.h>

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
  core.choice<model::Datapath>("datapath", cfg.core.datapath, model::parse_datapath, "int8, bf16");
  core.choice<model::Dataflow>("dataflow", cfg.core.dataflow, model::parse_dataflow, "ws, os, is");
  core.finish();
  if (!is_built(cfg.core.shape())) {
    std::string built;
    for (const auto& s : built_array_variants()) built += (built.empty() ? "" : ", ") + to_string(s);
    core.fail("core", "array " + to_string(cfg.core.shape()) +
                          " is not verilated into this build (built: " + built +
                          "); add it to SASIM_ARRAY_VARIANTS and rebuild");
  }

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

std::string to_yaml(const Config& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "core" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "rows" << YAML::Value << c.core.rows;
  e << YAML::Key << "cols" << YAML::Value << c.core.cols;
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
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace sasim::sim
