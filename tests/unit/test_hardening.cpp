// Hardening (docs/config.md "Errors", docs/training.md "Checkpoints"): outputs
// written whole or not at all, inputs read with limits and clear errors,
// checkpoints that check themselves, and a config loader that accepts nothing
// silently. Each test is one class of problem a hostile but fair user found.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "sasim/app/config.hpp"
#include "sasim/app/run_job.hpp"
#include "sasim/host/checkpoint.hpp"
#include "sasim/host/files.hpp"
#include "sasim/model/mlp_golden.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/train_golden.hpp"
#include "support/config_error.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::ThrowsMessage;
namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class Tmp {
 public:
  Tmp()
      : dir_(fs::temp_directory_path() /
             ("sasim_hardening_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Tmp() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path operator/(const std::string& n) const { return dir_ / n; }
  const fs::path& path() const { return dir_; }
  std::size_t files() const {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) n += e.is_regular_file();
    return n;
  }

 private:
  fs::path dir_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string error_of(const std::string& yaml) { return sasim::test::config_error_of(yaml); }

// --- Outputs ----------------------------------------------------------------

TEST(Files, AtomicWriteReplacesWholeAndLeavesNoTemporary) {
  Tmp t;
  host::write_file_atomic(t / "a.json", "old");
  host::write_file_atomic(t / "a.json", "new contents");
  EXPECT_EQ(slurp(t / "a.json"), "new contents");
  EXPECT_EQ(t.files(), 1u);  // no temporary left behind
}

TEST(Files, UnwritableOutputsAreErrorsNamingThePath) {
  Tmp t;
  spit(t / "plain", "x");
  // A folder where a file is: creating the output folder fails before any run.
  EXPECT_THAT([&] { host::prepare_output_dir(t / "plain" / "out"); },
              ThrowsMessage<host::FileError>(HasSubstr((t / "plain" / "out").string())));
  EXPECT_THAT([&] { host::prepare_output_dir("/proc/x"); },
              ThrowsMessage<host::FileError>(HasSubstr("/proc/x")));
  EXPECT_THAT([&] { host::write_file_atomic(t / "missing" / "a.json", "x"); },
              ThrowsMessage<host::FileError>(HasSubstr("a.json: cannot create")));
  // What is not a regular file is never replaced.
  EXPECT_THAT([&] { host::write_file_atomic("/dev/null", "x"); },
              ThrowsMessage<host::FileError>(HasSubstr("/dev/null: exists and is not a regular")));
  EXPECT_THAT([&] { host::write_file_atomic(t.path(), "x"); },
              ThrowsMessage<host::FileError>(HasSubstr("is not a regular file")));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_NO_THROW(host::prepare_output_dir(t / "new" / "nested"));
}

// A full device (here: the file size limit, EFBIG) is an error, and the file
// it would have replaced stays as it was.
TEST(Files, AFailedWriteIsAnErrorAndKeepsTheOldFile) {
  Tmp t;
  host::write_file_atomic(t / "stats.json", "old");
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // write() fails instead
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    host::write_file_atomic(t / "stats.json", std::string(100000, 'x'));
  } catch (const host::FileError& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_THAT(error, HasSubstr("stats.json: cannot write"));
  EXPECT_EQ(slurp(t / "stats.json"), "old");
  EXPECT_EQ(t.files(), 1u);  // the temporary is gone
}

TEST(Files, ReadFileRefusesWhatIsNotASmallRegularFile) {
  Tmp t;
  EXPECT_THAT([&] { host::read_file(t / "nope.yaml", 100, "configuration file"); },
              ThrowsMessage<host::FileError>(HasSubstr("configuration file does not exist")));
  EXPECT_THAT([&] { host::read_file(t.path(), 100, "configuration file"); },
              ThrowsMessage<host::FileError>(HasSubstr("is a folder, not a file")));
  EXPECT_THAT([&] { host::read_file("/dev/zero", 100, "configuration file"); },
              ThrowsMessage<host::FileError>(HasSubstr("is not a regular file")));
  spit(t / "big", std::string(200, 'x'));
  EXPECT_THAT([&] { host::read_file(t / "big", 100, "configuration file"); },
              ThrowsMessage<host::FileError>(HasSubstr("200 bytes, more than the 100 allowed")));
  EXPECT_EQ(host::read_file(t / "big", 200, "x").size(), 200u);
  if (::geteuid() != 0) {  // root reads anything
    spit(t / "secret", "x");
    fs::permissions(t / "secret", fs::perms::none);
    EXPECT_THAT([&] { host::read_file(t / "secret", 100, "configuration file"); },
                ThrowsMessage<host::FileError>(HasSubstr("permission denied")));
  }
}

// --- Checkpoints --------------------------------------------------------------

struct CheckpointCase {
  host::RunFingerprint run{
      model::MlpConfig{.layers = {6, 5, 3}, .lr = 0.05f, .momentum = 0.9f, .batch = 4, .seed = 7},
      100};
  model::MlpState state = model::mlp_init(run.mlp);
  std::string bytes = host::checkpoint_bytes(state, 12, run);
};

// b with its trailing CRC-32 (zlib, over everything before it) recomputed: a
// changed field in a consistent file, as a crafted or foreign one would be.
std::string reseal(std::string b) {
  const uLong c = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data()),
                        static_cast<uInt>(b.size() - 4));
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<char>(c >> (8 * i));
  return b;
}

