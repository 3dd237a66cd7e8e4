// sa_sram against an array model: registered reads, per-lane write masks,
// read-first on a same-word read and write, address-range assertions.
#include <gtest/gtest.h>
#include <verilated.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "Vsa_sram.h"

namespace {

constexpr unsigned kWords = 48, kLanes = 4;  // as verilated in rtl/CMakeLists.txt
using Word = std::array<std::uint32_t, kLanes>;

struct Sram {
  std::unique_ptr<VerilatedContext> ctx = std::make_unique<VerilatedContext>();
  std::unique_ptr<Vsa_sram> top;
  Sram() {
    ctx->fatalOnError(false);
    top = std::make_unique<Vsa_sram>(ctx.get());
    top->rst_ni = 0;
    top->clk_i = 0;
    top->eval();
    top->rst_ni = 1;
    top->eval();
  }
  ~Sram() { top->final(); }
  void cycle() {
    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
  }
  Word read_data() const {
    Word w;
    for (unsigned l = 0; l < kLanes; ++l) w[l] = top->rd_data_o[l];
    return w;
  }
};

TEST(Sram, RandomReadsAndMaskedWritesMatchTheModel) {
  Sram s;
  std::vector<Word> model(kWords);
  std::vector<bool> written(kWords, false);
  std::mt19937_64 rng(21);
  unsigned checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const bool rd = rng() % 3 != 0, wr = rng() % 2 != 0;
    const unsigned ra = rng() % kWords, wa = rng() % kWords;
    const unsigned mask = rng() % 16;
    Word data;
    for (auto& d : data) d = static_cast<std::uint32_t>(rng());
    s.top->rd_en_i = rd;
    s.top->rd_addr_i = ra;
    s.top->wr_en_i = wr;
    s.top->wr_addr_i = wa;
    s.top->wr_mask_i = mask;
    for (unsigned l = 0; l < kLanes; ++l) s.top->wr_data_i[l] = data[l];
    // The read samples the contents before this cycle's write (read-first).
    const Word before = model[ra];
    const bool known = written[ra];
    s.cycle();
    ASSERT_FALSE(s.ctx->gotError()) << "cycle " << i;
    if (rd && known) {
      ASSERT_EQ(s.read_data(), before) << "read of word " << ra << " at cycle " << i;
      ++checked;
    }
    if (wr) {
      if (mask == 0xF) written[wa] = true;
      for (unsigned l = 0; l < kLanes; ++l)
        if (mask >> l & 1u) model[wa][l] = data[l];
    }
  }
  EXPECT_GT(checked, 5000u);
}

TEST(Sram, ReadDataHoldsUntilTheNextRead) {
  Sram s;
  s.top->wr_en_i = 1;
  s.top->wr_addr_i = 7;
  s.top->wr_mask_i = 0xF;
  for (unsigned l = 0; l < kLanes; ++l) s.top->wr_data_i[l] = 100 + l;
  s.cycle();
  s.top->wr_en_i = 0;
  s.top->rd_en_i = 1;
  s.top->rd_addr_i = 7;
  s.cycle();
  s.top->rd_en_i = 0;
  for (int i = 0; i < 3; ++i) {
    s.cycle();
    for (unsigned l = 0; l < kLanes; ++l) EXPECT_EQ(s.top->rd_data_o[l], 100 + l);
  }
}

TEST(Sram, OutOfRangeAddressIsReported) {
  Sram s;
  s.top->rd_en_i = 1;
  s.top->rd_addr_i = kWords;  // 48 fits the 6-bit port but is not a word
  s.cycle();
  s.cycle();
  EXPECT_TRUE(s.ctx->gotError());
}

}  // namespace
