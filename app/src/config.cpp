#include "sasim/app/config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/core_model.hpp"
#include "sasim/cosim/device.hpp"
#include "sasim/host/files.hpp"
#include "sasim/mem/config_check.hpp"

namespace sasim::app {

namespace {

// At most the first 40 characters of a value, for messages.
std::string short_text(const std::string& s) {
  return s.size() <= 40 ? s : s.substr(0, 40) + "... (" + std::to_string(s.size()) + " characters)";
}
constexpr std::size_t kMaxString = 4096;  // paths and names

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
        if (!kv.first.IsScalar())
          fail(path_.empty() ? std::string("<top level>") : path_,
               "a key must be a name, not a list or a mapping");
        const std::string k = kv.first.as<std::string>();
        if (!keys.insert(k).second) fail(key(short_text(k)), "duplicate key");
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
  // `allowed` names the legal values in the message for a value that is not
  // a whole number (default: lo..hi).
  void uint(const std::string& k, T& out, std::uint64_t lo, std::uint64_t hi,
            const std::string& allowed = "") {
    const YAML::Node n = get(k);
    if (!n) return;
    out = static_cast<T>(whole_number(n, key(k), lo, hi, allowed));
  }

  void number(const std::string& k, double& out) {
    const YAML::Node n = get(k);
    if (!n) return;
    out = number_at(n, key(k));
  }

  // A list of numbers with count in [min_n, max_n] (ranges: the component's validate).
  void number_list(const std::string& k, std::vector<double>& out, std::size_t min_n,
                   std::size_t max_n) {
    list(k, out, min_n, max_n, "numbers",
         [&](const YAML::Node& e, const std::string& where) { return number_at(e, where); });
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
    if (!n.IsScalar()) fail(key(k), "must be a string, not " + kind(n));
    out = n.as<std::string>();
    if (out.size() > kMaxString)
      fail(key(k), "'" + short_text(out) + "' is longer than " + std::to_string(kMaxString) +
                       " characters");
  }

  template <typename E>
  void choice(const std::string& k, E& out,
              const std::function<std::optional<E>(std::string_view)>& parse,
              const std::string& allowed) {
    const YAML::Node n = get(k);
    if (!n) return;
    if (!n.IsScalar()) fail(key(k), "must be one value (allowed " + allowed + "), not " + kind(n));
    const std::string s = n.as<std::string>();
    const auto v = parse(s);
    if (!v) fail(key(k), "'" + short_text(s) + "' is not allowed (allowed " + allowed + ")");
    out = *v;
  }

  Section child(const std::string& k) { return Section(get(k), key(k), source_); }

  // A list of whole numbers, each in [lo, hi], with count in [min_n, max_n].
  void uint_list(const std::string& k, std::vector<unsigned>& out, std::uint64_t lo,
                 std::uint64_t hi, std::size_t min_n, std::size_t max_n) {
    list(k, out, min_n, max_n, "whole numbers", [&](const YAML::Node& e, const std::string& where) {
      return static_cast<unsigned>(whole_number(e, where, lo, hi, ""));
    });
  }