TEST(Checkpoint, RoundTripsBitForBit) {
  Tmp t;
  const CheckpointCase c;
  host::save_checkpoint((t / "ck.bin").string(), c.state, 12, c.run);
  EXPECT_EQ(slurp(t / "ck.bin"), c.bytes);
  const host::Checkpoint back = host::load_checkpoint((t / "ck.bin").string(), c.run, 12);
  EXPECT_EQ(back.step, 12u);
  EXPECT_EQ(host::checkpoint_bytes(back.state, back.step, c.run), c.bytes);
}

TEST(Checkpoint, DamageIsNamed) {
  Tmp t;
  const CheckpointCase c;
  const std::string p = (t / "ck.bin").string();
  const auto load = [&] { host::load_checkpoint(p, c.run, 1000); };
  // Every single flipped bit in the file is caught (here: a sample across it).
  for (std::size_t i = 0; i < c.bytes.size(); i += 37) {
    std::string b = c.bytes;
    b[i] = static_cast<char>(b[i] ^ 0x10);
    spit(p, b);
    EXPECT_THROW(load(), host::CheckpointError) << "byte " << i;
  }
  std::string flipped = c.bytes;
  flipped[20] = static_cast<char>(flipped[20] ^ 1);  // in the step field
  spit(p, flipped);
  EXPECT_THAT(load, ThrowsMessage<host::CheckpointError>(HasSubstr("damaged: the CRC-32")));
  spit(p, c.bytes + "garbage");
  EXPECT_THAT(load, ThrowsMessage<host::CheckpointError>(HasSubstr("7 bytes after the end")));
  spit(p, c.bytes.substr(0, c.bytes.size() / 2));
  EXPECT_THAT(load, ThrowsMessage<host::CheckpointError>(HasSubstr("truncated")));
  spit(p, "");
  EXPECT_THAT(load, ThrowsMessage<host::CheckpointError>(HasSubstr("not a sasim checkpoint")));
  std::string v5 = c.bytes;
  v5[8] = 5;
  spit(p, reseal(v5));
  EXPECT_THAT(load, ThrowsMessage<host::CheckpointError>(
                        HasSubstr("format version 5, this sasim reads 3..4")));
  EXPECT_THAT([&] { host::load_checkpoint((t / "none").string(), c.run, 10); },
              ThrowsMessage<host::CheckpointError>(HasSubstr("does not exist")));
}

