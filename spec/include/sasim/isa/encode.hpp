// Encoder of sasim instructions (the decoder is rtl/sa_decode.sv and the
// per-unit decoders; both use the tables generated from spec/contract.json).
// Every encoder checks its arguments and throws std::out_of_range naming the
// field and the allowed range.
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/isa/field.hpp"
#include "sasim/spec/contract.hpp"

namespace sasim::isa {

// Dependency tokens between the LOAD, EXEC and STORE queues (docs/device.md).
struct Deps {
  bool pop_prev = false;
  bool pop_next = false;
  bool push_prev = false;
  bool push_next = false;
};

struct DmaArgs {  // LOAD (memory -> SRAM) and STORE (SRAM -> memory): format DMA
  Sram sram = Sram::kSpad;
  bool transpose = false;
  std::uint32_t sram_row = 0;
  std::uint32_t rows = 1;  // 1..kMaxCount
  std::uint32_t cols = 1;  // elements per row, 1..kMaxCount
  std::uint64_t dram_addr = 0;
  std::uint64_t dram_stride = 0;  // bytes
};

struct GemmArgs {
  Dataflow dataflow = Dataflow::kWs;
  bool reuse = false;
  bool accumulate = false;
  std::uint32_t pre_row = 0;
  std::uint32_t in_row = 0;
  std::uint32_t b_row = 0;
  std::uint32_t len = 1;  // 1..kMaxCount
  std::uint32_t acc_row = 0;
};

struct VecArgs {
  VecOp op = VecOp::kCopy;
  Sram dst_sram = Sram::kAcc;
  std::uint32_t src_row = 0;
  std::uint32_t src2_row = 0;
  std::uint32_t dst_row = 0;
  std::uint32_t rows = 1;  // 1..kMaxCount
  std::uint32_t imm = 0;   // fp32 or int32 bits
};

// op is LOAD or STORE (std::invalid_argument otherwise).
Instruction encode_dma(Opcode op, const DmaArgs& a, const Deps& d = {});
inline Instruction encode_load(const DmaArgs& a, const Deps& d = {}) {
  return encode_dma(Opcode::kLoad, a, d);
}
inline Instruction encode_store(const DmaArgs& a, const Deps& d = {}) {
  return encode_dma(Opcode::kStore, a, d);
}
Instruction encode_gemm(const GemmArgs& a, const Deps& d = {});
Instruction encode_vec(const VecArgs& a, const Deps& d = {});
Instruction encode_config(unsigned int8_shift, const Deps& d = {});
// SYNC: the barrier (docs/multicore.md); it carries no flags.
Instruction encode_sync();
Instruction encode_finish(const Deps& d = {});

// The arguments of an instruction word of that format (the inverse of the
// encoders). Enumerated fields are converted without a check: a value
// outside its enumeration is for the executing unit to reject.
DmaArgs decode_dma(const Instruction& i);
GemmArgs decode_gemm(const Instruction& i);
VecArgs decode_vec(const Instruction& i);

// The opcode of an instruction word; throws std::invalid_argument for an
// opcode that is not in the ISA.
Opcode opcode_of(const Instruction& insn);

// A program as it lies in device memory: 16 bytes per instruction, little
// endian, words[0] first (what the core fetches).
std::vector<std::uint8_t> program_bytes(const std::vector<Instruction>& program);

}  // namespace sasim::isa
