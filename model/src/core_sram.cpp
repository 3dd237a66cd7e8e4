#include "sasim/model/core_sram.hpp"

#include <algorithm>

#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"

namespace sasim::model {

CoreSram::CoreSram(const spec::CoreSpec& s)
    : dp(s.datapath),
      rows(s.rows),
      cols(s.cols),
      width(s.width()),
      spad_rows(s.spad_rows),
      acc_rows(s.acc_rows),
      spad(std::size_t{s.spad_rows} * s.width(), 0),
      acc(std::size_t{s.acc_rows} * s.cols, 0),
      stationary(std::size_t{s.rows} * s.cols, 0) {}

void CoreSram::preload(std::uint64_t pre_row) {
  for (unsigned r = 0; r < rows; ++r)
    std::copy_n(spad_row(pre_row + r), cols, stationary.data() + std::size_t{r} * cols);
  have_stationary = true;
}

void CoreSram::write_row(std::uint32_t* dst, const float* s, bool accumulate) const {
  for (unsigned c = 0; c < cols; ++c)
    dst[c] = canonicalize(accumulate ? bits_to_f32(dst[c]) + s[c] : s[c]);
}

void CoreSram::write_row(std::uint32_t* dst, const std::uint32_t* s, bool accumulate) const {
  for (unsigned c = 0; c < cols; ++c) dst[c] = accumulate ? dst[c] + s[c] : s[c];
}

void CoreSram::gemm_stream(std::uint64_t in_row, std::uint64_t len, std::uint64_t acc_row,
                           bool accumulate) {
  const unsigned R = rows, C = cols;
  if (dp == Datapath::kBf16) {
    fs_.resize(std::size_t{R} * C);
    fb_.resize(C);
    for (std::size_t i = 0; i < fs_.size(); ++i) fs_[i] = bf16_to_f32(stationary[i]);
    float* s = fb_.data();
    for (std::uint64_t i = 0; i < len; ++i) {
      const std::uint16_t* a = spad_row(in_row + i);
      std::fill_n(s, C, 0.0f);
      for (unsigned r = 0; r < R; ++r) {
        const float av = bf16_to_f32(a[r]);
        const float* srow = fs_.data() + std::size_t{r} * C;
        for (unsigned c = 0; c < C; ++c) s[c] = s[c] + av * srow[c];
      }
      write_row(acc_row_ptr(acc_row + i), s, accumulate);
    }
  } else {
    // int8: a row of R <= 128 products of at most 2^14 sums to below 2^21 in
    // magnitude, so binary32 adds these integers exactly (and vectorises
    // better than 32-bit integer multiplies); the int32 sum wraps afterwards.
    fs_.resize(std::size_t{R} * C);
    fb_.resize(C);
    for (std::size_t i = 0; i < fs_.size(); ++i)
      fs_[i] = static_cast<float>(static_cast<std::int8_t>(stationary[i] & 0xFFu));
    float* s = fb_.data();
    for (std::uint64_t i = 0; i < len; ++i) {
      const std::uint16_t* a = spad_row(in_row + i);
      std::fill_n(s, C, 0.0f);
      for (unsigned r = 0; r < R; ++r) {
        const float av = static_cast<float>(static_cast<std::int8_t>(a[r] & 0xFFu));
        const float* srow = fs_.data() + std::size_t{r} * C;
        for (unsigned c = 0; c < C; ++c) s[c] = s[c] + av * srow[c];
      }
      std::uint32_t* dst = acc_row_ptr(acc_row + i);
      for (unsigned c = 0; c < C; ++c) {
        const auto v = static_cast<std::uint32_t>(static_cast<std::int32_t>(s[c]));
        dst[c] = accumulate ? dst[c] + v : v;
      }
    }
  }
}

void CoreSram::gemm_os(std::uint64_t in_row, std::uint64_t b_row, std::uint64_t len,
                       std::uint64_t acc_row, bool accumulate) {
  const unsigned R = rows, C = cols;
  if (dp == Datapath::kBf16) {
    fb_.resize(len * C);
    fs_.resize(C);
    for (std::uint64_t k = 0; k < len; ++k) {
      const std::uint16_t* b = spad_row(b_row + k);
      for (unsigned c = 0; c < C; ++c) fb_[k * C + c] = bf16_to_f32(b[c]);
    }
    float* s = fs_.data();
    for (unsigned r = 0; r < R; ++r) {
      std::fill_n(s, C, 0.0f);
      for (std::uint64_t k = 0; k < len; ++k) {
        const float av = bf16_to_f32(spad_row(in_row + k)[r]);
        const float* brow = fb_.data() + k * C;
        for (unsigned c = 0; c < C; ++c) s[c] = s[c] + av * brow[c];
      }
      write_row(acc_row_ptr(acc_row + r), s, accumulate);
    }
  } else {
    // int8 in binary32 as in gemm_stream, exact for chunks of 512 products
    // (|sum| < 2^23); the chunks add up in wrapping int32.
    constexpr std::uint64_t kChunk = 512;
    fb_.resize(len * C);
    fs_.resize(C);
    is_.resize(C);
    for (std::uint64_t k = 0; k < len; ++k) {
      const std::uint16_t* b = spad_row(b_row + k);
      for (unsigned c = 0; c < C; ++c)
        fb_[k * C + c] = static_cast<float>(static_cast<std::int8_t>(b[c] & 0xFFu));
    }
    float* s = fs_.data();
    std::uint32_t* t = is_.data();
    for (unsigned r = 0; r < R; ++r) {
      std::fill_n(t, C, 0u);
      for (std::uint64_t k0 = 0; k0 < len; k0 += kChunk) {
        std::fill_n(s, C, 0.0f);
        for (std::uint64_t k = k0; k < std::min(len, k0 + kChunk); ++k) {
          const float av =
              static_cast<float>(static_cast<std::int8_t>(spad_row(in_row + k)[r] & 0xFFu));
          const float* brow = fb_.data() + k * C;
          for (unsigned c = 0; c < C; ++c) s[c] = s[c] + av * brow[c];
        }
        for (unsigned c = 0; c < C; ++c)
          t[c] += static_cast<std::uint32_t>(static_cast<std::int32_t>(s[c]));
      }
      write_row(acc_row_ptr(acc_row + r), t, accumulate);
    }
  }
}

void CoreSram::vec(isa::VecOp op, bool to_spad, std::uint64_t src, std::uint64_t src2,
                   std::uint64_t dst, std::uint64_t n, std::uint32_t imm) {
  const unsigned C = cols;
  const bool uses_src2 = isa::reads_src2(op);
  const std::uint32_t mask = dp == Datapath::kBf16 ? 0xFFFFu : 0xFFu;
  ib_.resize(C);
  std::uint32_t* y = ib_.data();
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint32_t* x = acc_row_ptr(src + i);
    const std::uint32_t* b = uses_src2 ? acc_row_ptr(src2 + i) : nullptr;
    for (unsigned c = 0; c < C; ++c) y[c] = vec_lane(dp, op, x[c], b ? b[c] : 0, imm, int8_shift);
    if (to_spad) {
      std::uint16_t* d = spad_row(dst + i);
      for (unsigned c = 0; c < C; ++c) d[c] = static_cast<std::uint16_t>(y[c] & mask);
    } else {
      std::copy_n(y, C, acc_row_ptr(dst + i));
    }
  }
}

}  // namespace sasim::model