TEST(Checkpoint, AnotherRunsCheckpointIsNamedByTheFieldThatDiffers) {
  Tmp t;
  const CheckpointCase c;
  const std::string p = (t / "ck.bin").string();
  spit(p, c.bytes);
  host::RunFingerprint other = c.run;
  other.mlp.layers = {6, 4, 3};
  EXPECT_THAT([&] { host::load_checkpoint(p, other, 100); },
              ThrowsMessage<host::CheckpointError>(HasSubstr("layers differ from train.layers")));
  other = c.run;
  other.mlp.seed = 8;
  EXPECT_THAT([&] { host::load_checkpoint(p, other, 100); },
              ThrowsMessage<host::CheckpointError>(
                  HasSubstr("train.seed is 7 in the checkpoint, 8 in this run")));
  other = c.run;
  other.mlp.momentum = 0;
  EXPECT_THROW(host::load_checkpoint(p, other, 100), host::CheckpointError);
  // The step is bounded by the run before anything is replayed.
  EXPECT_THAT([&] { host::load_checkpoint(p, c.run, 11); },
              ThrowsMessage<host::CheckpointError>(HasSubstr("at step 12, past the end")));
}

// Format 3 (earlier sasim, SGD only): the same file without the optimizer's
// five fingerprint fields; it still loads, into the same state.
TEST(Checkpoint, Version3StillLoads) {
  Tmp t;
  const CheckpointCase c;
  const std::string p = (t / "ck.bin").string();
  // magic, version, step, layer count, 3 layers, then 13 fields of format 3.
  const std::size_t optimizer_fields = 8 + 8 * (3 + 3) + 8 * 13;
  std::string v3 = c.bytes;
  v3[8] = 3;
  v3.erase(optimizer_fields, 5 * 8);
  spit(p, reseal(v3));
  const host::Checkpoint back = host::load_checkpoint(p, c.run, 100);
  EXPECT_EQ(back.step, 12u);
  EXPECT_EQ(model::first_difference(back.state, c.state), "");
  // Not for an Adam run: its state has second moments.
  host::RunFingerprint adam = c.run;
  adam.mlp.momentum = 0;
  adam.mlp.optimizer = model::Optimizer::kAdam;
  EXPECT_THAT([&] { host::load_checkpoint(p, adam, 100); },
              ThrowsMessage<host::CheckpointError>(
                  HasSubstr("state tensors per parameter (train.momentum, train.optimizer) is 1 "
                            "in the checkpoint, 2 in this run")));
}

// Adam's state (first and second moments) round-trips; another optimizer or
// another beta is named; a negative second moment is refused.
TEST(Checkpoint, AdamStateAndFields) {
  Tmp t;
  const std::string p = (t / "ck.bin").string();
  host::RunFingerprint run{
      model::MlpConfig{.layers = {6, 5, 3}, .lr = 0.05f, .batch = 4, .seed = 7}, 100};
  run.mlp.optimizer = model::Optimizer::kAdamW;
  run.mlp.weight_decay = 0.01f;
  model::MlpState s = model::mlp_init(run.mlp);
  ASSERT_EQ(s.sw.size(), 2u);
  s.vw[1](0, 0) = model::f32_to_bits(0.25f);
  s.sb[0](0, 1) = model::f32_to_bits(0.5f);
  spit(p, host::checkpoint_bytes(s, 5, run));
  const host::Checkpoint back = host::load_checkpoint(p, run, 100);
  EXPECT_EQ(model::first_difference(back.state, s), "");
  host::RunFingerprint other = run;
  other.mlp.optimizer = model::Optimizer::kAdam;
  EXPECT_THAT([&] { host::load_checkpoint(p, other, 100); },
              ThrowsMessage<host::CheckpointError>(
                  HasSubstr("train.optimizer (0 sgd, 1 adam, 2 adamw) is 2 in the checkpoint, 1 "
                            "in this run")));
  // An SGD run is told which field differs, not that the file is too big.
  other = run;
  other.mlp.optimizer = model::Optimizer::kSgd;
  other.mlp.weight_decay = 0;
  EXPECT_THAT([&] { host::load_checkpoint(p, other, 100); },
              ThrowsMessage<host::CheckpointError>(
                  HasSubstr("state tensors per parameter (train.momentum, train.optimizer) is 2 "
                            "in the checkpoint, 0 in this run")));
  other = run;
  other.mlp.beta2 = 0.99f;
  EXPECT_THAT([&] { host::load_checkpoint(p, other, 100); },
              ThrowsMessage<host::CheckpointError>(HasSubstr("train.beta2 (binary32 bits)")));
  model::MlpState neg = s;
  neg.sw[1](2, 1) = model::f32_to_bits(-1e-20f);
  spit(p, host::checkpoint_bytes(neg, 5, run));
  EXPECT_THAT(
      [&] { host::load_checkpoint(p, run, 100); },
      ThrowsMessage<host::CheckpointError>(HasSubstr("layer 1: a second moment is negative")));
}

