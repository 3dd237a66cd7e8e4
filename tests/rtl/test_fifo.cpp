// sa_fifo against a std::deque model: order, occupancy, ready/valid rules.
#include <gtest/gtest.h>
#include <verilated.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>

#include "Vsa_fifo_d1.h"
#include "Vsa_fifo_d2.h"
#include "Vsa_fifo_d5.h"
#include "support/rtl_unit.hpp"

namespace {

// Width-independent access to the data ports (CData/IData or VlWide).
template <typename T>
void put(T& port, std::uint64_t v) {
  if constexpr (std::is_integral_v<T>) {
    port = static_cast<T>(v);
  } else {
    for (auto& w : port.m_storage) w = 0;
    port[0] = static_cast<std::uint32_t>(v);
    port[1] = static_cast<std::uint32_t>(v >> 32);
    port[2] = static_cast<std::uint32_t>(v * 3);  // upper bits carry data too
  }
}
template <typename T>
std::uint64_t get(const T& port) {
  if constexpr (std::is_integral_v<T>) {
    return port;
  } else {
    EXPECT_EQ(port[2], static_cast<std::uint32_t>(
                           (std::uint64_t{port[0]} | (std::uint64_t{port[1]} << 32)) * 3));
    return std::uint64_t{port[0]} | (std::uint64_t{port[1]} << 32);
  }
}

template <class V>
void random_traffic(unsigned depth, std::uint64_t mask, double p_push, double p_pop,
                    std::uint64_t seed) {
  sasim::test::RtlUnit<V> f;
  f.reset();
  std::deque<std::uint64_t> model;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  bool offering = false;
  std::uint64_t offer = 0;
  unsigned moved = 0;
  for (int cycle = 0; cycle < 20000; ++cycle) {
    if (!offering && u(rng) < p_push) {
      offering = true;
      offer = rng() & mask;
    }
    const bool ready = u(rng) < p_pop;
    f->in_valid_i = offering;
    put(f->in_data_i, offer);
    f->out_ready_i = ready;
    f->clk_i = 0;
    f->eval();
    ASSERT_EQ(f->count_o, model.size()) << "seed " << seed << " cycle " << cycle;
    ASSERT_EQ(f->in_ready_o != 0, model.size() < depth);
    ASSERT_EQ(f->out_valid_o != 0, !model.empty());
    if (f->out_valid_o && ready) {
      ASSERT_EQ(get(f->out_data_o), model.front()) << "seed " << seed << " cycle " << cycle;
      model.pop_front();
      ++moved;
    }
    if (offering && f->in_ready_o) {
      model.push_back(offer);
      offering = false;
    }
    f->clk_i = 1;
    f->eval();
    ASSERT_FALSE(f.ctx->gotError()) << "assertion in the FIFO, seed " << seed;
  }
  EXPECT_GT(moved, 1000u);
}

TEST(Fifo, Depth1RandomTraffic) {
  for (std::uint64_t s = 1; s <= 3; ++s) random_traffic<Vsa_fifo_d1>(1, 0xFF, 0.7, 0.6, s);
}
TEST(Fifo, Depth2RandomTraffic) {
  for (std::uint64_t s = 1; s <= 3; ++s) random_traffic<Vsa_fifo_d2>(2, 0xFFFFFFFF, 0.6, 0.5, s);
}
TEST(Fifo, Depth5WideRandomTraffic) {
  for (std::uint64_t s = 1; s <= 3; ++s) random_traffic<Vsa_fifo_d5>(5, ~0ULL, 0.5, 0.4, s);
}

// A depth-2 FIFO is a skid buffer: with both sides always ready it moves one
// entry per cycle.
TEST(Fifo, Depth2SustainsOneTransferPerCycle) {
  sasim::test::RtlUnit<Vsa_fifo_d2> f;
  f.reset();
  unsigned pushed = 0, popped = 0;
  for (int cycle = 0; cycle < 100; ++cycle) {
    f->in_valid_i = 1;
    f->in_data_i = pushed;
    f->out_ready_i = 1;
    f->clk_i = 0;
    f->eval();
    if (f->out_valid_o) {
      EXPECT_EQ(f->out_data_o, popped);
      ++popped;
    }
    if (f->in_ready_o) ++pushed;
    f->clk_i = 1;
    f->eval();
  }
  EXPECT_EQ(pushed, 100u);
  EXPECT_EQ(popped, 99u);  // one cycle of latency
}

}  // namespace
