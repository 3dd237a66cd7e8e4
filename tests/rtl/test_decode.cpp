// The RTL decoder agrees with the C++ encoder on every opcode: both come from
// spec/contract.json, and this test closes the loop through the verilated
// sa_decode.
#include <gtest/gtest.h>
#include <verilated.h>

#include <memory>
#include <random>

#include "Vsa_decode.h"
#include "sasim/isa/encode.hpp"
#include "support/rtl_unit.hpp"

namespace {

namespace isa = sasim::isa;

// The RTL's queue_o encoding, from the contract (sa_isa_pkg::queue_e).
constexpr unsigned q(isa::Queue x) { return static_cast<unsigned>(x); }
constexpr unsigned kLoad = q(isa::Queue::kLoad), kExec = q(isa::Queue::kExec),
                   kStore = q(isa::Queue::kStore), kCtrl = q(isa::Queue::kCtrl);

struct Decoded {
  bool illegal;
  int queue;
  bool pop_prev, pop_next, push_prev, push_next;
};

class Decoder {
 public:
  Decoded decode(const isa::Instruction& i) {
    for (int w = 0; w < 4; ++w)
      top_->insn_i[w] = static_cast<std::uint32_t>(i.words[w / 2] >> (32 * (w % 2)));
    top_->eval();
    return {top_->illegal_o != 0,  top_->queue_o,          top_->pop_prev_o != 0,
            top_->pop_next_o != 0, top_->push_prev_o != 0, top_->push_next_o != 0};
  }

 private:
  sasim::test::RtlUnit<Vsa_decode> unit_;
  Vsa_decode* const top_ = unit_.top.get();
};

TEST(Decode, EveryOpcodeGoesToItsQueueWithItsDependencyFlags) {
  Decoder dec;
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const isa::Deps d{(rng() & 1) != 0, (rng() & 1) != 0, (rng() & 1) != 0, (rng() & 1) != 0};
    const struct {
      isa::Instruction insn;
      int queue;
    } cases[] = {
        {isa::encode_load({isa::Sram::kSpad, false, 5, 3, 16, rng() & 0xFFFFFFFFFFu, 64}, d),
         kLoad},
        {isa::encode_store({isa::Sram::kAcc, true, 9, 1, 8, 0x1000, 0}, d), kStore},
        {isa::encode_gemm({isa::Dataflow::kOs, false, true, 0, 16, 32,
                           static_cast<std::uint32_t>(1 + rng() % 4095), 0},
                          d),
         kExec},
        {isa::encode_vec(
             {isa::VecOp::kRelu, isa::Sram::kAcc, 0, 0, 0, 2, static_cast<std::uint32_t>(rng())},
             d),
         kExec},
        {isa::encode_config(3, d), kExec},
        {isa::encode_finish(d), kCtrl},
    };
    for (const auto& c : cases) {
      const Decoded r = dec.decode(c.insn);
      EXPECT_FALSE(r.illegal) << isa::to_string(isa::opcode_of(c.insn));
      EXPECT_EQ(r.queue, c.queue) << isa::to_string(isa::opcode_of(c.insn));
      // The contract's opcode -> queue, as the C++ tables have it.
      EXPECT_EQ(r.queue, static_cast<unsigned>(isa::queue_of(isa::opcode_of(c.insn))));
      EXPECT_EQ(r.pop_prev, d.pop_prev);
      EXPECT_EQ(r.pop_next, d.pop_next);
      EXPECT_EQ(r.push_prev, d.push_prev);
      EXPECT_EQ(r.push_next, d.push_next);
    }
  }
}

TEST(Decode, OpcodesOutsideTheIsaAreIllegal) {
  Decoder dec;
  unsigned illegal = 0;
  for (std::uint64_t op = 0; op < 16; ++op) {
    isa::Instruction i;
    i.set(isa::common::kOpcode, op);
    // The contract's opcodes (LOAD..SYNC, FINISH) decode; 0 and the gaps do not.
    EXPECT_EQ(dec.decode(i).illegal, !isa::opcode_from(op).has_value()) << "opcode " << op;
    illegal += dec.decode(i).illegal;
  }
  EXPECT_EQ(illegal, 16u - isa::kOpcodes.size());
}

// Enumerated operand fields outside their enumeration are illegal too.
TEST(Decode, OperandValuesOutsideTheirEnumerationAreIllegal) {
  Decoder dec;
  isa::Instruction gemm = isa::encode_gemm({});
  EXPECT_FALSE(dec.decode(gemm).illegal);
  gemm.set(isa::gemm::kDataflow, 3);  // ws=0, os=1, is=2
  EXPECT_TRUE(dec.decode(gemm).illegal);
  for (std::uint64_t op = 0; op < 16; ++op) {
    isa::Instruction vec = isa::encode_vec({});
    vec.set(isa::vec::kOp, op);
    EXPECT_EQ(dec.decode(vec).illegal, op > 11) << "vec op " << op;
  }
}

}  // namespace