TEST(Checkpoint, ConsistentFilesWithBadContentsAreRefused) {
  Tmp t;
  CheckpointCase c;
  const std::string p = (t / "ck.bin").string();
  // A NaN weight, in a file whose checksum matches.
  model::MlpState nan = c.state;
  nan.w32[1](0, 0) = model::f32_to_bits(std::numeric_limits<float>::quiet_NaN());
  nan.wbf[1] = model::to_bf16(nan.w32[1]);
  spit(p, host::checkpoint_bytes(nan, 3, c.run));
  EXPECT_THAT([&] { host::load_checkpoint(p, c.run, 100); },
              ThrowsMessage<host::CheckpointError>(
                  HasSubstr("layer 1: the fp32 weights hold a non-finite value")));
  // bf16 weights that are not the rounding of the fp32 master weights.
  model::MlpState off = c.state;
  off.wbf[0](0, 0) = static_cast<std::uint16_t>(off.wbf[0](0, 0) ^ 1);
  spit(p, host::checkpoint_bytes(off, 3, c.run));
  EXPECT_THAT([&] { host::load_checkpoint(p, c.run, 100); },
              ThrowsMessage<host::CheckpointError>(HasSubstr("not the rounding")));
}

// --- The strict loader -------------------------------------------------------

TEST(StrictConfig, OneDocumentAndNoOctal) {
  EXPECT_EQ(error_of("core: {rows: 8}\n---\ncore: {rows: 16}\n"),
            "t.yaml: 2 YAML documents ('---'); a configuration is one");
  EXPECT_EQ(error_of("core: {rows: 010}"),
            "t.yaml: core.rows: '010' has a leading zero (write it without; 0x for hex)");
  EXPECT_EQ(error_of("core: {rows: 08}"),
            "t.yaml: core.rows: '08' has a leading zero (write it without; 0x for hex)");
  EXPECT_EQ(error_of("memory: {fixed: {latency_ns: 050}}"),
            "t.yaml: memory.fixed.latency_ns: '050' has a leading zero (write it without)");
  EXPECT_EQ(app::parse_config("train: {lr: 0.05}", "t.yaml").train.lr, 0.05);
  EXPECT_EQ(app::parse_config("core: {rows: 0x10}", "t.yaml").core.rows, 16u);
  EXPECT_EQ(app::parse_config("gemm: {m: 1e3}", "t.yaml").gemm.m, 1000u);
}

