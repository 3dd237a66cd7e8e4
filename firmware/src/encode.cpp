#include "sasim/isa/encode.hpp"

#include <stdexcept>
#include <string>

namespace sasim::isa {

namespace {

Instruction start(Opcode op, const Deps& d) {
  Instruction i;
  i.set(common::kOpcode, static_cast<std::uint64_t>(op))
      .set(common::kPopPrev, d.pop_prev)
      .set(common::kPopNext, d.pop_next)
      .set(common::kPushPrev, d.push_prev)
      .set(common::kPushNext, d.push_next);
  return i;
}

// Counts (rows, lengths) are at least 1; the upper bound is the field's.
void set_count(Instruction& i, const Field& f, std::uint64_t v) {
  if (v == 0) {
    throw std::out_of_range("instruction field " + std::string(f.name) +
                            ": 0 is out of range (allowed 1.." + std::to_string(f.max()) + ")");
  }
  i.set(f, v);
}

template <typename F>
Instruction encode_dma(Opcode op, const DmaArgs& a, const Deps& d) {
  Instruction i = start(op, d);
  i.set(F::kSram, static_cast<std::uint64_t>(a.sram))
      .set(F::kTranspose, a.transpose)
      .set(F::kSramRow, a.sram_row)
      .set(F::kDramAddr, a.dram_addr)
      .set(F::kDramStride, a.dram_stride);
  set_count(i, F::kRows, a.rows);
  set_count(i, F::kCols, a.cols);
  return i;
}

struct LoadFields {
  static constexpr const Field& kSram = load::kSram;
  static constexpr const Field& kTranspose = load::kTranspose;
  static constexpr const Field& kSramRow = load::kSramRow;
  static constexpr const Field& kRows = load::kRows;
  static constexpr const Field& kCols = load::kCols;
  static constexpr const Field& kDramAddr = load::kDramAddr;
  static constexpr const Field& kDramStride = load::kDramStride;
};
struct StoreFields {
  static constexpr const Field& kSram = store::kSram;
  static constexpr const Field& kTranspose = store::kTranspose;
  static constexpr const Field& kSramRow = store::kSramRow;
  static constexpr const Field& kRows = store::kRows;
  static constexpr const Field& kCols = store::kCols;
  static constexpr const Field& kDramAddr = store::kDramAddr;
  static constexpr const Field& kDramStride = store::kDramStride;
};

}  // namespace

Instruction encode_load(const DmaArgs& a, const Deps& d) {
  return encode_dma<LoadFields>(Opcode::kLoad, a, d);
}

Instruction encode_store(const DmaArgs& a, const Deps& d) {
  return encode_dma<StoreFields>(Opcode::kStore, a, d);
}

Instruction encode_gemm(const GemmArgs& a, const Deps& d) {
  Instruction i = start(Opcode::kGemm, d);
  i.set(gemm::kDataflow, static_cast<std::uint64_t>(a.dataflow))
      .set(gemm::kReuse, a.reuse)
      .set(gemm::kAccumulate, a.accumulate)
      .set(gemm::kPreRow, a.pre_row)
      .set(gemm::kInRow, a.in_row)
      .set(gemm::kBRow, a.b_row)
      .set(gemm::kAccRow, a.acc_row);
  set_count(i, gemm::kLen, a.len);
  return i;
}

Instruction encode_vec(const VecArgs& a, const Deps& d) {
  Instruction i = start(Opcode::kVec, d);
  i.set(vec::kOp, static_cast<std::uint64_t>(a.op))
      .set(vec::kDstSram, static_cast<std::uint64_t>(a.dst_sram))
      .set(vec::kSrcRow, a.src_row)
      .set(vec::kSrc2Row, a.src2_row)
      .set(vec::kDstRow, a.dst_row)
      .set(vec::kImm, a.imm);
  set_count(i, vec::kRows, a.rows);
  return i;
}

Instruction encode_config(unsigned int8_shift, const Deps& d) {
  return start(Opcode::kConfig, d).set(config::kInt8Shift, int8_shift);
}

Instruction encode_finish(const Deps& d) { return start(Opcode::kFinish, d); }

Opcode opcode_of(const Instruction& insn) {
  const auto v = insn.get(common::kOpcode);
  switch (static_cast<Opcode>(v)) {
    case Opcode::kLoad:
    case Opcode::kStore:
    case Opcode::kGemm:
    case Opcode::kVec:
    case Opcode::kConfig:
    case Opcode::kFinish:
      return static_cast<Opcode>(v);
  }
  throw std::invalid_argument("illegal opcode " + std::to_string(v));
}

std::vector<std::uint8_t> program_bytes(const std::vector<Instruction>& program) {
  std::vector<std::uint8_t> bytes(program.size() * 16);
  for (std::size_t i = 0; i < program.size(); ++i)
    for (unsigned w = 0; w < 2; ++w)
      for (unsigned b = 0; b < 8; ++b)
        bytes[i * 16 + w * 8 + b] = static_cast<std::uint8_t>(program[i].words[w] >> (8 * b));
  return bytes;
}

}  // namespace sasim::isa