  // A list of min_n..max_n `what`, each read by elem(node, "<key>[i]").
  template <typename T, typename Elem>
  void list(const std::string& k, std::vector<T>& out, std::size_t min_n, std::size_t max_n,
            const char* what, Elem elem) {
    const YAML::Node n = get(k);
    if (!n) return;
    if (!n.IsSequence() || n.size() < min_n || n.size() > max_n) {
      fail(key(k), "must be a list of " + std::to_string(min_n) + ".." + std::to_string(max_n) +
                       " " + what);
    }
    std::vector<T> v;
    for (std::size_t i = 0; i < n.size(); ++i)
      v.push_back(elem(n[i], key(k) + "[" + std::to_string(i) + "]"));
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
    return n.IsScalar() ? short_text(n.Scalar()) : "<" + kind(n) + ">";
  }
  static std::string kind(const YAML::Node& n) {
    return n.IsSequence() ? "a list" : n.IsMap() ? "a mapping" : "a value";
  }
  double number_at(const YAML::Node& n, const std::string& where) const {
    if (!n.IsScalar()) fail(where, "must be a number, not " + kind(n));
    // A leading zero (050) reads as octal in YAML 1.1 and as decimal in 1.2: refused.
    const std::string& t = n.Scalar();
    const std::size_t d = (!t.empty() && (t[0] == '+' || t[0] == '-')) ? 1 : 0;
    if (t.size() > d + 1 && t[d] == '0' && std::isdigit(static_cast<unsigned char>(t[d + 1])))
      fail(where, "'" + short_text(t) + "' has a leading zero (write it without)");
    double out = 0;
    try {
      out = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(where, "'" + scalar(n) + "' is not a number");
    }
    if (!std::isfinite(out)) fail(where, "'" + scalar(n) + "' is not a finite number");
    return out;
  }
  // A whole number in lo..hi: decimal (no leading zero) or 0x hex; a number
  // that is not whole, negative or too large is named as such.
  std::uint64_t whole_number(const YAML::Node& n, const std::string& where, std::uint64_t lo,
                             std::uint64_t hi, const std::string& allowed) const {
    const std::string range =
        allowed.empty() ? std::to_string(lo) + ".." + std::to_string(hi) : allowed;
    if (!n.IsScalar())
      fail(where, "must be a whole number (allowed " + range + "), not " + kind(n));
    const std::string s = n.Scalar();
    const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
                     s.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
    const bool dec = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    if (dec && s.size() > 1 && s[0] == '0')
      fail(where, "'" + short_text(s) + "' has a leading zero (write it without; 0x for hex)");
    if (hex || dec) {
      errno = 0;
      const unsigned long long v = std::strtoull(s.c_str(), nullptr, hex ? 16 : 10);
      if (errno == ERANGE)
        fail(where, "'" + short_text(s) + "' is out of range (allowed " + range + ")");
      if (v < lo || v > hi)
        fail(where, std::to_string(v) + " is out of range (allowed " + range + ")");
      return v;
    }
    double d = 0;
    try {
      d = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(where, "'" + short_text(s) + "' is not a whole number (allowed " + range + ")");
    }
    if (std::isfinite(d) && d == std::floor(d)) {  // 1e3, -1, 1e308
      if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
        fail(where, "'" + short_text(s) + "' is out of range (allowed " + range + ")");
      return static_cast<std::uint64_t>(d);
    }
    fail(where, "'" + short_text(s) + "' is not a whole number (allowed " + range + ")");
  }
  YAML::Node node_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> seen_;
};

constexpr std::uint64_t kMaxDim = 1u << 16;
constexpr std::uint64_t kU32 = 0xFFFF'FFFFu;
constexpr std::uint64_t kU64 = std::numeric_limits<std::uint64_t>::max();

// Every section's keys are listed once, in a *_fields function templated on a
// visitor: Reader parses them (with their ranges), Writer emits the effective
// configuration. A new key is one line there.
class Reader {
 public:
  explicit Reader(Section s) : s_(std::move(s)) {}
  template <typename T>
  void uint(const std::string& k, T& v, std::uint64_t lo, std::uint64_t hi,
            const std::string& allowed = "") {
    s_.uint(k, v, lo, hi, allowed);
  }
  void number(const std::string& k, double& v) { s_.number(k, v); }
  void boolean(const std::string& k, bool& v) { s_.boolean(k, v); }
  void string(const std::string& k, std::string& v) { s_.string(k, v); }
  // A key that does not apply here (`why`): an error when present, unless
  // it holds the value that means "off" (`off`, when given).
  void unused(const std::string& k, const std::string& why, std::optional<double> off = {}) {
    const YAML::Node n = s_.get(k);
    if (!n) return;
    if (off) {
      double v = *off;
      s_.number(k, v);
      if (v == *off) return;
    }
    s_.fail(s_.key(k), why);
  }
  template <typename E, typename Parse, typename Name>
  void choice(const std::string& k, E& v, Parse parse, Name /*name*/, const std::string& allowed) {
    s_.choice<E>(k, v, parse, allowed);
  }
  void uint_list(const std::string& k, std::vector<unsigned>& v, std::uint64_t lo, std::uint64_t hi,
                 std::size_t min_n, std::size_t max_n) {
    s_.uint_list(k, v, lo, hi, min_n, max_n);
  }
  void number_list(const std::string& k, std::vector<double>& v, std::size_t min_n,
                   std::size_t max_n) {
    s_.number_list(k, v, min_n, max_n);
  }
  template <typename F>
  void child(const std::string& k, F&& f) {
    Reader r(s_.child(k));
    f(r);
    r.s_.finish();
  }
  Section& section() { return s_; }

