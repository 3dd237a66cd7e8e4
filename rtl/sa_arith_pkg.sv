// sa_arith_pkg: bit-exact PE arithmetic of the sasim datapaths.
//
// The golden semantics are model/include/sasim/model/numerics.hpp:
//   int8: int8 x int8 -> int32 (exact), int32 accumulation wrapping modulo 2^32.
//   bf16: bf16 x bf16 -> binary32, the exact product rounded once to nearest-even;
//         binary32 accumulation, IEEE-754 addition rounded to nearest-even.
//         Gradual underflow everywhere (subnormal inputs and results are kept),
//         overflow gives a signed infinity, every NaN result is 32'h7FC00000.
//
// Everything here is evaluated once per PE per clock (256x per cycle for a
// 16x16 bf16 array under Verilator), so the functions are written for the
// simulator as much as for synthesis: no loops, no intermediate wider than 64
// bits (Verilator keeps those in native uint64_t), no unpredictable branch on
// the common paths (GCC compiles many a ?: of Verilator's C++ to a jump, so
// the operand swap, the add/subtract choice and the product's one-bit
// normalization are masks and computed shifts), one shared normalize/round/
// pack step (fp32_round_pack) for the rare cases, and exact fast paths for the
// common products (normal x normal, a zero operand) and the sum that needs at most a two-bit
// normalization.
//
// Simulation notes (Verilator 5.006):
//  * bf16_mul, fp32_add and the fused bf16_mac carry `verilator
//    no_inline_task`: each becomes one C++ function whose temporaries are C++
//    locals (registers). Inlined into a PE loop they would become class
//    members whenever the calling block is evaluated from more than one
//    scheduling function, and would be copied into every unrolled PE. All
//    are pure, as the pragma requires. Their bodies are the inlinable
//    bf16_mul_f and fp32_add_f, so that bf16_mac is one function with both.
//  * mac_mul, mac_add and pe_mac select the datapath with an early `return`. An if/else
//    that assigns one variable in both branches (or a ?: of two calls) is
//    turned into a ?: and the called functions' bodies are hoisted out of it,
//    so the unused datapath would be computed as well (int8 arrays 8x slower).
package sa_arith_pkg;

  localparam logic [31:0] Fp32QNan   = 32'h7FC0_0000;  // canonical quiet NaN
  localparam logic [31:0] Fp32PosInf = 32'h7F80_0000;

  // ---------------------------------------------------------------------------
  // Normalize, round to nearest-even and pack a binary32 value
  //
  //     (-1)^sign * sig * 2^(exp - 127 - 63)
  //
  // i.e. `exp` is the biased binary32 exponent the value would have if bit 63 of
  // `sig` were its leading one. Preconditions (both callers meet them):
  //   * sig == 0 or its leading one is in sig[63:32] (at most 31 leading zeros),
  //   * exp <= 500 (so the packed magnitude below cannot wrap 32 bits);
  //   exp may be zero or negative (deep underflow).
  // Steps: shift left until bit 63 is set (leading-zero count by a 5-step binary
  // search); if the exponent then is below 1, shift right into the subnormal
  // range instead (exponent 1, hidden bit 0); keep 24 bits sig[63:40], round at
  // bit 39 with everything below (including bits shifted out) as sticky; add the
  // rounded significand onto the exponent field so that a rounding carry
  // propagates into the exponent (subnormal -> normal, mantissa overflow); clamp
  // to infinity. sig == 0 gives a zero with the given sign.
  // ---------------------------------------------------------------------------
  function automatic logic [31:0] fp32_round_pack(logic sign, int exp, logic [63:0] sig);
    logic [63:0] n;    // sig shifted left until n[63] is set
    logic        z4, z3, z2, z1, z0;  // binary search steps of the leading-zero count
    logic [4:0]  lz;   // leading zeros of sig (saturates at 31; only 0 may have more)
    int          e;    // biased exponent of n
    logic [4:0]  ds;   // right shift into the subnormal range, clamped to 25
    logic [24:0] m;    // bits [63:39] of n >> ds: significand m[24:1], round bit m[0]
    logic        inc;  // round up
    logic [31:0] mag;  // packed magnitude before the overflow clamp

    z4 = (sig[63:48] == 16'h0);
    n  = z4 ? {sig[47:0], 16'h0} : sig;
    z3 = (n[63:56] == 8'h0);
    n  = z3 ? {n[55:0], 8'h0} : n;
    z2 = (n[63:60] == 4'h0);
    n  = z2 ? {n[59:0], 4'h0} : n;
    z1 = (n[63:62] == 2'h0);
    n  = z1 ? {n[61:0], 2'h0} : n;
    z0 = !n[63];
    n  = z0 ? {n[62:0], 1'b0} : n;
    lz = {z4, z3, z2, z1, z0};
    e  = exp - int'(lz);

    // Subnormal result: shift right by 1 - e. From 25 on, the leading one lands
    // below the rounding bit (bit 39) and the result rounds to zero whatever
    // the exact amount, so clamping at 25 keeps the shift and the sticky test
    // below in range.
    ds = (e >= 1) ? 5'd0 : (e <= -24) ? 5'd25 : 5'(1 - e);
    m  = n[63:39] >> ds;
    // Round bit m[0]; sticky: any bit of n below the round bit's position
    // 39 + ds (bits shifted out included), tested by shifting them to the top.
    inc = m[0] && (m[1] || ((n << (5'd25 - ds)) != 64'h0));

    // m[24] (the hidden bit, only set when ds == 0) adds 1 to the exponent
    // field, hence `e - 1`; subnormals have exponent field 0.
    mag = ((ds == 5'd0) ? (32'(e - 1) << 23) : 32'h0) + {8'h0, m[24:1]} + {31'h0, inc};
    mag = (mag >= Fp32PosInf) ? Fp32PosInf : mag;
    return (sig == 64'h0) ? {sign, 31'h0} : {sign, mag[30:0]};
  endfunction

  // ---------------------------------------------------------------------------
  // Two steps shared by the product, the sum and the fused MAC below
  // ---------------------------------------------------------------------------
  // The product of two normal bf16 values is a binary32 normal (so exact) for
  // exp = ea + eb - 126 in [2, 254] (exp: the exponent the value would have
  // with its leading one at bit 63 of a 64-bit significand).
  function automatic logic bf16_prod_normal(logic [7:0] ea, logic [7:0] eb, int exp);
    return (8'(ea - 8'd1) < 8'd254) && (8'(eb - 8'd1) < 8'd254) && (exp >= 2) && (exp <= 254);
  endfunction

  // The magnitude of such a product, packed: its 16-bit significand p has the
  // leading one (the hidden bit) at p[15] or p[14], which adds 1 to the
  // exponent. The shift is 8 or 9 by p[15], computed rather than selected (a
  // ?: here compiles to a jump in the simulator).
  function automatic logic [30:0] bf16_prod_pack(int exp, logic [15:0] p);
    return 31'((32'(exp - 2 + int'(p[15])) << 23) + ({16'h0, p} << (5'd9 - {4'h0, p[15]})));
  endfunction

  // Round to nearest-even and pack a binary32 magnitude whose 64-bit
  // significand s has its leading one in bits 63..61, with e + 1 the biased
  // exponent for a leading one at bit 63 (e >= 2, so the result is a normal):
  // fp32_round_pack for exactly those inputs, the leading-zero search cut to
  // three cases. (e - lz) << 23 plus the hidden bit n[63], added into the
  // exponent field, packs it; a rounding carry propagates into the exponent,
  // and an overflow gives infinity.
  function automatic logic [30:0] fp32_round_top3(logic [31:0] e, logic [63:0] s);
    logic [1:0]  lz;  // leading zeros of s (0..2)
    logic [63:0] n;
    logic [31:0] mag;
    lz  = {!s[63] && !s[62], !s[63] && s[62]};
    n   = s << lz;
    mag = (e - 32'(lz)) << 23;
    mag = mag + {8'h0, n[63:40]} + {31'h0, n[39] && (n[40] || (n[38:0] != 39'h0))};
    return (mag >= Fp32PosInf) ? Fp32PosInf[30:0] : mag[30:0];
  endfunction

  // ---------------------------------------------------------------------------
  // bf16 x bf16 -> binary32, one rounding (RNE). bf16 subnormals are real
  // values. The product of the two 8-bit significands is exact in 16 bits; it
  // only needs rounding when it underflows binary32 (into the subnormals or to
  // zero), and it overflows to infinity above binary32's range.
  // ---------------------------------------------------------------------------
  function automatic logic [31:0] bf16_mul_f(logic [15:0] a, logic [15:0] b);
    logic [7:0]  ea, eb;
    logic        sign, a_spec, b_spec, nan;
    logic [15:0] p;
    int          exp;

    ea   = a[14:7];
    eb   = b[14:7];
    sign = a[15] ^ b[15];
    // Significands with hidden bit (0 for zeros/subnormals); effective
    // exponent of a subnormal is 1. Value = p * 2^(ea + eb - 268); with p in
    // bits [63:48] the leading-one-at-63 exponent is ea + eb - 126.
    p    = {8'h0, ea != 8'h0, a[6:0]} * {8'h0, eb != 8'h0, b[6:0]};
    exp  = int'(ea) + int'(eb) + int'(ea == 8'h0) + int'(eb == 8'h0) - 126;

    // Fast path, the common cases: a zero operand (p == 0: a signed zero),
    // or two normal operands whose product is a binary32 normal. That product
    // is exact (no rounding): pack p directly. Both in one branch-free value
    // (the zero is the packed value masked to 0): a zero is frequent and
    // unpredictable in training data (ReLU outputs), and a ?: or a second
    // branch here compiles to a jump in the simulator.
    if (bf16_prod_normal(ea, eb, exp) || ((p == 16'h0) && (ea != 8'hFF) && (eb != 8'hFF))) begin
      return {sign, bf16_prod_pack(exp, p) & {31{p != 16'h0}}};
    end

    a_spec = (ea == 8'hFF);
    b_spec = (eb == 8'hFF);
    // NaN operand, or infinity times zero.
    nan = (a_spec && ((a[6:0] != 7'h0) || (b[14:0] == 15'h0))) ||
          (b_spec && ((b[6:0] != 7'h0) || (a[14:0] == 15'h0)));
    return nan                ? Fp32QNan :
           (a_spec || b_spec) ? {sign, Fp32PosInf[30:0]} :
                                fp32_round_pack(sign, exp, {p, 48'h0});
  endfunction

  // ---------------------------------------------------------------------------
  // binary32 + binary32, IEEE-754, round to nearest-even, subnormals kept.
  // The operand of larger magnitude (`big`) fixes the alignment; the other one
  // is shifted right. Significands sit in bits [62:39] (bit 63 takes the carry),
  // so alignment shifts up to 39 are exact; after a larger shift the smaller
  // operand is far below half an ulp of the result and only its being nonzero
  // could matter: it is replaced by a sticky 1 in bit 0. Exact cancellation
  // (only possible for shifts <= 1) needs up to 25 normalization steps.
  // ---------------------------------------------------------------------------
  function automatic logic [31:0] fp32_add_f(logic [31:0] x, logic [31:0] y);
    logic        swap, sub, sign, far;
    logic [31:0] big, sel;
    logic [30:0] sml;              // magnitude only: the sign comes from x, y
    logic [7:0]  e_big, e_sml, d;  // effective exponents (subnormal: 1), difference
    logic [63:0] m_big, m_sml, m_al, sum;

    // The operand swap and the add/subtract choice are data-dependent and
    // unpredictable: written as masks, not ?:, so that the simulator's
    // C++ has no branch for them (a ?: here compiles to a jump).
    swap  = (x[30:0] < y[30:0]);
    sel   = {32{swap}};
    big   = (y & sel) | (x & ~sel);
    sml   = 31'((x & sel) | (y & ~sel));
    e_big = big[30:23] | {7'h0, big[30:23] == 8'h0};
    e_sml = sml[30:23] | {7'h0, sml[30:23] == 8'h0};
    d     = e_big - e_sml;
    m_big = {1'b0, big[30:23] != 8'h0, big[22:0], 39'h0};
    m_sml = {1'b0, sml[30:23] != 8'h0, sml[22:0], 39'h0};
    // A shift beyond 39 leaves only the sticky 1: shifting by 63 clears
    // m_sml (bit 63 is 0), then the sticky bit is or-ed in (no branch).
    far   = (d > 8'd39);
    m_al  = (m_sml >> (d[5:0] | {6{far}})) | {63'h0, far && (sml != 31'h0)};
    sub   = x[31] ^ y[31];
    // m_big - m_al as m_big + ~m_al + 1.
    sum   = m_big + (m_al ^ {64{sub}}) + {63'h0, sub};

    // Fast path, the common case: `big` normal with an exponent field of at
    // least 2 and the sum's leading one in bits 63..61 (every addition, and
    // every subtraction but a cancellation of two or more leading bits). The
    // result is normal (its exponent is at least e_big - 1 >= 1, so no
    // subnormal shift) and nonzero (the sign of `big`).
    if ((8'(big[30:23] - 8'd2) < 8'd253) && (sum[63:61] != 3'b000)) begin
      return {big[31], fp32_round_top3(32'(big[30:23]), sum)};
    end

    // An exact zero sum is +0 under RNE, unless both operands are -0.
    sign  = (sum == 64'h0) ? (x[31] & y[31]) : big[31];
    // A NaN or infinite operand is always `big` (largest magnitude encodings).
    // NaN: a NaN operand, or infinities of opposite signs.
    return (big[30:23] != 8'hFF) ? fp32_round_pack(sign, int'(e_big) + 1, sum) :
           ((big[22:0] != 23'h0) || (sub && (sml[30:23] == 8'hFF))) ? Fp32QNan : big;
  endfunction

  // ---------------------------------------------------------------------------
  // The PE operations as the simulator's C++ functions (see the notes at the
  // top): the product, the sum and the fused multiply-accumulate of the grid,
  // which rounds twice exactly as bf16_mul followed by fp32_add (the golden
  // model's MAC) but is one call, with the product in a register between the
  // two halves.
  // ---------------------------------------------------------------------------
  function automatic logic [31:0] bf16_mul(logic [15:0] a, logic [15:0] b);
    /* verilator no_inline_task */
    return bf16_mul_f(a, b);
  endfunction

  function automatic logic [31:0] fp32_add(logic [31:0] x, logic [31:0] y);
    /* verilator no_inline_task */
    return fp32_add_f(x, y);
  endfunction

  // acc + a * b: binary32 sum of acc and the binary32 product of a and b.
  //
  // Fused fast path, the common case: a and b normal, their product a
  // binary32 normal (so it is exact: rounding it is the identity), acc
  // finite, and a sum that does not cancel more than one leading bit. Then
  // the result is the exact sum acc + a * b rounded once, computed without
  // packing the product: both significands are placed at bits [61:38] of
  // 64-bit words (acc: hidden bit at 61; the product's 16-bit significand p
  // at [61:46]), the one with the smaller exponent shifted right (by at
  // most 38 here, which is exact), both given their signs in two's
  // complement and added (|sum| < 2^63); a zero acc returns the product.
  // With the magnitude's leading one at bit 62, 61 or 60 the result is a
  // normal (its exponent is at least emax - 1 >= 1) and it is rounded by
  // fp32_round_top3, as in fp32_add_f's fast path; a deeper cancellation
  // (about one sum in ten in training) goes through fp32_round_pack. Every
  // other case (zero or subnormal operands, specials, products outside
  // binary32's normals, exponents more than 38 apart) is zero gating or the
  // separate bf16_mul and fp32_add.
  function automatic logic [31:0] bf16_mac(logic [15:0] a, logic [15:0] b, logic [31:0] acc);
    /* verilator no_inline_task */
    logic [7:0]  ea, eb, ec;
    logic [15:0] p;
    int          ep, ecf, emax;     // product, acc (subnormal: 1) and larger exponents
    logic [7:0]  dp, dc;            // right shifts of the product and of acc
    logic        sp;
    logic [63:0] m_p, m_c, sum, mag;

    ea = a[14:7];
    eb = b[14:7];
    ec = acc[30:23];
    // Value of the product: p * 2^(ea + eb - 268); on the scale of acc's
    // significand at [61:38] (value m * 2^(e - 188)) its exponent is ep.
    ep = int'(ea) + int'(eb) - 126;
    if (bf16_prod_normal(ea, eb, ep) && (ec != 8'hFF)) begin
      p     = {8'h0, 1'b1, a[6:0]} * {8'h0, 1'b1, b[6:0]};
      sp    = a[15] ^ b[15];
      // A zero acc (either sign) adds nothing: the result is the exact
      // product, packed as bf16_mul_f packs it.
      if (acc[30:0] == 31'h0) begin
        return {sp, bf16_prod_pack(ep, p)};
      end
      ecf   = int'(ec) + int'(ec == 8'h0);
      emax  = (ep > ecf) ? ep : ecf;
      // Differences up to 252; the fast path takes those up to 38, where
      // the shift is exact (a larger one, rare in training, goes to the
      // separate functions below, which round with a sticky bit).
      dp    = 8'(emax - ep);
      dc    = 8'(emax - ecf);
      if ((dp <= 8'd38) && (dc <= 8'd38)) begin
        m_p = {2'b0, p, 46'h0} >> dp[5:0];
        m_c = {2'b0, ec != 8'h0, acc[22:0], 38'h0} >> dc[5:0];
        sum = (m_p ^ {64{sp}}) + {63'h0, sp} + (m_c ^ {64{acc[31]}}) + {63'h0, acc[31]};
        mag = (sum ^ {64{sum[63]}}) + {63'h0, sum[63]};
        if (mag[62:60] != 3'b000) begin
          // mag << 1 has its leading one in bits 63..61 and the biased
          // exponent emax + 1 for a leading one at bit 63.
          return {sum[63], fp32_round_top3(32'(emax), mag << 1)};
        end
        // A deeper cancellation: the leading one is at bit 37 or above (the
        // exponents then differ by at most one), or the sum is an exact
        // zero, which fp32_round_pack returns as +0 (sum[63] is 0).
        return fp32_round_pack(sum[63], emax + 2, mag);
      end
    end
    // Zero gating: a zero operand times a finite one is a zero of sign
    // a[15] ^ b[15], and acc + (+-0) is acc itself (a NaN made canonical),
    // except that two zeros sum to -0 only when both are -0. The PE grid
    // skips the call on the same predicate (sa_pe_array.sv SA_PE_SKIP): a
    // change to one is a change to both.
    if (((a[14:0] == 15'h0) && (b[14:7] != 8'hFF)) ||
        ((b[14:0] == 15'h0) && (a[14:7] != 8'hFF))) begin
      return (acc[30:0] == 31'h0) ? {acc[31] & (a[15] ^ b[15]), 31'h0} :
             ((acc[30:23] == 8'hFF) && (acc[22:0] != 23'h0)) ? Fp32QNan : acc;
    end
    return fp32_add(acc, bf16_mul(a, b));
  endfunction

  // ---------------------------------------------------------------------------
  // binary32 x binary32 -> binary32, IEEE-754, round to nearest-even, subnormal
  // operands and results kept (used by the vector unit: SCALE, AXPY). The exact
  // product of the two 24-bit significands (hidden bit 0 and effective exponent
  // 1 for subnormals) has at most 48 bits; it sits in bits [63:16] of the
  // rounder's input, so the leading-one-at-63 exponent is ea + eb - 126 (as in
  // bf16_mul). A normal operand has its leading one at p[47] or p[46]; a
  // subnormal times a normal has at most 24 leading zeros above bit 47, within
  // fp32_round_pack's 31. Subnormal x subnormal (< 2^-252) may have more: the
  // rounder's clamped shift then yields a signed zero, which is the correctly
  // rounded result.
  // ---------------------------------------------------------------------------
  function automatic logic [31:0] fp32_mul(logic [31:0] x, logic [31:0] y);
    /* verilator no_inline_task */
    logic [7:0]  ex, ey;
    logic        sign, x_spec, y_spec, nan;
    logic [47:0] p;
    int          exp;

    ex   = x[30:23];
    ey   = y[30:23];
    sign = x[31] ^ y[31];
    p    = {24'h0, ex != 8'h0, x[22:0]} * {24'h0, ey != 8'h0, y[22:0]};
    exp  = int'(ex) + int'(ey) + int'(ex == 8'h0) + int'(ey == 8'h0) - 126;

    x_spec = (ex == 8'hFF);
    y_spec = (ey == 8'hFF);
    // NaN operand, or infinity times zero.
    nan = (x_spec && ((x[22:0] != 23'h0) || (y[30:0] == 31'h0))) ||
          (y_spec && ((y[22:0] != 23'h0) || (x[30:0] == 31'h0)));
    return nan                ? Fp32QNan :
           (x_spec || y_spec) ? {sign, Fp32PosInf[30:0]} :
                                fp32_round_pack(sign, exp, {p, 16'h0});
  endfunction

  // ---------------------------------------------------------------------------
  // Division and square root of the vector unit (DIV, SQRT; Adam's update).
  // Not PE operations: evaluated once per vector lane, so a loop and a 64-bit
  // integer divide are affordable in simulation. Both are correctly rounded
  // (RNE) with subnormal operands and results kept, like fp32_mul.
  // ---------------------------------------------------------------------------
  // The significand of a finite nonzero binary32 magnitude, normalized so
  // that its leading one is bit 23, in bits [23:0]; bits [31:24] are the
  // left shift that took (0 for a normal value, up to 23 for a subnormal).
  function automatic logic [31:0] fp32_norm_sig(logic [30:0] mag);
    logic [31:0] n;
    logic        z4, z3, z2, z1, z0;
    n  = {(mag[30:23] != 8'h0), mag[22:0], 8'h0};
    z4 = (n[31:16] == 16'h0);
    n  = z4 ? {n[15:0], 16'h0} : n;
    z3 = (n[31:24] == 8'h0);
    n  = z3 ? {n[23:0], 8'h0} : n;
    z2 = (n[31:28] == 4'h0);
    n  = z2 ? {n[27:0], 4'h0} : n;
    z1 = (n[31:30] == 2'h0);
    n  = z1 ? {n[29:0], 2'h0} : n;
    z0 = !n[31];
    n  = z0 ? {n[30:0], 1'b0} : n;
    return {3'h0, z4, z3, z2, z1, z0, n[31:8]};
  endfunction

  // binary32 / binary32, IEEE-754, RNE. Finite nonzero operands: with the
  // significands normalized to [2^23, 2^24) and effective exponents ex, ey
  // (a subnormal's is 1 minus its shift), the quotient q = (mx << 40) / my
  // lies in (2^39, 2^41): at least 40 exact bits, the remainder's being
  // nonzero is the sticky bit 0. x / y = q * 2^(ex - ey - 40), so with q in
  // sig[63:23] the rounder's exponent is ex - ey + 127 (at most 403).
  // NaN: a NaN operand, 0 / 0, inf / inf; x / 0 and inf / y are signed
  // infinities; 0 / y and x / inf signed zeros.
  function automatic logic [31:0] fp32_div(logic [31:0] x, logic [31:0] y);
    /* verilator no_inline_task */
    logic        sign, x_inf, y_inf, x_nan, y_nan, x_zero, y_zero, sticky;
    logic [31:0] nx, ny;
    logic [63:0] q;
    int          exp;

    sign   = x[31] ^ y[31];
    x_inf  = (x[30:0] == Fp32PosInf[30:0]);
    y_inf  = (y[30:0] == Fp32PosInf[30:0]);
    x_nan  = (x[30:0] > Fp32PosInf[30:0]);
    y_nan  = (y[30:0] > Fp32PosInf[30:0]);
    x_zero = (x[30:0] == 31'h0);
    y_zero = (y[30:0] == 31'h0);
    if (x_nan || y_nan || (x_zero && y_zero) || (x_inf && y_inf)) begin
      return Fp32QNan;
    end
    if (x_inf || y_zero) begin
      return {sign, Fp32PosInf[30:0]};
    end
    if (x_zero || y_inf) begin
      return {sign, 31'h0};
    end
    nx     = fp32_norm_sig(x[30:0]);
    ny     = fp32_norm_sig(y[30:0]);
    q      = {nx[23:0], 40'h0} / {40'h0, ny[23:0]};
    sticky = ({nx[23:0], 40'h0} % {40'h0, ny[23:0]}) != 64'h0;
    exp    = (int'(x[30:23]) + int'(x[30:23] == 8'h0) - int'(nx[31:24])) -
             (int'(y[30:23]) + int'(y[30:23] == 8'h0) - int'(ny[31:24])) + 127;
    return fp32_round_pack(sign, exp, (q << 23) | {63'h0, sticky});
  endfunction

  // sqrt(binary32), IEEE-754, RNE. A positive finite x = m * 2^t with the
  // significand m normalized to [2^23, 2^24) (t = effective exponent - 150),
  // made even in t by doubling m: M = m or 2m, t' even; r = isqrt(M << 38)
  // (the classic bit-by-bit square root, 32 steps) has at least 30 bits,
  // the remainder's being nonzero is the sticky bit. sqrt(x) = r * 2^(t'/2 -
  // 19); with r in sig[63:32] the rounder's exponent is t'/2 + 139. A square
  // root never overflows nor underflows, and is never a tie.
  // NaN: a NaN or a negative nonzero operand (-inf included); sqrt(+-0) =
  // +-0, sqrt(+inf) = +inf.
  function automatic logic [31:0] fp32_sqrt(logic [31:0] x);
    /* verilator no_inline_task */
    logic [31:0] nx;
    logic [63:0] op, res, one;
    int          t;

    if (x[30:0] > Fp32PosInf[30:0] || (x[31] && (x[30:0] != 31'h0))) begin
      return Fp32QNan;
    end
    if (x[30:0] == 31'h0 || x[30:0] == Fp32PosInf[30:0]) begin
      return x;
    end
    nx = fp32_norm_sig(x[30:0]);
    t  = int'(x[30:23]) + int'(x[30:23] == 8'h0) - int'(nx[31:24]) - 150;
    op = {40'h0, nx[23:0]} << (t[0] ? 39 : 38);  // M << 38, M = 2m for an odd t
    t  = t - int'(t[0]);                         // t', even (two's complement)
    res = 64'h0;
    one = 64'h1 << 62;
    for (int i = 0; i < 32; i++) begin
      if (op >= res + one) begin
        op  = op - (res + one);
        res = (res >> 1) + one;
      end else begin
        res = res >> 1;
      end
      one = one >> 2;
    end
    return fp32_round_pack(1'b0, (t >>> 1) + 139, {res[31:0], 31'h0, op != 64'h0});
  endfunction

  // int8 x int8 -> int32 (exact), two's complement.
  function automatic logic [31:0] int8_mul(logic [7:0] a, logic [7:0] b);
    return {{24{a[7]}}, a} * {{24{b[7]}}, b};
  endfunction

  // ---------------------------------------------------------------------------
  // Datapath-generic PE arithmetic. `dp` must be a constant at the call site
  // (an elaboration parameter): the selection then is a test of a constant
  // that the C++ compiler folds (or a perfectly predicted branch). Keep the
  // early-return form (see the Verilator notes at the top).
  // ---------------------------------------------------------------------------
  // Product: int8 uses a[7:0] and b[7:0]; bf16 uses all 16 bits.
  function automatic logic [31:0] mac_mul(int unsigned dp, logic [15:0] a, logic [15:0] b);
    if (dp == sa_pkg::DP_BF16) begin
      return bf16_mul(a, b);
    end
    return int8_mul(a[7:0], b[7:0]);
  endfunction

  // One PE step, acc + a * b: the grid's MAC (sa_pe_array computes exactly
  // this, see its SA_PE_MAC; sa_mac tests it against the golden model).
  function automatic logic [31:0] pe_mac(int unsigned dp, logic [15:0] a, logic [15:0] b,
                                         logic [31:0] acc);
    if (dp == sa_pkg::DP_BF16) begin
      return bf16_mac(a, b, acc);
    end
    return acc + int8_mul(a[7:0], b[7:0]);
  endfunction

  // Accumulation: int8 wraps modulo 2^32, bf16 is binary32 addition.
  function automatic logic [31:0] mac_add(int unsigned dp, logic [31:0] x, logic [31:0] y);
    if (dp == sa_pkg::DP_BF16) begin
      return fp32_add(x, y);
    end
    return x + y;
  endfunction

endpackage
