// sa_mpram (the scratchpad's multi-ported SRAM) against an array model:
// registered reads on every read port, per-lane write masks on both write
// ports (port 1 over port 0 where both write a lane of one row), read-first
// on a same-row read and write, data held until the next read, address-range
// assertions.
#include <gtest/gtest.h>
#include <verilated.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "Vsa_mpram.h"
#include "support/rtl_unit.hpp"

namespace {

// As verilated in rtl/CMakeLists.txt.
constexpr unsigned kWords = 48, kLanes = 4, kRd = 2, kAddrW = 6;
using Word = std::array<std::uint32_t, kLanes>;

struct Ram {
  sasim::test::RtlUnit<Vsa_mpram> unit{"TOP", /*fatal=*/false};
  Vsa_mpram* const top = unit.top.get();
  VerilatedContext* const ctx = unit.ctx.get();
  Ram() {
    top->rd_en_i = 0;
    top->wr_en_i = 0;
    unit.reset();
  }
  void cycle() {
    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
  }
  void set_read(unsigned p, bool en, unsigned addr) {
    top->rd_en_i = (top->rd_en_i & ~(1u << p)) | (unsigned{en} << p);
    const unsigned sh = p * kAddrW;
    top->rd_addr_i = (top->rd_addr_i & ~(((1u << kAddrW) - 1) << sh)) | (addr << sh);
  }
  void set_write(unsigned p, bool en, unsigned addr, unsigned mask, const Word& d) {
    top->wr_en_i = (top->wr_en_i & ~(1u << p)) | (unsigned{en} << p);
    const unsigned sh = p * kAddrW;
    top->wr_addr_i = (top->wr_addr_i & ~(((1u << kAddrW) - 1) << sh)) | (addr << sh);
    top->wr_mask_i = (top->wr_mask_i & ~(0xFu << (4 * p))) | (mask << (4 * p));
    for (unsigned l = 0; l < kLanes; ++l) top->wr_data_i[p * kLanes + l] = d[l];
  }
  Word read_data(unsigned p) const {
    Word w;
    for (unsigned l = 0; l < kLanes; ++l) w[l] = top->rd_data_o[p * kLanes + l];
    return w;
  }
};

TEST(Mpram, RandomReadsAndMaskedWritesMatchTheModel) {
  Ram s;
  std::vector<Word> model(kWords);
  std::vector<unsigned> written(kWords, 0);  // lanes known
  std::mt19937_64 rng(21);
  unsigned checked = 0;
  for (int i = 0; i < 20000; ++i) {
    std::array<bool, kRd> rd;
    std::array<unsigned, kRd> ra;
    for (unsigned p = 0; p < kRd; ++p) {
      rd[p] = rng() % 3 != 0;
      ra[p] = rng() % kWords;
      s.set_read(p, rd[p], ra[p]);
    }
    std::array<bool, 2> wr;
    std::array<unsigned, 2> wa, mask;
    std::array<Word, 2> data;
    for (unsigned p = 0; p < 2; ++p) {
      wr[p] = rng() % 2 != 0;
      wa[p] = rng() % (p == 1 && rng() % 4 == 0 ? 1 : kWords);  // often the same row
      if (p == 1 && rng() % 3 == 0) wa[1] = wa[0];
      mask[p] = rng() % 16;
      for (auto& d : data[p]) d = static_cast<std::uint32_t>(rng());
      s.set_write(p, wr[p], wa[p], mask[p], data[p]);
    }
    // Reads sample the contents before this cycle's writes (read-first).
    std::array<Word, kRd> before;
    std::array<bool, kRd> known;
    for (unsigned p = 0; p < kRd; ++p) {
      before[p] = model[ra[p]];
      known[p] = written[ra[p]] == 0xF;
    }
    s.cycle();
    ASSERT_FALSE(s.ctx->gotError()) << "cycle " << i;
    for (unsigned p = 0; p < kRd; ++p) {
      if (rd[p] && known[p]) {
        ASSERT_EQ(s.read_data(p), before[p]) << "port " << p << " row " << ra[p] << " cycle " << i;
        ++checked;
      }
    }
    for (unsigned p = 0; p < 2; ++p) {  // port 1 after port 0: it wins on shared lanes
      if (!wr[p]) continue;
      written[wa[p]] |= mask[p];
      for (unsigned l = 0; l < kLanes; ++l)
        if (mask[p] >> l & 1u) model[wa[p]][l] = data[p][l];
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(Mpram, ReadDataHoldsUntilTheNextRead) {
  Ram s;
  s.set_write(0, true, 7, 0xF, {100, 101, 102, 103});
  s.cycle();
  s.set_write(0, false, 0, 0, {});
  s.set_read(1, true, 7);
  s.cycle();
  s.set_read(1, false, 0);
  s.set_write(1, true, 7, 0xF, {1, 2, 3, 4});
  for (int i = 0; i < 3; ++i) {
    s.cycle();
    EXPECT_EQ(s.read_data(1), (Word{100, 101, 102, 103}));
  }
}

TEST(Mpram, OutOfRangeAddressIsAnAssertionFailure) {
  Ram s;
  s.set_read(0, true, kWords);  // 48 is beyond the last row
  s.cycle();
  EXPECT_TRUE(s.ctx->gotError());
}

}  // namespace
