#include "sasim/app/sweep.hpp"

#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "sasim/host/files.hpp"

namespace sasim::app {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxSweepBytes = 1 << 20;
constexpr std::size_t kMaxPoints = 100000;
constexpr std::size_t kMaxErrorsShown = 5;

const std::vector<std::string> kCommands = {"run", "array", "train", "mem"};
const std::vector<std::string> kFields = {"description", "command", "base",    "set",
                                          "axes",        "zip",     "exclude", "plots"};

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// A value as --set takes it: the YAML text of the node, in flow style.
std::string value_text(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetSeqFormat(YAML::Flow);
  e.SetMapFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

// A stable name for a point: crc32 and adler32 (zlib) of its assignments.
std::string point_id(const std::vector<Assignment>& values) {
  std::string text;
  for (const auto& [k, v] : values) text += k + "=" + v + "\n";
  const auto* p = reinterpret_cast<const Bytef*>(text.data());
  const auto n = static_cast<uInt>(text.size());
  const uLong c = crc32(crc32(0L, Z_NULL, 0), p, n);
  const uLong a = adler32(adler32(0L, Z_NULL, 0), p, n);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%08lx%08lx", c & 0xffffffffUL, a & 0xffffffffUL);
  return buf;
}

class SweepReader {
 public:
  explicit SweepReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw SweepError(source_ + ": " + where + ": " + what);
  }

  // A list of values (text), checked: non-empty, no value twice (unless
  // `unique` is false: a zip group's lists, whose steps must differ instead).
  std::vector<std::string> values_of(const std::string& where, const YAML::Node& list,
                                     bool unique = true) const {
    if (!list.IsSequence() || list.size() == 0)
      fail(where, "expected a non-empty list of values, e.g. [4, 8, 16]");
    std::vector<std::string> out;
    for (const auto& v : list) {
      if (v.IsNull()) fail(where, "an empty value in the list");
      const std::string t = value_text(v);
      if (unique && std::find(out.begin(), out.end(), t) != out.end())
        fail(where, "the value " + t + " appears twice");
      out.push_back(t);
    }
    return out;
  }

  std::string key_of(const std::string& where, const YAML::Node& k) const {
    if (!k.IsScalar()) fail(where, "a key must be a key path such as core.rows, not a list or map");
    const std::string key = k.as<std::string>();
    std::stringstream parts(key);
    bool ok = !key.empty() && key.back() != '.';
    for (std::string part; ok && std::getline(parts, part, '.');) ok = is_key_name(part);
    if (!ok)
      fail(where, "'" + key + "' is not a config key path (e.g. core.rows, memory.dram.tCL)");
    return key;
  }

  std::string scalar(const std::string& where, const YAML::Node& n) const {
    if (!n.IsScalar()) fail(where, "expected a single value");
    return n.as<std::string>();
  }

  // A map's entries, checked: scalar keys, none twice (yaml-cpp keeps both).
  void check_map(const std::string& where, const YAML::Node& map) const {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar())
        fail(where.empty() ? "(top level)" : where,
             "a key must be a name or key path, not a list or map");
      const std::string k = kv.first.as<std::string>();
      if (!seen.insert(k).second) fail(where.empty() ? k : where + "." + k, "duplicate key");
    }
  }

 private:
  std::string source_;
};

}  // namespace