 private:
  Section s_;
};

class Writer {
 public:
  explicit Writer(YAML::Emitter& e) : e_(e) {}
  template <typename T>
  void uint(const std::string& k, const T& v, std::uint64_t, std::uint64_t,
            const std::string& = "") {
    e_ << YAML::Key << k << YAML::Value << v;
  }
  void number(const std::string& k, double v) { e_ << YAML::Key << k << YAML::Value << v; }
  void boolean(const std::string& k, bool v) { e_ << YAML::Key << k << YAML::Value << v; }
  void unused(const std::string&, const std::string&, std::optional<double> = {}) {}
  void string(const std::string& k, const std::string& v) {
    e_ << YAML::Key << k << YAML::Value << v;
  }
  template <typename E, typename Parse, typename Name>
  void choice(const std::string& k, const E& v, Parse, Name name, const std::string&) {
    e_ << YAML::Key << k << YAML::Value << std::string(name(v));
  }
  void uint_list(const std::string& k, const std::vector<unsigned>& v, std::uint64_t, std::uint64_t,
                 std::size_t, std::size_t) {
    e_ << YAML::Key << k << YAML::Value << YAML::Flow << v;
  }
  void number_list(const std::string& k, const std::vector<double>& v, std::size_t, std::size_t) {
    e_ << YAML::Key << k << YAML::Value << YAML::Flow << v;
  }
  template <typename F>
  void child(const std::string& k, F&& f) {
    e_ << YAML::Key << k << YAML::Value << YAML::BeginMap;
    f(*this);
    e_ << YAML::EndMap;
  }

