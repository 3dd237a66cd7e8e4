#include "sasim/fw/functional_device.hpp"

#include <stdexcept>
#include <string>

#include "sasim/isa/isa_generated.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"

namespace sasim::fw {

namespace {

std::string_view opcode_name(std::uint64_t op) {
  switch (op) {
    case static_cast<std::uint64_t>(isa::Opcode::kLoad):
      return "LOAD";
    case static_cast<std::uint64_t>(isa::Opcode::kStore):
      return "STORE";
    case static_cast<std::uint64_t>(isa::Opcode::kGemm):
      return "GEMM";
    case static_cast<std::uint64_t>(isa::Opcode::kVec):
      return "VEC";
    case static_cast<std::uint64_t>(isa::Opcode::kConfig):
      return "CONFIG";
    case static_cast<std::uint64_t>(isa::Opcode::kFinish):
      return "FINISH";
  }
  return "";
}

[[noreturn]] void fail(std::size_t idx, const isa::Instruction& in, std::string_view field,
                       const std::string& what) {
  std::string op(opcode_name(in.get(isa::common::kOpcode)));
  if (op.empty()) op = "?";
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

void check_count(std::size_t idx, const isa::Instruction& in, const isa::Field& f, std::uint64_t v,
                 std::uint64_t max, const char* what) {
  if (v == 0 || v > max) {
    fail(idx, in, f.name,
         std::to_string(v) + " is out of range (allowed 1.." + std::to_string(max) + ", " + what +
             ")");
  }
}

}  // namespace

FunctionalDevice::FunctionalDevice(const DeviceParams& p) : p_(p), w_(p.width()) {
  if (p.rows == 0 || p.cols == 0 || p.spad_rows == 0 || p.acc_rows == 0 || p.dram_bytes == 0) {
    throw std::invalid_argument(
        "FunctionalDevice: rows, cols, spad_rows, acc_rows and "
        "dram_bytes must be at least 1");
  }
  if (w_ > 4095) throw std::invalid_argument("FunctionalDevice: max(rows, cols) beyond 4095");
  spad_.assign(std::size_t{p.spad_rows} * w_, 0);
  acc_.assign(std::size_t{p.acc_rows} * p.cols, 0);
  dram_.assign(p.dram_bytes, 0);
  stationary_.assign(std::size_t{p.rows} * p.cols, 0);
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
  return spad_[std::size_t{row} * w_ + col];
}
std::uint32_t FunctionalDevice::acc(unsigned row, unsigned col) const {
  if (row >= p_.acc_rows || col >= p_.cols) throw std::out_of_range("acc: index out of range");
  return acc_[std::size_t{row} * p_.cols + col];
}
void FunctionalDevice::set_spad(unsigned row, unsigned col, std::uint16_t v) {
  if (row >= p_.spad_rows || col >= w_) throw std::out_of_range("spad: index out of range");
  spad_[std::size_t{row} * w_ + col] = v;
}
void FunctionalDevice::set_acc(unsigned row, unsigned col, std::uint32_t v) {
  if (row >= p_.acc_rows || col >= p_.cols) throw std::out_of_range("acc: index out of range");
  acc_[std::size_t{row} * p_.cols + col] = v;
}

std::size_t FunctionalDevice::run(const std::vector<isa::Instruction>& program) {
  for (std::size_t idx = 0; idx < program.size(); ++idx) {
    const isa::Instruction& in = program[idx];
    const std::uint64_t op = in.get(isa::common::kOpcode);
    switch (op) {
      case static_cast<std::uint64_t>(isa::Opcode::kLoad):
        exec_dma(idx, in, true);
        break;
      case static_cast<std::uint64_t>(isa::Opcode::kStore):
        exec_dma(idx, in, false);
        break;
      case static_cast<std::uint64_t>(isa::Opcode::kGemm):
        exec_gemm(idx, in);
        break;
      case static_cast<std::uint64_t>(isa::Opcode::kVec):
        exec_vec(idx, in);
        break;
      case static_cast<std::uint64_t>(isa::Opcode::kConfig):
        int8_shift_ = static_cast<unsigned>(in.get(isa::config::kInt8Shift));
        break;
      case static_cast<std::uint64_t>(isa::Opcode::kFinish):
        return idx + 1;
      default:
        fail(idx, in, isa::common::kOpcode.name, std::to_string(op) + " is not an opcode");
    }
  }
  throw std::invalid_argument("program of " + std::to_string(program.size()) +
                              " instructions ends without FINISH");
}

void FunctionalDevice::exec_dma(std::size_t idx, const isa::Instruction& in, bool load) {
  const isa::Field& f_sram = load ? isa::load::kSram : isa::store::kSram;
  const isa::Field& f_tr = load ? isa::load::kTranspose : isa::store::kTranspose;
  const isa::Field& f_row = load ? isa::load::kSramRow : isa::store::kSramRow;
  const isa::Field& f_rows = load ? isa::load::kRows : isa::store::kRows;
  const isa::Field& f_cols = load ? isa::load::kCols : isa::store::kCols;
  const isa::Field& f_addr = load ? isa::load::kDramAddr : isa::store::kDramAddr;
  const isa::Field& f_stride = load ? isa::load::kDramStride : isa::store::kDramStride;

  const bool is_acc = in.get(f_sram) == static_cast<std::uint64_t>(isa::Sram::kAcc);
  const bool tr = in.get(f_tr) != 0;
  const std::uint64_t row0 = in.get(f_row);
  const std::uint64_t rows = in.get(f_rows);
  const std::uint64_t cols = in.get(f_cols);
  const std::uint64_t addr = in.get(f_addr);
  const std::uint64_t stride = in.get(f_stride);
  const unsigned width = is_acc ? p_.cols : w_;
  const std::uint64_t cap = is_acc ? p_.acc_rows : p_.spad_rows;
  const unsigned eb = is_acc ? 4u : p_.elem_bytes();
  const char* sram_name = is_acc ? "accumulator" : "scratchpad";

  if (tr) {
    check_count(idx, in, f_rows, rows, width, "transposed: at most the SRAM row width");
    check_count(idx, in, f_cols, cols, 4095, "elements");
    check_rows(idx, in, f_row, row0, cols, cap, sram_name);
  } else {
    check_count(idx, in, f_rows, rows, 4095, "rows");
    check_count(idx, in, f_cols, cols, width, "at most the SRAM row width");
    check_rows(idx, in, f_row, row0, rows, cap, sram_name);
  }
  // Elements are naturally aligned (the RTL DMA never splits one across beats).
  if (addr % eb != 0) {
    fail(idx, in, f_addr.name,
         std::to_string(addr) + " is not a multiple of the element size (" + std::to_string(eb) +
             " bytes)");
  }
  if (stride % eb != 0) {
    fail(idx, in, f_stride.name,
         std::to_string(stride) + " is not a multiple of the element size (" + std::to_string(eb) +
             " bytes)");
  }
  const std::uint64_t last = addr + (rows - 1) * stride + cols * eb;  // one past the last byte
  if (addr < p_.dram_base || last > p_.dram_base + p_.dram_bytes) {
    fail(idx, in, f_addr.name,
         "bytes " + std::to_string(addr) + ".." + std::to_string(last - 1) +
             " are outside the device memory");
  }
  for (std::uint64_t r = 0; r < rows; ++r) {
    for (std::uint64_t c = 0; c < cols; ++c) {
      std::uint8_t* d = dram_.data() + (addr - p_.dram_base + r * stride + c * eb);
      const std::uint64_t sr = tr ? row0 + c : row0 + r;
      const std::uint64_t sc = tr ? r : c;
      if (is_acc) {
        std::uint32_t& s = acc_[sr * p_.cols + sc];
        if (load) {
          s = std::uint32_t{d[0]} | std::uint32_t{d[1]} << 8 | std::uint32_t{d[2]} << 16 |
              std::uint32_t{d[3]} << 24;
        } else {
          for (unsigned b = 0; b < 4; ++b) d[b] = static_cast<std::uint8_t>(s >> (8 * b));
        }
      } else {
        std::uint16_t& s = spad_[sr * w_ + sc];
        if (load) {
          s = eb == 2 ? static_cast<std::uint16_t>(d[0] | d[1] << 8) : d[0];
        } else {
          d[0] = static_cast<std::uint8_t>(s);
          if (eb == 2) d[1] = static_cast<std::uint8_t>(s >> 8);
        }
      }
    }
  }
}

void FunctionalDevice::exec_gemm(std::size_t idx, const isa::Instruction& in) {
  const std::uint64_t df = in.get(isa::gemm::kDataflow);
  const bool reuse = in.get(isa::gemm::kReuse) != 0;
  const bool accumulate = in.get(isa::gemm::kAccumulate) != 0;
  const std::uint64_t pre = in.get(isa::gemm::kPreRow);
  const std::uint64_t in_row = in.get(isa::gemm::kInRow);
  const std::uint64_t b_row = in.get(isa::gemm::kBRow);
  const std::uint64_t len = in.get(isa::gemm::kLen);
  const std::uint64_t acc_row = in.get(isa::gemm::kAccRow);
  const unsigned R = p_.rows, C = p_.cols;
  const model::Datapath dp = p_.datapath;
  check_count(idx, in, isa::gemm::kLen, len, 4095, "streamed vectors");
  check_rows(idx, in, isa::gemm::kInRow, in_row, len, p_.spad_rows, "scratchpad");

  auto write = [&](std::uint64_t row, unsigned c, std::uint32_t v) {
    std::uint32_t& a = acc_[row * C + c];
    a = accumulate ? model::add(dp, a, v) : v;
  };

  if (df == static_cast<std::uint64_t>(isa::Dataflow::kOs)) {
    check_rows(idx, in, isa::gemm::kBRow, b_row, len, p_.spad_rows, "scratchpad");
    check_rows(idx, in, isa::gemm::kAccRow, acc_row, R, p_.acc_rows, "accumulator");
    for (unsigned r = 0; r < R; ++r) {
      for (unsigned c = 0; c < C; ++c) {
        std::uint32_t s = 0;
        for (std::uint64_t k = 0; k < len; ++k) {
          s = model::add(dp, s,
                         model::mul(dp, spad_[(in_row + k) * w_ + r], spad_[(b_row + k) * w_ + c]));
        }
        write(acc_row + r, c, s);
      }
    }
    return;
  }
  if (df != static_cast<std::uint64_t>(isa::Dataflow::kWs) &&
      df != static_cast<std::uint64_t>(isa::Dataflow::kIs)) {
    fail(idx, in, isa::gemm::kDataflow.name, std::to_string(df) + " is not a dataflow");
  }
  check_rows(idx, in, isa::gemm::kAccRow, acc_row, len, p_.acc_rows, "accumulator");
  if (reuse) {
    if (!have_stationary_) fail(idx, in, isa::gemm::kReuse.name, "no stationary operand loaded");
  } else {
    check_rows(idx, in, isa::gemm::kPreRow, pre, R, p_.spad_rows, "scratchpad");
    for (unsigned r = 0; r < R; ++r) {
      for (unsigned c = 0; c < C; ++c) stationary_[r * C + c] = spad_[(pre + r) * w_ + c];
    }
    have_stationary_ = true;
  }
  for (std::uint64_t i = 0; i < len; ++i) {
    const std::uint16_t* a = &spad_[(in_row + i) * w_];
    for (unsigned c = 0; c < C; ++c) {
      std::uint32_t s = 0;
      for (unsigned r = 0; r < R; ++r)
        s = model::add(dp, s, model::mul(dp, a[r], stationary_[r * C + c]));
      write(acc_row + i, c, s);
    }
  }
}

void FunctionalDevice::exec_vec(std::size_t idx, const isa::Instruction& in) {
  const std::uint64_t op = in.get(isa::vec::kOp);
  const bool to_spad = in.get(isa::vec::kDstSram) == static_cast<std::uint64_t>(isa::Sram::kSpad);
  const std::uint64_t src = in.get(isa::vec::kSrcRow);
  const std::uint64_t src2 = in.get(isa::vec::kSrc2Row);
  const std::uint64_t dst = in.get(isa::vec::kDstRow);
  const std::uint64_t rows = in.get(isa::vec::kRows);
  const auto imm = static_cast<std::uint32_t>(in.get(isa::vec::kImm));
  const auto vop = static_cast<isa::VecOp>(op);
  switch (vop) {
    case isa::VecOp::kAddRow:
    case isa::VecOp::kAxpy:
    case isa::VecOp::kCopy:
    case isa::VecOp::kRelu:
    case isa::VecOp::kReluMask:
    case isa::VecOp::kScale:
    case isa::VecOp::kToBf16:
    case isa::VecOp::kToInt8:
      break;
    default:
      fail(idx, in, isa::vec::kOp.name, std::to_string(op) + " is not a vector op");
  }
  const bool uses_src2 =
      vop == isa::VecOp::kAddRow || vop == isa::VecOp::kReluMask || vop == isa::VecOp::kAxpy;
  check_count(idx, in, isa::vec::kRows, rows, 4095, "rows");
  check_rows(idx, in, isa::vec::kSrcRow, src, rows, p_.acc_rows, "accumulator");
  if (uses_src2) check_rows(idx, in, isa::vec::kSrc2Row, src2, rows, p_.acc_rows, "accumulator");
  check_rows(idx, in, isa::vec::kDstRow, dst, rows, to_spad ? p_.spad_rows : p_.acc_rows,
             to_spad ? "scratchpad" : "accumulator");
  const unsigned C = p_.cols;
  const std::uint32_t mask = p_.datapath == model::Datapath::kBf16 ? 0xFFFFu : 0xFFu;
  std::vector<std::uint32_t> y(C);
  for (std::uint64_t i = 0; i < rows; ++i) {
    for (unsigned c = 0; c < C; ++c) {
      const std::uint32_t b = uses_src2 ? acc_[(src2 + i) * C + c] : 0;
      y[c] = model::vec_lane(p_.datapath, vop, acc_[(src + i) * C + c], b, imm, int8_shift_);
    }
    for (unsigned c = 0; c < C; ++c) {
      if (to_spad) {
        spad_[(dst + i) * w_ + c] = static_cast<std::uint16_t>(y[c] & mask);
      } else {
        acc_[(dst + i) * C + c] = y[c];
      }
    }
  }
}

}  // namespace sasim::fw
