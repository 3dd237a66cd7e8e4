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

}  // namespace

Instruction encode_dma(Opcode op, const DmaArgs& a, const Deps& d) {
  if (queue_of(op) != Queue::kLoad && queue_of(op) != Queue::kStore)
    throw std::invalid_argument("encode_dma: " + std::string(to_string(op)) + " is not a DMA");
  Instruction i = start(op, d);
  return i.set_arg(dma::kSram, static_cast<std::uint64_t>(a.sram))
      .set_arg(dma::kTranspose, a.transpose)
      .set_arg(dma::kSramRow, a.sram_row)
      .set_arg(dma::kDramAddr, a.dram_addr)
      .set_arg(dma::kDramStride, a.dram_stride)
      .set_arg(dma::kRows, a.rows)
      .set_arg(dma::kCols, a.cols);
}

Instruction encode_gemm(const GemmArgs& a, const Deps& d) {
  Instruction i = start(Opcode::kGemm, d);
  i.set_arg(gemm::kDataflow, static_cast<std::uint64_t>(a.dataflow))
      .set_arg(gemm::kReuse, a.reuse)
      .set_arg(gemm::kAccumulate, a.accumulate)
      .set_arg(gemm::kPreRow, a.pre_row)
      .set_arg(gemm::kInRow, a.in_row)
      .set_arg(gemm::kBRow, a.b_row)
      .set_arg(gemm::kAccRow, a.acc_row)
      .set_arg(gemm::kLen, a.len);
  return i;
}

Instruction encode_vec(const VecArgs& a, const Deps& d) {
  Instruction i = start(Opcode::kVec, d);
  i.set_arg(vec::kOp, static_cast<std::uint64_t>(a.op))
      .set_arg(vec::kDstSram, static_cast<std::uint64_t>(a.dst_sram))
      .set_arg(vec::kSrcRow, a.src_row)
      .set_arg(vec::kSrc2Row, a.src2_row)
      .set_arg(vec::kDstRow, a.dst_row)
      .set_arg(vec::kImm, a.imm)
      .set_arg(vec::kRows, a.rows);
  return i;
}

Instruction encode_config(unsigned int8_shift, const Deps& d) {
  return start(Opcode::kConfig, d).set_arg(config::kInt8Shift, int8_shift);
}

Instruction encode_finish(const Deps& d) { return start(Opcode::kFinish, d); }

namespace {
template <typename T>
T field(const Instruction& i, const Field& f) {
  return static_cast<T>(i.get(f));
}
}  // namespace

DmaArgs decode_dma(const Instruction& i) {
  return {field<Sram>(i, dma::kSram),
          i.get(dma::kTranspose) != 0,
          field<std::uint32_t>(i, dma::kSramRow),
          field<std::uint32_t>(i, dma::kRows),
          field<std::uint32_t>(i, dma::kCols),
          i.get(dma::kDramAddr),
          i.get(dma::kDramStride)};
}

GemmArgs decode_gemm(const Instruction& i) {
  return {field<Dataflow>(i, gemm::kDataflow),   i.get(gemm::kReuse) != 0,
          i.get(gemm::kAccumulate) != 0,         field<std::uint32_t>(i, gemm::kPreRow),
          field<std::uint32_t>(i, gemm::kInRow), field<std::uint32_t>(i, gemm::kBRow),
          field<std::uint32_t>(i, gemm::kLen),   field<std::uint32_t>(i, gemm::kAccRow)};
}

VecArgs decode_vec(const Instruction& i) {
  return {field<VecOp>(i, vec::kOp),
          field<Sram>(i, vec::kDstSram),
          field<std::uint32_t>(i, vec::kSrcRow),
          field<std::uint32_t>(i, vec::kSrc2Row),
          field<std::uint32_t>(i, vec::kDstRow),
          field<std::uint32_t>(i, vec::kRows),
          field<std::uint32_t>(i, vec::kImm)};
}

Opcode opcode_of(const Instruction& insn) {
  const auto v = insn.get(common::kOpcode);
  if (const auto op = opcode_from(v)) return *op;
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