 private:
  YAML::Emitter& e_;
};

// A string key whose allowed values are a fixed list.
auto one_of(std::initializer_list<std::string_view> allowed) {
  std::vector<std::string> v(allowed.begin(), allowed.end());
  return [v](std::string_view s) -> std::optional<std::string> {
    for (const auto& a : v)
      if (a == s) return a;
    return std::nullopt;
  };
}
const std::string& same(const std::string& s) { return s; }

// The core section: the contract's parameters (spec::kCoreParams), checked by
// spec::validate after reading.
void core_fields(Reader& r, spec::CoreSpec& c) {
  for (const spec::ParamInfo& p : spec::kCoreParams) {
    const std::string k(p.name);
    double v = *spec::param_value(c, p.name);
    switch (p.type) {
      case spec::ParamType::kUint: {
        // Any whole number here; spec::validate checks the range.
        std::uint64_t u = static_cast<std::uint64_t>(v);
        r.uint(k, u, 0, kU64, std::string(p.allowed));
        v = static_cast<double>(u);
        break;
      }
      case spec::ParamType::kReal:
        r.number(k, v);
        break;
      case spec::ParamType::kEnum: {
        std::string allowed;
        for (auto n : p.values)
          if (!n.empty()) allowed += (allowed.empty() ? "" : ", ") + std::string(n);
        std::size_t idx = static_cast<std::size_t>(v);
        r.choice<std::size_t>(
            k, idx,
            [&p](std::string_view s) -> std::optional<std::size_t> {
              std::string l(s);
              for (char& ch : l)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
              for (std::size_t i = 0; i < p.values.size(); ++i)
                if (!p.values[i].empty() && p.values[i] == l) return i;
              return std::nullopt;
            },
            nullptr, allowed);
        v = static_cast<double>(idx);
        break;
      }
    }
    spec::set_param(c, p.name, v);
  }
}
void core_fields(Writer& w, const spec::CoreSpec& c) {
  for (const spec::ParamInfo& p : spec::kCoreParams) {
    const std::string k(p.name);
    const double v = *spec::param_value(c, p.name);
    switch (p.type) {
      case spec::ParamType::kUint:
        w.uint(k, static_cast<std::uint64_t>(v), 0, 0);
        break;
      case spec::ParamType::kReal:
        w.number(k, v);
        break;
      case spec::ParamType::kEnum:
        w.string(k, std::string(p.values.at(static_cast<std::size_t>(v))));
        break;
    }
  }
}

template <typename V, typename C>
void gemm_fields(V& v, C& c) {
  v.uint("m", c.m, 1, kMaxDim);
  v.uint("k", c.k, 1, kMaxDim);
  v.uint("n", c.n, 1, kMaxDim);
  v.uint("seed", c.seed, 0, kU64);
  v.choice(
      "operands", c.operands, model::parse_operand_mix,
      [](model::OperandMix m) { return model::to_string(m); }, "uniform, edge, specials");
  v.choice(
      "split", c.split, host::parse_gemm_split,
      [](host::GemmSplit s) { return std::string(host::to_string(s)); }, "m, k");
}

// pJ per event (docs/energy.md); ranges checked by EnergyConfig::validate.
template <typename V, typename C>
void energy_fields(V& v, C& c) {
  for (const auto& [name, member] : EnergyConfig::fields()) v.number(name, c.*member);
}

// Power sampling, the cap and the DVFS steps (docs/energy.md); ranges
// checked by PowerConfig::validate.
template <typename V, typename C>
void power_fields(V& v, C& c) {
  v.uint("sample_cycles", c.sample_cycles, 0, 1'000'000'000);
  v.number("cap_watts", c.cap_watts);
  v.number_list("dvfs_mhz", c.dvfs_mhz, 0, 16);
  v.number_list("dvfs_volts", c.dvfs_volts, 0, 16);
  v.boolean("compare_uncapped", c.compare_uncapped);
}

template <typename V, typename C>
void run_fields(V& v, C& c) {
  v.choice(
      "engine", c.engine, cosim::parse_engine, [](cosim::Engine e) { return cosim::to_string(e); },
      "rtl, model, check");
  v.boolean("waves", c.waves);
  v.string("wave_file", c.wave_file);
  v.uint("watchdog_cycles", c.watchdog_cycles, 1, 1'000'000'000);
  v.string("out_dir", c.out_dir);
  v.string("trace_file", c.trace_file);
  v.string("trace_window", c.trace_window);
}

// The memory-system components validate their own ranges (validate_config).
template <typename V, typename C>
void interconnect_fields(V& v, C& c) {
  v.number("clock_mhz", c.clock_mhz);
  v.uint("width_bytes", c.width_bytes, 0, kU32);
  v.uint("latency_cycles", c.latency_cycles, 0, kU32);
  v.string("arbitration", c.arbitration);
}

template <typename V, typename C>
void l2_fields(V& v, C& c) {
  v.uint("size_bytes", c.size_bytes, 0, kU64);
  v.uint("line_bytes", c.line_bytes, 0, kU32);
  v.uint("ways", c.ways, 0, kU32);
  v.uint("hit_latency_cycles", c.hit_latency_cycles, 0, kU32);
  v.uint("mshrs", c.mshrs, 0, kU32);
  v.number("clock_mhz", c.clock_mhz);
  v.string("replacement", c.replacement);
  v.string("write_policy", c.write_policy);
  v.boolean("bypass", c.bypass);
  v.uint("seed", c.seed, 0, kU64);
}

template <typename V, typename C>
void dram_fields(V& v, C& c) {
  v.uint("channels", c.channels, 0, kU32);
  v.uint("ranks", c.ranks, 0, kU32);
  v.uint("banks", c.banks, 0, kU32);
  v.uint("row_bytes", c.row_bytes, 0, kU64);
  v.uint("bus_width_bits", c.bus_width_bits, 0, kU32);
  v.uint("data_rate", c.data_rate, 0, kU32);
  v.number("clock_mhz", c.clock_mhz);
  v.uint("burst_length", c.burst_length, 0, kU32);
  v.uint("tCL", c.tCL, 0, kU32);
  v.uint("tRCD", c.tRCD, 0, kU32);
  v.uint("tRP", c.tRP, 0, kU32);
  v.uint("tRAS", c.tRAS, 0, kU32);
  v.uint("tCWL", c.tCWL, 0, kU32);
  v.uint("tWR", c.tWR, 0, kU32);
  v.uint("tRTP", c.tRTP, 0, kU32);
  v.uint("tCCD", c.tCCD, 0, kU32);
  v.uint("tRRD", c.tRRD, 0, kU32);
  v.uint("tWTR", c.tWTR, 0, kU32);
  v.boolean("refresh", c.refresh);
  v.uint("tREFI", c.tREFI, 0, kU32);
  v.uint("tRFC", c.tRFC, 0, kU32);
  v.string("page_policy", c.page_policy);
  v.string("scheduler", c.scheduler);
  v.uint("queue_depth", c.queue_depth, 0, kU32);
  v.string("address_mapping", c.address_mapping);
  v.uint("frontend_latency_cycles", c.frontend_latency_cycles, 0, kU32);
}

template <typename V, typename C>
void fixed_fields(V& v, C& c) {
  v.number("latency_ns", c.latency_ns);
  v.number("bandwidth_gbps", c.bandwidth_gbps);
  v.uint("queue_depth", c.queue_depth, 0, kU32);
}

template <typename V, typename C>
void memory_fields(V& v, C& c) {
  v.string("model", c.model);
  v.uint("base", c.base, 0, kU64);
  v.uint("size", c.size, 0, kU64);
  v.child("dram", [&](V& s) { dram_fields(s, c.dram); });
  v.child("fixed", [&](V& s) { fixed_fields(s, c.fixed); });
}

template <typename V, typename C>
void traffic_fields(V& v, C& c, std::uint64_t memory_size) {
  v.choice("pattern", c.pattern, one_of({"stream", "random"}), same, "stream, random");
  v.uint("requests", c.requests, 1, 10'000'000);
  v.uint("request_bytes", c.request_bytes, 1, 4096);
  v.number("write_fraction", c.write_fraction);
  v.uint("outstanding", c.outstanding, 1, 1024);
  v.uint("footprint_bytes", c.footprint_bytes, c.request_bytes, memory_size);
  v.uint("seed", c.seed, 0, kU64);
}

template <typename V, typename C>
void train_fields(V& v, C& c) {
  v.uint_list("layers", c.layers, 1, model::MlpConfig::kMaxWidth, 2, model::MlpConfig::kMaxLayers);
  v.number("lr", c.lr);
  v.choice(
      "optimizer", c.optimizer, model::parse_optimizer,
      [](model::Optimizer o) { return model::to_string(o); }, "sgd, adam, adamw");
  const bool sgd = c.optimizer == model::Optimizer::kSgd;
  // A key of another optimizer is an error; momentum and weight_decay may be
  // 0 (off) with any.
  if (sgd) {
    v.number("momentum", c.momentum);
    for (const char* k : {"beta1", "beta2", "eps"})
      v.unused(k, "applies to optimizer adam and adamw, not sgd");
    v.unused("weight_decay", "applies to optimizer adam and adamw, not sgd (0 or no key with sgd)",
             0.0);
  } else {
    v.unused("momentum",
             std::string("applies to optimizer sgd, not ") + model::to_string(c.optimizer) +
                 " (beta1 is its first moment's decay; 0 or no key with " +
                 model::to_string(c.optimizer) + ")",
             0.0);
    v.number("beta1", c.beta1);
    v.number("beta2", c.beta2);
    v.number("eps", c.eps);
    v.number("weight_decay", c.weight_decay);
  }
  v.choice(
      "schedule", c.schedule, model::parse_lr_schedule,
      [](model::LrSchedule s) { return model::to_string(s); }, "constant, step, cosine");
  v.uint("warmup_steps", c.warmup_steps, 0, model::MlpConfig::kMaxSteps);
  v.uint("step_size", c.step_size, 1, model::MlpConfig::kMaxSteps);
  v.number("gamma", c.gamma);
  v.number("lr_min", c.lr_min);
  v.uint("batch", c.batch, 1, model::MlpConfig::kMaxBatch);
  v.uint("steps", c.steps, 0, 100'000'000);
  v.uint("epochs", c.epochs, 1, 1000);
  v.uint("train_images", c.train_images, c.batch, 60000);
  v.uint("test_images", c.test_images, 1, 10000);
  v.uint("seed", c.seed, 0, kU64);
  v.boolean("check", c.check);
  v.choice(
      "parallel", c.parallel, host::parse_parallelism,
      [](host::Parallelism p) { return std::string(host::to_string(p)); }, "data, tensor");
  v.choice(
      "grad_reduce", c.grad_reduce, host::parse_grad_reduce,
      [](host::GradReduce r) { return std::string(host::to_string(r)); }, "fused, partials");
  v.string("data_dir", c.data_dir);
  v.string("resume", c.resume);
  v.uint("checkpoint_every", c.checkpoint_every, 0, 100'000'000);
  v.uint("stop_after", c.stop_after, 0, 100'000'000);
}

template <typename V, typename C>
void quantize_fields(V& v, C& c) {
  v.boolean("after_training", c.after_training);
  v.uint("calibration_images", c.calibration_images, 1, 60000);
  v.string("checkpoint", c.checkpoint);
}

// The whole file, section by section (reading order matters: later ranges
// depend on earlier values).
template <typename V, typename C>
void config_fields(V& v, C& c) {
  v.child("core", [&](V& s) {
    core_fields(s, c.core);
    s.uint("count", c.cores, 1, cosim::kMaxCores);
  });
  v.child("gemm", [&](V& s) { gemm_fields(s, c.gemm); });
  v.child("run", [&](V& s) { run_fields(s, c.run); });
  v.child("interconnect", [&](V& s) { interconnect_fields(s, c.interconnect); });
  v.child("l2", [&](V& s) { l2_fields(s, c.l2); });
  v.child("memory", [&](V& s) { memory_fields(s, c.memory); });
  v.child("traffic", [&](V& s) { traffic_fields(s, c.traffic, c.memory.size); });
  v.child("train", [&](V& s) { train_fields(s, c.train); });
  v.child("quantize", [&](V& s) { quantize_fields(s, c.quantize); });
  v.child("energy", [&](V& s) { energy_fields(s, c.energy); });
  v.child("power", [&](V& s) { power_fields(s, c.power); });
}

// The components validate their own configuration (one place per range) with
// messages "<key>: ..."; the YAML layer puts the file and the section before
// the key.
template <typename F>
void validated(const std::string& source, const std::string& section, F&& check) {
  try {
    check();
  } catch (const std::invalid_argument& e) {
    throw ConfigError(source + ": " + (section.empty() ? "" : section + ".") + e.what());
  }
}

// Rules between keys and ranges that are not a plain interval.
void validate_config(const Config& cfg) {
  const std::string& src = cfg.source;
  auto fail = [&](const std::string& key, const std::string& msg) {
    throw ConfigError(src + ": " + key + ": " + msg);
  };
  validated(src, "", [&] { spec::validate(cfg.core); });
  validated(src, "interconnect", [&] { cfg.interconnect.validate(); });
  validated(src, "l2", [&] { mem::validate(cfg.l2); });
  validated(src, "", [&] { cfg.memory.validate(); });  // its messages name the key already
  validated(src, "memory.dram", [&] { cfg.memory.dram.validate(); });
  validated(src, "memory.fixed", [&] { cfg.memory.fixed.validate(); });
  validated(src, "energy", [&] { cfg.energy.validate(); });
  validated(src, "power", [&] { cfg.power.validate(cfg.core.clock_mhz); });
  validated(src, "run", [&] {
    try {
      parse_trace_window(cfg.run.trace_window);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("trace_window: ") + e.what());
    }
  });
  if (cfg.cores > 1 && !cfg.run.trace_file.empty())
    fail("core.count", std::to_string(cfg.cores) +
                           " cores: the trace (run.trace_file) follows a device of one core "
                           "(allowed core.count 1 with a trace)");
  if (cfg.cores > 1 && cfg.power.cap_watts > 0)
    fail("core.count", std::to_string(cfg.cores) +
                           " cores: the power governor (power.cap_watts) drives a device of one "
                           "core (allowed core.count 1 with a power cap)");
  const TrafficConfig& t = cfg.traffic;
  if (!std::has_single_bit(t.request_bytes))
    fail("traffic.request_bytes", std::to_string(t.request_bytes) + " is not a power of two");
  if (!(t.write_fraction >= 0 && t.write_fraction <= 1))
    fail("traffic.write_fraction",
         std::to_string(t.write_fraction) + " is out of range (allowed 0..1)");
  if (!cfg.l2.bypass && t.request_bytes > cfg.l2.line_bytes)
    fail("traffic.request_bytes",
         std::to_string(t.request_bytes) + " is larger than l2.line_bytes (" +
             std::to_string(cfg.l2.line_bytes) + "): the L2 does not split requests across lines");
  // Before the conversion to binary32 in mlp_config().
  validated(src, "", [&] {
    const TrainConfig& t = cfg.train;
    const bool sgd = t.optimizer == model::Optimizer::kSgd;
    model::MlpConfig::validate_rates(t.lr, sgd ? t.momentum : 0.0, "train.");
    if (!sgd) model::MlpConfig::validate_adam(t.beta1, t.beta2, t.eps, t.weight_decay, "train.");
  });
  validated(src, "", [&] { mlp_config(cfg).validate("train."); });
  // The GEMM jobs hold A, B (2 bytes an element) and two copies of C (4) in
  // host memory: at most half of this machine's.
  const double host_bytes =
      (double(cfg.gemm.m) * double(cfg.gemm.k) + double(cfg.gemm.k) * double(cfg.gemm.n)) * 2 +
      double(cfg.gemm.m) * double(cfg.gemm.n) * 8;
  const double phys = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (phys > 0 && host_bytes > phys / 2)
    fail("gemm", std::to_string(cfg.gemm.m) + "x" + std::to_string(cfg.gemm.k) + "x" +
                     std::to_string(cfg.gemm.n) + " needs " +
                     std::to_string(std::uint64_t(host_bytes) >> 20) +
                     " MiB of host memory, more than half of this machine's " +
                     std::to_string(std::uint64_t(phys) >> 20) + " MiB");
}

}  // namespace

model::MlpConfig mlp_config(const Config& cfg) {
  model::MlpConfig m;
  m.layers = cfg.train.layers;
  m.lr = static_cast<float>(cfg.train.lr);
  m.optimizer = cfg.train.optimizer;
  if (m.optimizer == model::Optimizer::kSgd) {
    m.momentum = static_cast<float>(cfg.train.momentum);
  } else {
    m.momentum = 0.0f;
    m.beta1 = static_cast<float>(cfg.train.beta1);
    m.beta2 = static_cast<float>(cfg.train.beta2);
    m.eps = static_cast<float>(cfg.train.eps);
    m.weight_decay = static_cast<float>(cfg.train.weight_decay);
  }
  m.batch = cfg.train.batch;
  m.seed = cfg.train.seed;
  m.schedule = cfg.train.schedule;
  m.warmup_steps = cfg.train.warmup_steps;
  m.step_size = cfg.train.step_size;
  m.gamma = static_cast<float>(cfg.train.gamma);
  m.lr_min = static_cast<float>(cfg.train.lr_min);
  m.total_steps = cfg.train.steps ? cfg.train.steps
                                  : std::uint64_t{cfg.train.epochs} *
                                        (cfg.train.train_images / cfg.train.batch);
  return m;
}

spec::DeviceSpec Config::device() const { return spec::device_of(core, memory.size, memory.base); }

namespace {

// Sets one `key.path=value` of --set in the document, creating sections that
// are absent; the value is YAML (a number, a name, a list such as [784, 64, 10]).
// The loader then checks the key and value exactly as if the file held them.
void apply_override(YAML::Node& root, const std::string& set, const std::string& source) {
  const auto bad = [&](const std::string& why) {
    throw ConfigError(source + ": --set '" + short_text(set) + "': " + why);
  };
  const auto eq = set.find('=');
  if (eq == std::string::npos || eq == 0) bad("expected key.path=value (e.g. core.rows=32)");
  std::vector<std::string> path;
  std::stringstream keys(set.substr(0, eq));
  for (std::string k; std::getline(keys, k, '.');) {
    if (!is_key_name(k)) bad("'" + short_text(k) + "' is not a key name (letters, digits, _)");
    path.push_back(k);
  }
  if (path.empty() || set[eq - 1] == '.') bad("expected key.path=value (e.g. core.rows=32)");
  YAML::Node value;
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(set.substr(eq + 1));
    if (docs.size() != 1) bad("the value must be one YAML value");
    value = docs[0];
  } catch (const YAML::Exception& e) {
    bad(std::string("the value is not valid YAML: ") + e.what());
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  // Walks by reassignment (yaml-cpp nodes are handles; reset() rebinds one).
  YAML::Node node;
  node.reset(root);
  std::string at;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    at += (at.empty() ? "" : ".") + path[i];
    if (!node.IsMap()) bad("'" + at + "' is inside a value, not a section");
    YAML::Node next = node[path[i]];
    if (!next.IsDefined() || next.IsNull()) next = YAML::Node(YAML::NodeType::Map);
    node[path[i]] = next;
    node.reset(next);
  }
  if (!node.IsMap()) bad("'" + at + "' is a value, not a section");
  node[path.back()] = value;
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source,
                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    // One document: a second one ('---') would otherwise be ignored.
    const std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1)
      throw ConfigError(source + ": " + std::to_string(docs.size()) +
                        " YAML documents ('---'); a configuration is one");
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": not valid YAML: " + e.what());
  }
  for (const std::string& o : overrides) apply_override(root, o, source);
  Config cfg;
  cfg.source = source;
  cfg.name = std::filesystem::path(source).stem().string();
  Reader top{Section(root, "", source)};
  config_fields(top, cfg);
  top.section().finish();
  if (cfg.run.wave_file.empty()) cfg.run.wave_file = "waves/" + cfg.name + ".fst";
  validate_config(cfg);
  return cfg;
}

