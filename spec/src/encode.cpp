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

// Every argument into its field (set_arg checks the range).
struct Encoder {
  Instruction& i;
  template <typename T>
  void operator()(const Field& f, const T& v) const {
    i.set_arg(f, static_cast<std::uint64_t>(v));
  }
};

// Every field into its argument, converted to the argument's type.
struct Decoder {
  const Instruction& i;
  template <typename T>
  void operator()(const Field& f, T& v) const {
    v = static_cast<T>(i.get(f));
  }
};

}  // namespace

Instruction encode_dma(Opcode op, const DmaArgs& a, const Deps& d) {
  if (queue_of(op) != Queue::kLoad && queue_of(op) != Queue::kStore)
    throw std::invalid_argument("encode_dma: " + std::string(to_string(op)) + " is not a DMA");
  Instruction i = start(op, d);
  visit_dma(a, Encoder{i});
  return i;
}

Instruction encode_gemm(const GemmArgs& a, const Deps& d) {
  Instruction i = start(Opcode::kGemm, d);
  visit_gemm(a, Encoder{i});
  return i;
}

Instruction encode_vec(const VecArgs& a, const Deps& d) {
  Instruction i = start(Opcode::kVec, d);
  visit_vec(a, Encoder{i});
  return i;
}

Instruction encode_config(unsigned int8_shift, const Deps& d) {
  return start(Opcode::kConfig, d).set_arg(config::kInt8Shift, int8_shift);
}

Instruction encode_sync() { return start(Opcode::kSync, {}); }

Instruction encode_finish(const Deps& d) { return start(Opcode::kFinish, d); }

DmaArgs decode_dma(const Instruction& i) {
  DmaArgs a;
  visit_dma(a, Decoder{i});
  return a;
}

GemmArgs decode_gemm(const Instruction& i) {
  GemmArgs a;
  visit_gemm(a, Decoder{i});
  return a;
}

VecArgs decode_vec(const Instruction& i) {
  VecArgs a;
  visit_vec(a, Decoder{i});
  return a;
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