// (Negative whole numbers: Config.WrongTypesAreRejected.)
TEST(StrictConfig, NumbersOutOfRangeAreCalledSo) {
  const std::string beyond_u64 = "99999999999999999999999";
  EXPECT_EQ(error_of("gemm: {m: " + beyond_u64 + "}"),
            "t.yaml: gemm.m: '" + beyond_u64 + "' is out of range (allowed 1..65536)");
  EXPECT_EQ(error_of("gemm: {m: 1e308}"),
            "t.yaml: gemm.m: '1e308' is out of range (allowed 1..65536)");
  EXPECT_EQ(error_of("train: {lr: .nan}"), "t.yaml: train.lr: '.nan' is not a finite number");
  // In range as a double, not as the binary32 the optimizer uses.
  EXPECT_EQ(error_of("train: {lr: 1e-300}"),
            "t.yaml: train.lr: 1e-300 is out of range (allowed (0, 100])");
  EXPECT_EQ(error_of("train: {momentum: -1e-300}"),
            "t.yaml: train.momentum: -1e-300 is out of range (allowed [0, 1))");
  EXPECT_EQ(error_of("train: {momentum: 0.9999999999}"),
            "t.yaml: train.momentum: 1 is out of range (allowed [0, 1))");
  EXPECT_EQ(error_of("train: {optimizer: adam, beta2: 0.9999999999}"),
            "t.yaml: train.beta2: 1 is out of range (allowed [0, 1))");
  EXPECT_EQ(error_of("train: {optimizer: adamw, eps: 0}"),
            "t.yaml: train.eps: 0 is out of range (allowed [1e-30, 1])");
  EXPECT_EQ(error_of("train: {optimizer: adamw, weight_decay: 2}"),
            "t.yaml: train.weight_decay: 2 is out of range (allowed [0, 1])");
}

// Each optimizer's keys belong to it: another's is an error, not ignored.
TEST(StrictConfig, OptimizerKeysBelongToTheirOptimizer) {
  EXPECT_EQ(error_of("train: {optimizer: adam, momentum: 0.9}"),
            "t.yaml: train.momentum: applies to optimizer sgd, not adam (beta1 is its first "
            "moment's decay; 0 or no key with adam)");
  // 0 means off with any optimizer (a config can switch with --set).
  EXPECT_EQ(app::mlp_config(app::parse_config("train: {optimizer: adam, momentum: 0}", "t.yaml"))
                .momentum,
            0.0f);
  EXPECT_EQ(app::parse_config("train: {weight_decay: 0}", "t.yaml").train.weight_decay, 0.0);
  EXPECT_EQ(error_of("train: {beta1: 0.8}"),
            "t.yaml: train.beta1: applies to optimizer adam and adamw, not sgd");
  EXPECT_EQ(error_of("train: {optimizer: sgd, weight_decay: 0.1}"),
            "t.yaml: train.weight_decay: applies to optimizer adam and adamw, not sgd (0 or no key "
            "with sgd)");
  EXPECT_EQ(error_of("train: {optimizer: lamb}"),
            "t.yaml: train.optimizer: 'lamb' is not allowed (allowed sgd, adam, adamw)");
  const app::Config c =
      app::parse_config("train: {optimizer: adamw, beta1: 0.8, weight_decay: 0.01}", "t.yaml");
  const model::MlpConfig m = app::mlp_config(c);
  EXPECT_EQ(m.optimizer, model::Optimizer::kAdamW);
  EXPECT_EQ(m.momentum, 0.0f);  // the sgd default (0.9) does not leak into adam
  EXPECT_EQ(m.beta1, 0.8f);
  EXPECT_EQ(m.beta2, 0.999f);
  EXPECT_EQ(m.weight_decay, 0.01f);
}

TEST(StrictConfig, WrongShapesAreNamed) {
  EXPECT_EQ(error_of("core: {datapath: [int8]}"),
            "t.yaml: core.datapath: must be one value (allowed int8, bf16), not a list");
  EXPECT_EQ(error_of("l2: {replacement: {a: 1}}"),
            "t.yaml: l2.replacement: must be a string, not a mapping");
  EXPECT_EQ(error_of("core: {[rows]: 8}"),
            "t.yaml: core: a key must be a name, not a list or a mapping");
  EXPECT_EQ(error_of("[1, 2]: 3"),
            "t.yaml: <top level>: a key must be a name, not a list or a mapping");
  EXPECT_EQ(error_of("gemm: {m: [1]}"),
            "t.yaml: gemm.m: must be a whole number (allowed 1..65536), not a list");
}