Config load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  std::string text;
  try {
    text = host::read_file(path, kMaxConfigBytes, "configuration file");
  } catch (const host::FileError& e) {
    throw ConfigError(e.what());
  }
  return parse_config(text, path.string(), overrides);
}

bool is_key_name(const std::string& k) {
  return !k.empty() && k.size() <= 64 && std::all_of(k.begin(), k.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

std::pair<std::uint64_t, std::uint64_t> parse_trace_window(const std::string& text) {
  if (text.empty()) return {0, std::numeric_limits<std::uint64_t>::max()};
  const auto colon = text.find(':');
  const auto whole = [&](const std::string& s, std::uint64_t& v) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
      return false;
    v = std::strtoull(s.c_str(), nullptr, 10);
    return true;
  };
  std::uint64_t a = 0, b = 0;
  if (colon == std::string::npos || !whole(text.substr(0, colon), a) ||
      !whole(text.substr(colon + 1), b))
    throw std::invalid_argument("'" + short_text(text) +
                                "' is not START:END (device cycles, whole numbers, e.g. 0:20000)");
  if (a >= b)
    throw std::invalid_argument("'" + short_text(text) + "' is empty (START must be below END)");
  return {a, b};
}

std::string to_yaml(const Config& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  Writer w(e);
  config_fields(w, c);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace sasim::app
