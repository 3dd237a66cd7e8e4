#include "sasim/model/functional_device.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "sasim/isa/encode.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"

namespace sasim::model {

namespace {

[[noreturn]] void fail(std::size_t idx, const isa::Instruction& in, std::string_view field,
                       const std::string& what) {
  const auto code = isa::opcode_from(in.get(isa::common::kOpcode));
  const std::string op(code ? isa::to_string(*code) : "?");
  throw std::invalid_argument("instruction " + std::to_string(idx) + " (" + op +
                              "): " + std::string(field) + ": " + what);
}

// [first, first + n) within [0, cap)?
void check_rows(std::size_t idx, const isa::Instruction& in, const isa::Field& f,
                std::uint64_t first, std::uint64_t n, std::uint64_t cap, const char* what) {
  if (first + n > cap) {
    fail(idx, in, f.name,
         "rows " + std::to_string(first) + ".." + std::to_string(first + n - 1) +
             " are beyond the " + what + " (" + std::to_string(cap) + " rows)");
  }
}

// A count field in 1..max (max: the field's own limit unless an SRAM row is narrower).
void check_count(std::size_t idx, const isa::Instruction& in, const isa::Field& f, std::uint64_t v,
                 std::uint64_t max, const char* what) {
  if (v == 0 || v > max) {
    fail(idx, in, f.name,
         std::to_string(v) + " is out of range (allowed 1.." + std::to_string(max) + ", " + what +
             ")");
  }
}

}  // namespace

namespace {
const spec::DeviceSpec& validated(const spec::DeviceSpec& p) {
  spec::validate(p);
  return p;
}
}  // namespace

FunctionalDevice::FunctionalDevice(const spec::DeviceSpec& p, unsigned cores)
    : p_(validated(p)), w_(p.width()) {
  if (cores == 0) throw std::invalid_argument("FunctionalDevice: no cores");
  cores_.assign(cores, CoreSram(p));
  dram_.assign(p.dram_bytes, 0);
}

void FunctionalDevice::write_dram(std::uint64_t addr, const std::vector<std::uint8_t>& bytes) {
  if (addr < p_.dram_base || addr - p_.dram_base > p_.dram_bytes ||
      bytes.size() > p_.dram_bytes - (addr - p_.dram_base)) {
    throw std::invalid_argument("write_dram: bytes outside the device memory");
  }
  std::copy(bytes.begin(), bytes.end(), dram_.begin() + (addr - p_.dram_base));
}

std::vector<std::uint8_t> FunctionalDevice::read_dram(std::uint64_t addr, std::uint64_t len) const {
  if (addr < p_.dram_base || addr - p_.dram_base > p_.dram_bytes ||
      len > p_.dram_bytes - (addr - p_.dram_base)) {
    throw std::invalid_argument("read_dram: bytes outside the device memory");
  }
  const auto b = dram_.begin() + static_cast<std::ptrdiff_t>(addr - p_.dram_base);
  return {b, b + static_cast<std::ptrdiff_t>(len)};
}

std::uint16_t FunctionalDevice::spad(unsigned row, unsigned col) const {
  if (row >= p_.spad_rows || col >= w_) throw std::out_of_range("spad: index out of range");
  return s().spad[std::size_t{row} * w_ + col];
}
std::uint32_t FunctionalDevice::acc(unsigned row, unsigned col) const {
  if (row >= p_.acc_rows || col >= p_.cols) throw std::out_of_range("acc: index out of range");
  return s().acc[std::size_t{row} * p_.cols + col];
}
void FunctionalDevice::set_spad(unsigned row, unsigned col, std::uint16_t v) {
  if (row >= p_.spad_rows || col >= w_) throw std::out_of_range("spad: index out of range");
  s().spad[std::size_t{row} * w_ + col] = v;
}
void FunctionalDevice::set_acc(unsigned row, unsigned col, std::uint32_t v) {
  if (row >= p_.acc_rows || col >= p_.cols) throw std::out_of_range("acc: index out of range");
  s().acc[std::size_t{row} * p_.cols + col] = v;
}

namespace {
spec::Counters functional_counters(const FunctionalDevice::Counts& n) {
  spec::Counters c;
  for (std::size_t i = 0; i < spec::kCounters.size(); ++i)
    if (spec::kCounters[i].functional)
      c.set(spec::counter_name(static_cast<spec::CounterId>(i)), n[i]);
  return c;
}
}  // namespace

spec::Counters FunctionalDevice::run(const std::vector<isa::Instruction>& program) {
  Counts n{};
  cur_ = 0;
  bool finished = false;
  for (std::size_t pc = 0; !finished;) pc = run_to_sync(program, pc, n, finished);
  return functional_counters(n);
}

std::vector<spec::Counters> FunctionalDevice::run_all(
    const std::vector<std::vector<isa::Instruction>>& programs) {
  const std::size_t cores = programs.size();
  if (cores == 0 || cores > cores_.size())
    throw std::invalid_argument(std::to_string(cores) + " programs for a device of " +
                                std::to_string(cores_.size()) + " cores");
  std::vector<Counts> n(cores, Counts{});
  std::vector<std::size_t> pc(cores, 0);
  std::vector<char> finished(cores, 0);
  // Phase k: every core from its k-th SYNC to its next SYNC or FINISH, in core order.
  for (std::uint64_t phase = 0;; ++phase) {
    for (std::size_t c = 0; c < cores; ++c) {
      cur_ = static_cast<unsigned>(c);
      try {
        bool fin = false;
        pc[c] = run_to_sync(programs[c], pc[c], n[c], fin);
        finished[c] = fin;
      } catch (const std::invalid_argument& e) {
        cur_ = 0;
        throw std::invalid_argument("core " + std::to_string(c) + ": " + e.what());
      }
    }
    cur_ = 0;
    const auto done = static_cast<std::size_t>(std::count(finished.begin(), finished.end(), 1));
    if (done == cores) break;
    if (done != 0) {
      const std::size_t f = static_cast<std::size_t>(
          std::find(finished.begin(), finished.end(), 1) - finished.begin());
      const std::size_t w = static_cast<std::size_t>(
          std::find(finished.begin(), finished.end(), 0) - finished.begin());
      throw std::invalid_argument("core " + std::to_string(w) + " reached SYNC #" +
                                  std::to_string(phase + 1) + " but core " + std::to_string(f) +
                                  " finished after " + std::to_string(phase) +
                                  " SYNCs: the barrier can never complete");
    }
  }
  std::vector<spec::Counters> out;
  for (const Counts& c : n) out.push_back(functional_counters(c));
  return out;
}

std::size_t FunctionalDevice::run_to_sync(const std::vector<isa::Instruction>& program,
                                          std::size_t from, Counts& n, bool& finished) {
  auto count = [&](spec::CounterId id, std::uint64_t v) { n[static_cast<std::size_t>(id)] += v; };
  for (std::size_t idx = from; idx < program.size(); ++idx) {
    const isa::Instruction& in = program[idx];
    const std::uint64_t code = in.get(isa::common::kOpcode);
    const auto op = isa::opcode_from(code);
    if (!op) fail(idx, in, isa::common::kOpcode.name, std::to_string(code) + " is not an opcode");
    switch (*op) {
      case isa::Opcode::kLoad:
      case isa::Opcode::kStore:
        exec_dma(idx, in, *op == isa::Opcode::kLoad);
        break;
      case isa::Opcode::kGemm:
        count(spec::CounterId::kArraySteps, exec_gemm(idx, in));
        break;
      case isa::Opcode::kVec:
        count(spec::CounterId::kVecRows, exec_vec(idx, in));
        break;
      case isa::Opcode::kConfig:
        s().int8_shift = static_cast<unsigned>(in.get(isa::config::kInt8Shift));
        break;
      case isa::Opcode::kSync:
      case isa::Opcode::kFinish:
        break;
    }
    count(spec::insn_counter(isa::queue_of(*op)), 1);
    if (*op == isa::Opcode::kSync) return idx + 1;
    if (*op == isa::Opcode::kFinish) {
      finished = true;
      return idx + 1;
    }
  }
  throw std::invalid_argument("program of " + std::to_string(program.size()) +
                              " instructions ends without FINISH");
}

void FunctionalDevice::exec_dma(std::size_t idx, const isa::Instruction& in, bool load) {
  namespace f = isa::dma;

  const isa::DmaArgs d = isa::decode_dma(in);
  const bool is_acc = d.sram == isa::Sram::kAcc;
  const bool tr = d.transpose;
  const std::uint64_t row0 = d.sram_row, rows = d.rows, cols = d.cols;
  const std::uint64_t addr = d.dram_addr, stride = d.dram_stride;
  const unsigned width = is_acc ? p_.cols : w_;
  const std::uint64_t cap = is_acc ? p_.acc_rows : p_.spad_rows;
  const unsigned eb = is_acc ? 4u : p_.elem_bytes();
  const char* sram_name = is_acc ? "accumulator" : "scratchpad";

  if (tr) {
    check_count(idx, in, f::kRows, rows, width, "transposed: at most the SRAM row width");
    check_count(idx, in, f::kCols, cols, f::kCols.max(), "elements");
    check_rows(idx, in, f::kSramRow, row0, cols, cap, sram_name);
  } else {
    check_count(idx, in, f::kRows, rows, f::kRows.max(), "rows");
    check_count(idx, in, f::kCols, cols, width, "at most the SRAM row width");
    check_rows(idx, in, f::kSramRow, row0, rows, cap, sram_name);
  }
  // Elements are naturally aligned (the RTL DMA never splits one across beats).
  if (addr % eb != 0) {
    fail(idx, in, f::kDramAddr.name,
         std::to_string(addr) + " is not a multiple of the element size (" + std::to_string(eb) +
             " bytes)");
  }
  if (stride % eb != 0) {
    fail(idx, in, f::kDramStride.name,
         std::to_string(stride) + " is not a multiple of the element size (" + std::to_string(eb) +
             " bytes)");
  }
  const std::uint64_t last = addr + (rows - 1) * stride + cols * eb;  // one past the last byte
  if (addr < p_.dram_base || last > p_.dram_base + p_.dram_bytes) {
    fail(idx, in, f::kDramAddr.name,
         "bytes " + std::to_string(addr) + ".." + std::to_string(last - 1) +
             " are outside the device memory");
  }
  for (std::uint64_t r = 0; r < rows; ++r) {
    for (std::uint64_t c = 0; c < cols; ++c) {
      std::uint8_t* m = dram_.data() + (addr - p_.dram_base + r * stride + c * eb);
      const std::uint64_t sr = tr ? row0 + c : row0 + r;
      const std::uint64_t sc = tr ? r : c;
      if (is_acc) {
        std::uint32_t& s = cores_[cur_].acc[sr * p_.cols + sc];
        if (load) {
          s = std::uint32_t{m[0]} | std::uint32_t{m[1]} << 8 | std::uint32_t{m[2]} << 16 |
              std::uint32_t{m[3]} << 24;
        } else {
          for (unsigned b = 0; b < 4; ++b) m[b] = static_cast<std::uint8_t>(s >> (8 * b));
        }
      } else {
        std::uint16_t& s = cores_[cur_].spad[sr * w_ + sc];
        if (load) {
          s = eb == 2 ? static_cast<std::uint16_t>(m[0] | m[1] << 8) : m[0];
        } else {
          m[0] = static_cast<std::uint8_t>(s);
          if (eb == 2) m[1] = static_cast<std::uint8_t>(s >> 8);
        }
      }
    }
  }
}

std::uint64_t FunctionalDevice::exec_gemm(std::size_t idx, const isa::Instruction& in) {
  const isa::GemmArgs g = isa::decode_gemm(in);
  const auto df = static_cast<std::uint64_t>(g.dataflow);
  const bool reuse = g.reuse, accumulate = g.accumulate;
  const std::uint64_t pre = g.pre_row, in_row = g.in_row, b_row = g.b_row, len = g.len,
                      acc_row = g.acc_row;
  const unsigned R = p_.rows;
  check_count(idx, in, isa::gemm::kLen, len, isa::gemm::kLen.max(), "streamed vectors");
  check_rows(idx, in, isa::gemm::kInRow, in_row, len, p_.spad_rows, "scratchpad");

  if (df == static_cast<std::uint64_t>(isa::Dataflow::kOs)) {
    check_rows(idx, in, isa::gemm::kBRow, b_row, len, p_.spad_rows, "scratchpad");
    check_rows(idx, in, isa::gemm::kAccRow, acc_row, R, p_.acc_rows, "accumulator");
    s().gemm_os(in_row, b_row, len, acc_row, accumulate);
    return len;
  }
  if (df != static_cast<std::uint64_t>(isa::Dataflow::kWs) &&
      df != static_cast<std::uint64_t>(isa::Dataflow::kIs)) {
    fail(idx, in, isa::gemm::kDataflow.name, std::to_string(df) + " is not a dataflow");
  }
  check_rows(idx, in, isa::gemm::kAccRow, acc_row, len, p_.acc_rows, "accumulator");
  if (reuse) {
    if (!s().have_stationary) fail(idx, in, isa::gemm::kReuse.name, "no stationary operand loaded");
  } else {
    check_rows(idx, in, isa::gemm::kPreRow, pre, R, p_.spad_rows, "scratchpad");
    s().preload(pre);
  }
  s().gemm_stream(in_row, len, acc_row, accumulate);
  return len;
}

std::uint64_t FunctionalDevice::exec_vec(std::size_t idx, const isa::Instruction& in) {
  const isa::VecArgs v = isa::decode_vec(in);
  const auto op = static_cast<std::uint64_t>(v.op);
  const bool to_spad = v.dst_sram == isa::Sram::kSpad;
  const std::uint64_t src = v.src_row, src2 = v.src2_row, dst = v.dst_row, rows = v.rows;
  const std::uint32_t imm = v.imm;
  const auto vop_of = isa::vec_op_from(op);
  if (!vop_of) fail(idx, in, isa::vec::kOp.name, std::to_string(op) + " is not a vector op");
  const isa::VecOp vop = *vop_of;
  const bool uses_src2 = isa::reads_src2(vop);
  check_count(idx, in, isa::vec::kRows, rows, isa::vec::kRows.max(), "rows");
  check_rows(idx, in, isa::vec::kSrcRow, src, rows, p_.acc_rows, "accumulator");
  if (uses_src2) check_rows(idx, in, isa::vec::kSrc2Row, src2, rows, p_.acc_rows, "accumulator");
  check_rows(idx, in, isa::vec::kDstRow, dst, rows, to_spad ? p_.spad_rows : p_.acc_rows,
             to_spad ? "scratchpad" : "accumulator");
  s().vec(vop, to_spad, src, src2, dst, rows, imm);
  return rows;
}

}  // namespace sasim::model