TEST(StrictConfig, LongValuesAreQuotedShort) {
  const std::string big(100000, 'z');
  const std::string e = error_of("core: {datapath: " + big + "}");
  EXPECT_LT(e.size(), 200u) << e.substr(0, 300);
  EXPECT_THAT(e,
              AllOf(StartsWith("t.yaml: core.datapath: 'zzzz"), HasSubstr("(100000 characters)")));
  EXPECT_THAT(error_of("train: {data_dir: " + big + "}"),
              AllOf(StartsWith("t.yaml: train.data_dir: 'zzz"), HasSubstr("longer than 4096")));
}

TEST(StrictConfig, ExtremeClocksAndLatenciesAreRangeErrorsAtLoad) {
  EXPECT_EQ(error_of("interconnect: {clock_mhz: 1e-300}"),
            "t.yaml: interconnect.clock_mhz: 1e-300 is out of range (allowed 1..100000)");
  EXPECT_EQ(error_of("l2: {clock_mhz: 1e-300}"),
            "t.yaml: l2.clock_mhz: 1e-300 is out of range (allowed 1..100000)");
  EXPECT_EQ(error_of("core: {clock_mhz: 1e-300}"),
            "t.yaml: core.clock_mhz: 1e-300 is out of range (allowed [1, 10000])");
  EXPECT_EQ(error_of("memory: {fixed: {latency_ns: 1e300}}"),
            "t.yaml: memory.fixed.latency_ns: 1e+300 is out of range (allowed 0..1e+06)");
  EXPECT_EQ(error_of("memory: {fixed: {bandwidth_gbps: 1e-300}}"),
            "t.yaml: memory.fixed.bandwidth_gbps: 1e-300 is out of range (allowed 0.001..1e+06)");
  EXPECT_EQ(error_of("memory: {dram: {page_policy: lazy}}"),
            "t.yaml: memory.dram.page_policy: unknown DRAM page policy 'lazy' (allowed: open, "
            "closed)");
}

TEST(StrictConfig, ConfigPathMustBeASmallRegularFile) {
  Tmp t;
  EXPECT_THAT([&] { app::load_config(t.path()); },
              ThrowsMessage<app::ConfigError>(HasSubstr("is a folder, not a file")));
  EXPECT_THAT([] { app::load_config("/dev/zero"); },
              ThrowsMessage<app::ConfigError>(HasSubstr("is not a regular file")));
  spit(t / "huge.yaml", std::string(app::kMaxConfigBytes + 1, '#'));
  EXPECT_THAT([&] { app::load_config(t / "huge.yaml"); },
              ThrowsMessage<app::ConfigError>(HasSubstr("more than the 1048576 allowed")));
}

TEST(StrictConfig, WorkloadsMustFitTheMachineAndTheDevice) {
  // 65536^3: A, B and C need 48 GiB of host memory for the golden check.
  const std::string e = error_of("gemm: {m: 65536, k: 65536, n: 65536}");
  const double phys = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (phys / 2 < 48.0 * (1ull << 30)) {
    EXPECT_THAT(e, AllOf(StartsWith("t.yaml: gemm: 65536x65536x65536 needs 49152 MiB of host "
                                    "memory")));
  }
  // The device memory: checked before anything is allocated or simulated.
  const app::Config c =
      app::parse_config("gemm: {m: 4096, k: 4096, n: 4096}\nmemory: {size: 0x4000000}\n", "d.yaml");
  EXPECT_THAT([&] { app::run_job(c); },
              ThrowsMessage<app::ConfigError>(HasSubstr(
                  "d.yaml: gemm: A, B and C need 100663296 bytes of device memory, memory.size "
                  "is 67108864")));
}

}  // namespace