std::string SweepPoint::set_text() const {
  std::string s;
  for (const auto& [k, v] : values) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

const std::vector<std::string>& sweep_metrics() {
  static const std::vector<std::string> kMetrics = {
      "cycles",          "simulated_us", "pe_utilization", "macs",         "achieved_macs_per_s",
      "dram_bytes",      "dram_gbps",    "l2_hit_rate",    "row_hit_rate", "match",
      "energy_uj",       "pj_per_mac",   "avg_power_w",    "peak_power_w", "wall_seconds",
      "sim_cycles_per_s"};
  return kMetrics;
}

Sweep load_sweep(const fs::path& file, const std::vector<std::string>& overrides, bool skip_invalid,
                 long long only_point) {
  Sweep s;
  s.source = file.string();
  s.overrides = overrides;
  s.skip_invalid = skip_invalid;
  s.name = file.stem().string();
  const SweepReader r(s.source);
  std::string text;
  try {
    text = host::read_file(file, kMaxSweepBytes, "sweep file");
  } catch (const host::FileError& e) {
    throw SweepError(e.what());
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw SweepError(s.source + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap())
    throw SweepError(s.source + ": expected a map of sweep fields (" + join(kFields) + ")");
  r.check_map("", root);
  for (const auto& kv : root) {
    const std::string k = kv.first.as<std::string>();
    if (std::find(kFields.begin(), kFields.end(), k) == kFields.end())
      r.fail(k, "not a sweep field (allowed: " + join(kFields) + ")");
  }

  // command and base
  s.command = root["command"] ? r.scalar("command", root["command"]) : "run";
  if (std::find(kCommands.begin(), kCommands.end(), s.command) == kCommands.end())
    r.fail("command", "'" + s.command + "' is not allowed (allowed " + join(kCommands) + ")");
  if (!root["base"]) r.fail("base", "missing: the config every point starts from");
  s.base = file.parent_path() / r.scalar("base", root["base"]);

  // set: fixed assignments, then the command line's --set
  if (const auto set = root["set"]) {
    if (!set.IsMap()) r.fail("set", "expected a map of key path: value");
    r.check_map("set", set);
    for (const auto& kv : set) {
      const std::string k = r.key_of("set", kv.first);
      s.set.emplace_back(k, value_text(kv.second));
    }
  }
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw SweepError(s.source + ": --set '" + o +
                       "': expected key.path=value (e.g. core.rows=32)");
    s.set.emplace_back(o.substr(0, eq), o.substr(eq + 1));
  }

  // The product's factors: each axis alone, each zip group together.
  struct Factor {
    std::vector<std::string> keys;
    std::vector<std::vector<std::string>> rows;  // rows[i][j]: value of keys[j] in step i
  };
  std::vector<Factor> factors;
  const auto add_key = [&](const std::string& where, const std::string& k) {
    if (std::find(s.axis_keys.begin(), s.axis_keys.end(), k) != s.axis_keys.end())
      r.fail(where, "'" + k + "' is swept twice");
    s.axis_keys.push_back(k);
  };
  if (const auto axes = root["axes"]) {
    if (!axes.IsMap()) r.fail("axes", "expected a map of key path: [values]");
    r.check_map("axes", axes);
    for (const auto& kv : axes) {
      const std::string k = r.key_of("axes", kv.first);
      add_key("axes." + k, k);
      Factor f{{k}, {}};
      for (const auto& v : r.values_of("axes." + k, kv.second)) f.rows.push_back({v});
      factors.push_back(std::move(f));
    }
  }
  if (const auto zip = root["zip"]) {
    if (!zip.IsSequence()) r.fail("zip", "expected a list of groups {key path: [values], ...}");
    for (std::size_t g = 0; g < zip.size(); ++g) {
      const std::string where = "zip[" + std::to_string(g) + "]";
      if (!zip[g].IsMap() || zip[g].size() == 0)
        r.fail(where, "expected a map of key path: [values] whose lists have one length");
      r.check_map(where, zip[g]);
      Factor f;
      std::vector<std::vector<std::string>> cols;
      for (const auto& kv : zip[g]) {
        const std::string k = r.key_of(where, kv.first);
        add_key(where + "." + k, k);
        f.keys.push_back(k);
        cols.push_back(r.values_of(where + "." + k, kv.second, false));
        if (cols.back().size() != cols.front().size())
          r.fail(where + "." + k, std::to_string(cols.back().size()) + " values where " +
                                      f.keys.front() + " has " +
                                      std::to_string(cols.front().size()) +
                                      " (the lists of a zip group advance together)");
      }
      for (std::size_t i = 0; i < cols.front().size(); ++i) {
        std::vector<std::string> row;
        for (const auto& c : cols) row.push_back(c[i]);
        // Two steps of one group with the same values would be one point twice.
        if (std::find(f.rows.begin(), f.rows.end(), row) != f.rows.end())
          r.fail(where, "step " + std::to_string(i) + " repeats an earlier step");
        f.rows.push_back(std::move(row));
      }
      s.zip_groups.push_back(f.keys);
      factors.push_back(std::move(f));
    }
  }
  if (s.axis_keys.empty()) r.fail("axes", "a sweep needs at least one axis (axes or zip)");
  for (const auto& [k, v] : s.set)
    if (std::find(s.axis_keys.begin(), s.axis_keys.end(), k) != s.axis_keys.end())
      r.fail("set", "'" + k + "' is also an axis");
  std::size_t total = 1;
  for (const auto& f : factors) {
    total *= f.rows.size();
    if (total > kMaxPoints)
      r.fail("axes", "more than " + std::to_string(kMaxPoints) + " points; split the sweep");
  }

  // exclude: entries of key path: value or [values]; a point matching every
  // key of one entry is dropped.
  std::vector<std::map<std::string, std::set<std::string>>> excludes;
  std::map<std::string, std::vector<std::string>> axis_values;
  for (const auto& f : factors)
    for (std::size_t j = 0; j < f.keys.size(); ++j)
      for (const auto& row : f.rows) axis_values[f.keys[j]].push_back(row[j]);
  if (const auto ex = root["exclude"]) {
    if (!ex.IsSequence()) r.fail("exclude", "expected a list of {key path: value or [values]}");
    for (std::size_t i = 0; i < ex.size(); ++i) {
      const std::string where = "exclude[" + std::to_string(i) + "]";
      if (!ex[i].IsMap() || ex[i].size() == 0) r.fail(where, "expected {key path: value, ...}");
      r.check_map(where, ex[i]);
      std::map<std::string, std::set<std::string>> e;
      for (const auto& kv : ex[i]) {
        const std::string k = r.key_of(where, kv.first);
        if (std::find(s.axis_keys.begin(), s.axis_keys.end(), k) == s.axis_keys.end())
          r.fail(where + "." + k, "not an axis of this sweep (axes: " + join(s.axis_keys) + ")");
        if (kv.second.IsSequence())
          for (const auto& v : r.values_of(where + "." + k, kv.second)) e[k].insert(v);
        else
          e[k].insert(value_text(kv.second));
        // A value the axis does not have would exclude nothing: a typo.
        const auto& have = axis_values[k];
        for (const auto& v : e[k])
          if (std::find(have.begin(), have.end(), v) == have.end())
            r.fail(where + "." + k,
                   v + " is not a value of this axis (values: " + join(have) + ")");
      }
      excludes.push_back(std::move(e));
    }
  }

  // plots
  if (const auto plots = root["plots"]) {
    if (!plots.IsSequence()) r.fail("plots", "expected a list of {x, y, group}");
    for (std::size_t i = 0; i < plots.size(); ++i) {
      const std::string where = "plots[" + std::to_string(i) + "]";
      const YAML::Node p = plots[i];
      if (!p.IsMap()) r.fail(where, "expected {x: axis, y: metric, group: axis}");
      r.check_map(where, p);
      SweepPlot pl;
      for (const auto& kv : p) {
        const std::string k = kv.first.as<std::string>();
        const std::string v = r.scalar(where + "." + k, kv.second);
        if (k == "x" || k == "group") {
          if (std::find(s.axis_keys.begin(), s.axis_keys.end(), v) == s.axis_keys.end())
            r.fail(where + "." + k, "'" + v + "' is not an axis (axes: " + join(s.axis_keys) + ")");
          (k == "x" ? pl.x : pl.group) = v;
        } else if (k == "y") {
          if (std::find(sweep_metrics().begin(), sweep_metrics().end(), v) == sweep_metrics().end())
            r.fail(where + ".y",
                   "'" + v + "' is not a metric (allowed " + join(sweep_metrics()) + ")");
          pl.y = v;
        } else if (k == "log_x" || k == "log_y") {
          if (v != "true" && v != "false") r.fail(where + "." + k, "expected true or false");
          (k == "log_x" ? pl.log_x : pl.log_y) = v == "true";
        } else {
          r.fail(where + "." + k, "not a plot field (allowed x, y, group, log_x, log_y)");
        }
      }
      if (pl.x.empty() || pl.y.empty()) r.fail(where, "needs x (an axis) and y (a metric)");
      if (pl.group == pl.x) r.fail(where + ".group", "the same axis as x");
      s.plots.push_back(pl);
    }
  }

  // The product, in order: the last factor varies fastest.
  std::vector<std::size_t> at(factors.size(), 0);
  std::set<std::string> ids;
  for (std::size_t n = 0; n < total; ++n) {
    SweepPoint p;
    for (std::size_t f = 0; f < factors.size(); ++f)
      for (std::size_t j = 0; j < factors[f].keys.size(); ++j)
        p.values.emplace_back(factors[f].keys[j], factors[f].rows[at[f]][j]);
    for (std::size_t f = factors.size(); f-- > 0;) {
      if (++at[f] < factors[f].rows.size()) break;
      at[f] = 0;
    }
    const bool excluded = std::any_of(excludes.begin(), excludes.end(), [&](const auto& e) {
      return std::all_of(e.begin(), e.end(), [&](const auto& kv) {
        for (const auto& [k, v] : p.values)
          if (k == kv.first) return kv.second.count(v) > 0;
        return false;
      });
    });
    if (excluded) {
      ++s.excluded;
      continue;
    }
    p.index = s.points.size();
    p.id = point_id(p.values);
    ids.insert(p.id);
    s.points.push_back(std::move(p));
  }
  if (ids.size() != s.points.size())
    throw SweepError(s.source + ": two points have the same name; change an axis value");
  if (s.points.empty()) r.fail("exclude", "every point is excluded");

  // The base with the fixed assignments first: a missing base or a bad `set`
  // is one error, not one per point.
  // The base is read once: every point is checked, keyed and run from this
  // text (sweep_runner.cpp), whatever happens to the file meanwhile.
  std::vector<std::string> fixed;
  for (const auto& [k, v] : s.set) fixed.push_back(k + "=" + v);
  try {
    s.base_text = host::read_file(s.base, kMaxConfigBytes, "configuration file");
    parse_config(s.base_text, s.base.string(), fixed);
  } catch (const host::FileError& e) {
    throw SweepError(s.source + ": base: " + e.what());
  } catch (const ConfigError& e) {
    throw SweepError(s.source + ": base and set: " + e.what());
  }

  // Every point is a whole config, checked before anything runs (a Slurm
  // task: its own point only).
  std::vector<std::string> errors;
  for (auto& p : s.points) {
    if (only_point >= 0 && p.index != static_cast<std::size_t>(only_point)) continue;
    std::vector<std::string> sets;
    for (const auto& [k, v] : s.set) sets.push_back(k + "=" + v);
    for (const auto& [k, v] : p.values) sets.push_back(k + "=" + v);
    try {
      p.config = parse_config(s.base_text, s.base.string(), sets);
    } catch (const ConfigError& e) {
      p.error = e.what();
      errors.push_back("point " + std::to_string(p.index) + " (" + p.set_text() + "): " + e.what());
    }
  }
  if (!errors.empty() && !skip_invalid) {
    std::string msg = s.source + ": " + std::to_string(errors.size()) + " of " +
                      std::to_string(s.points.size()) + " points have an invalid config:";
    for (std::size_t i = 0; i < std::min(errors.size(), kMaxErrorsShown); ++i)
      msg += "\n  " + errors[i];
    if (errors.size() > kMaxErrorsShown)
      msg += "\n  ... and " + std::to_string(errors.size() - kMaxErrorsShown) + " more";
    msg += "\n(--skip-invalid runs the others and records these as failed)";
    throw SweepError(msg);
  }
  return s;
}

}  // namespace sasim::app
