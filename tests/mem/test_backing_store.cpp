// BackingStore: the single functional copy of simulated memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sasim/mem/backing_store.hpp"

namespace {

using sasim::mem::BackingStore;

TEST(BackingStore, UnwrittenBytesReadZeroAndWritesPersistAcrossPages) {
  BackingStore s(0x8000'0000, 1 << 20);
  std::vector<std::uint8_t> data(10000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 1);
  s.write(0x8000'0ff0, data.data(), data.size());  // crosses three page boundaries
  std::vector<std::uint8_t> back(data.size() + 32, 0xAA);
  s.read(0x8000'0fe0, back.data(), back.size());
  for (int i = 0; i < 16; ++i) EXPECT_EQ(back[i], 0) << i;
  for (std::size_t i = 0; i < data.size(); ++i) ASSERT_EQ(back[16 + i], data[i]) << i;
  for (std::size_t i = 16 + data.size(); i < back.size(); ++i) EXPECT_EQ(back[i], 0) << i;
}

TEST(BackingStore, ByteEnablesMaskTheWrite) {
  BackingStore s(0, 4096);
  const std::uint8_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  s.write(0, ones, 8);
  const std::uint8_t twos[8] = {2, 2, 2, 2, 2, 2, 2, 2};
  const std::uint8_t be[2] = {0xFF, 0x00};  // every other byte, pattern repeated
  s.write(0, twos, 8, be, 2);
  std::uint8_t back[8];
  s.read(0, back, 8);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(back[i], i % 2 == 0 ? 2 : 1) << i;
}

TEST(BackingStore, OutOfRangeAccessesThrowWithTheRange) {
  BackingStore s(0x1000, 0x1000);
  std::uint8_t b[4] = {};
  EXPECT_THROW(s.read(0xFFF, b, 1), std::out_of_range);
  EXPECT_THROW(s.write(0x1FFE, b, 4), std::out_of_range);
  EXPECT_NO_THROW(s.write(0x1FFC, b, 4));
  try {
    s.read(0x2000, b, 1);
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "memory access [0x2000, +1) outside [0x1000, +4096)");
  }
}

}  // namespace
