// sa_vpu: the vector unit's datapath. One row of Lanes 32-bit values per
// cycle: binary32 lanes on the bf16 datapath, int32 lanes on the int8 one.
//
// Golden semantics: model/include/sasim/model/vector.hpp (model::vec_lane),
// described in docs/numerics.md ("Vector unit"). Per lane, with x the source
// row, b the second row, imm the instruction's scalar, shift the CONFIG
// int8_shift:
//   ADD_ROW x + b; RELU; RELU_MASK (b > 0 ? x : +0); SCALE imm * x;
//   AXPY imm * x + b (product rounded, then sum rounded); TO_BF16 (RNE, bits
//   15:0); TO_INT8 (>> shift, round half to even, saturate, sign-extended);
//   COPY x; MUL x * b; DIV x / b; SQRT sqrt(x); ADD_IMM x + imm. TO_BF16,
//   TO_INT8, DIV and SQRT act on the lane bits the same way on both datapaths
//   (DIV and SQRT are binary32 operations); COPY moves the bits unchanged.
//
// Streams: the input carries one row and its instruction fields (op, imm,
// shift) plus a 16-bit tag passed through untouched (e.g. the destination
// row); the output carries the result row and the tag. Both are valid/ready;
// a producer holds its payload while valid && !ready (SVA below), and so does
// this unit on its output.
//
// Timing: a two-stage pipeline, fixed latency 2. A row accepted in cycle t
// (in_valid_i && in_ready_o) is offered on the output in cycle t + 2, or,
// under backpressure, in the cycle after the row ahead of it has left; the
// unit takes a row every cycle while out_ready_i is high. Stage 1 computes
// everything but the final sum (products of SCALE, AXPY and MUL, quotients,
// square roots, ReLU, masks, conversions); stage 2 adds b for ADD_ROW and
// AXPY, imm for ADD_IMM (binary32 RNE or int32 wrap). A stalled output
// freezes stage 2, and stage 1 once it is full: in_ready_o = !(both stages
// full && !out_ready_i), a combinational path from out_ready_i (no bubbles;
// put an sa_fifo in front of or behind the unit to cut it).
//
// Simulation speed: the lanes are a loop over a packed array (Verilator
// unrolls it), each lane calls the sa_arith_pkg functions the array uses.
module sa_vpu
  import sa_pkg::*;
  import sa_isa_pkg::*;
#(
  parameter int unsigned Lanes    = 8,
  parameter int unsigned Datapath = DP_INT8,
  // Payload-stability assertions on both streams. Off inside sa_exec, which
  // never stalls this unit (asserted there): Verilator 5.006 miscompiles the
  // sampled copies of payloads wider than 256 bits (verilator#4057, fixed in
  // 5.010), which 16-lane rows are.
  parameter bit          StableChecks = 1'b1,
  localparam int unsigned LaneW   = ACC_W,  // 32: int32 or binary32
  localparam int unsigned TagW    = 16
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  // Input stream: one row per handshake.
  input  logic                        in_valid_i,
  output logic                        in_ready_o,
  input  isa_vec_op_e                 in_op_i,
  input  logic [31:0]                 in_imm_i,    // fp32 or int32 bits
  input  logic [4:0]                  in_shift_i,  // TO_INT8 shift, 0..31
  input  logic [Lanes-1:0][LaneW-1:0] in_x_i,      // source row
  input  logic [Lanes-1:0][LaneW-1:0] in_b_i,      // second row (bias, mask, y)
  input  logic [TagW-1:0]             in_tag_i,
  // Output stream: the result row.
  output logic                        out_valid_o,
  input  logic                        out_ready_i,
  output logic [Lanes-1:0][LaneW-1:0] out_row_o,
  output logic [TagW-1:0]             out_tag_o
);

  if ((Datapath != DP_INT8) && (Datapath != DP_BF16)) begin : gen_bad_datapath
    $error("sa_vpu: Datapath must be sa_pkg::DP_INT8 or sa_pkg::DP_BF16");
  end
  if (Lanes < 1) begin : gen_bad_lanes
    $error("sa_vpu: Lanes must be at least 1");
  end
  if (LaneW != 32) begin : gen_bad_lane_width
    $error("sa_vpu: lanes must be 32 bits wide (sa_pkg::ACC_W)");
  end
  // The instruction fields this unit executes fit its ports (sa_isa_pkg is
  // generated from spec/contract.json).
  localparam vec_insn_t    VecFmt = '0;
  localparam config_insn_t CfgFmt = '0;
  if ($bits(VecFmt) != INSN_W || $bits(VecFmt.imm) != 32 ||
      $bits(CfgFmt.int8_shift) != 5) begin : gen_bad_isa
    $error("sa_vpu: the contract's VEC imm / CONFIG int8_shift widths differ from the ports");
  end

  // ---------------------------------------------------------------------------
  // Lane functions
  // ---------------------------------------------------------------------------
  // NaN test on the magnitude bits v[30:0] of a binary32 value.
  function automatic logic fp32_is_nan(logic [30:0] mag);
    return mag > 31'h7F80_0000;
  endfunction

  // binary32 v > 0: positive sign, not a zero, not a NaN (+inf counts).
  function automatic logic fp32_gt_zero(logic [31:0] v);
    return !v[31] && (v[30:0] != 31'h0) && (v[30:0] <= 31'h7F80_0000);
  endfunction

  // binary32 -> bf16, round to nearest-even; NaN -> 16'h7FC0. Cannot wrap:
  // the largest non-NaN pattern is 32'hFF80_0000 (-inf).
  function automatic logic [15:0] fp32_to_bf16(logic [31:0] v);
    return fp32_is_nan(v[30:0]) ? 16'h7FC0 : 16'((v + 32'h7FFF + {31'h0, v[16]}) >> 16);
  endfunction

  // int32 >>> shift with round-half-to-even on the discarded bits, saturated
  // to [-128, 127], sign-extended. After a shift of at least 1 the quotient is
  // within [-2^30, 2^30 - 1], so the rounding increment cannot overflow.
  function automatic logic [31:0] requant_int8(logic [31:0] v, logic [4:0] shift);
    logic [31:0] q, rem, half;
    logic        up;
    q    = 32'($signed(v) >>> shift);
    rem  = v & ((32'h1 << shift) - 32'h1);
    half = 32'h1 << (shift - 5'd1);
    up   = (shift != 5'd0) && ((rem > half) || ((rem == half) && q[0]));
    q    = q + {31'h0, up};
    return ($signed(q) > 32'sd127)  ? 32'h0000_007F :
           ($signed(q) < -32'sd128) ? 32'hFFFF_FF80 : q;
  endfunction

  // Stage 1 of a binary32 lane: the whole result, except that ADD_ROW and
  // AXPY leave x or the rounded product to be added to b in stage 2.
  function automatic logic [31:0] stage1_fp32(isa_vec_op_e op, logic [31:0] x, logic [31:0] b,
                                              logic [31:0] imm, logic [4:0] shift);
    unique case (op)
      VEC_OP_ADD_ROW:            return x;
      VEC_OP_RELU:               return fp32_is_nan(x[30:0]) ? sa_arith_pkg::Fp32QNan :
                                        fp32_gt_zero(x)      ? x : 32'h0;
      VEC_OP_RELU_MASK:          return !fp32_gt_zero(b)      ? 32'h0 :
                                        fp32_is_nan(x[30:0]) ? sa_arith_pkg::Fp32QNan : x;
      VEC_OP_SCALE, VEC_OP_AXPY: return sa_arith_pkg::fp32_mul(imm, x);
      VEC_OP_TO_BF16:            return {16'h0, fp32_to_bf16(x)};
      VEC_OP_TO_INT8:            return requant_int8(x, shift);
      VEC_OP_COPY:               return x;
      VEC_OP_MUL:                return sa_arith_pkg::fp32_mul(x, b);
      VEC_OP_DIV:                return sa_arith_pkg::fp32_div(x, b);
      VEC_OP_SQRT:               return sa_arith_pkg::fp32_sqrt(x);
      VEC_OP_ADD_IMM:            return x;
      default:                   return 32'h0;
    endcase
  endfunction

  // Stage 1 of an int32 lane (same split).
  function automatic logic [31:0] stage1_int32(isa_vec_op_e op, logic [31:0] x, logic [31:0] b,
                                               logic [31:0] imm, logic [4:0] shift);
    unique case (op)
      VEC_OP_ADD_ROW:            return x;
      VEC_OP_RELU:               return ($signed(x) > 32'sd0) ? x : 32'h0;
      VEC_OP_RELU_MASK:          return ($signed(b) > 32'sd0) ? x : 32'h0;
      VEC_OP_SCALE, VEC_OP_AXPY: return imm * x;  // low 32 bits: wraps
      VEC_OP_TO_BF16:            return {16'h0, fp32_to_bf16(x)};
      VEC_OP_TO_INT8:            return requant_int8(x, shift);
      VEC_OP_COPY:               return x;
      VEC_OP_MUL:                return x * b;  // low 32 bits: wraps
      VEC_OP_DIV:                return sa_arith_pkg::fp32_div(x, b);
      VEC_OP_SQRT:               return sa_arith_pkg::fp32_sqrt(x);
      VEC_OP_ADD_IMM:            return x;
      default:                   return 32'h0;
    endcase
  endfunction

  // ---------------------------------------------------------------------------
  // Handshake: stage k takes a new entry when it is empty or its entry moves on.
  // ---------------------------------------------------------------------------
  logic                        s1_valid_q, s2_valid_q;
  logic                        s1_ready, s2_ready;
  logic                        s1_load, s2_load;
  logic                        s1_add_q, s1_add_d;  // stage 2 adds the second addend
  logic [Lanes-1:0][LaneW-1:0] s1_a_q, s1_a_d;      // stage-1 result (first addend)
  logic [Lanes-1:0][LaneW-1:0] s1_b_q, s1_b_d;      // second addend: b, or imm in every lane
  logic [TagW-1:0]             s1_tag_q;
  logic [Lanes-1:0][LaneW-1:0] s2_row_q, s2_row_d;
  logic [TagW-1:0]             s2_tag_q;

  assign s2_ready    = !s2_valid_q || out_ready_i;
  assign s1_ready    = !s1_valid_q || s2_ready;
  assign in_ready_o  = s1_ready;
  assign s1_load     = in_valid_i && s1_ready;
  assign s2_load     = s1_valid_q && s2_ready;
  assign out_valid_o = s2_valid_q;
  assign out_row_o   = s2_row_q;
  assign out_tag_o   = s2_tag_q;

  // Stage 1 (from the input ports). Both stages compute only in a cycle in
  // which they load (simulation speed: the lane functions are not evaluated
  // while the unit is idle).
  always_comb begin
    s1_add_d = (in_op_i == VEC_OP_ADD_ROW) || (in_op_i == VEC_OP_AXPY) ||
               (in_op_i == VEC_OP_ADD_IMM);
    s1_b_d   = (in_op_i == VEC_OP_ADD_IMM) ? {Lanes{in_imm_i}} : in_b_i;
    s1_a_d   = s1_a_q;
    if (s1_load) begin
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (Datapath == DP_BF16) begin
          s1_a_d[l] = stage1_fp32(in_op_i, in_x_i[l], in_b_i[l], in_imm_i, in_shift_i);
        end else begin
          s1_a_d[l] = stage1_int32(in_op_i, in_x_i[l], in_b_i[l], in_imm_i, in_shift_i);
        end
      end
    end
  end

  // Stage 2: the sum of ADD_ROW, AXPY and ADD_IMM (binary32 RNE or int32 wrap).
  always_comb begin
    s2_row_d = s2_row_q;
    if (s2_load) begin
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (s1_add_q) begin
          s2_row_d[l] = sa_arith_pkg::mac_add(Datapath, s1_a_q[l], s1_b_q[l]);
        end else begin
          s2_row_d[l] = s1_a_q[l];
        end
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q <= 1'b0;
      s2_valid_q <= 1'b0;
    end else begin
      if (s1_ready) begin
        s1_valid_q <= in_valid_i;
      end
      if (s2_ready) begin
        s2_valid_q <= s1_valid_q;
      end
    end
  end

  // Payload registers carry no reset: they are loaded with their valid flag.
  always_ff @(posedge clk_i) begin
    if (s1_load) begin
      s1_add_q <= s1_add_d;
      s1_a_q   <= s1_a_d;
      s1_b_q   <= s1_b_d;
      s1_tag_q <= in_tag_i;
    end
    if (s2_load) begin
      s2_row_q <= s2_row_d;
      s2_tag_q <= s1_tag_q;
    end
  end

`ifndef SYNTHESIS
  if (StableChecks) begin : gen_in_stable
    // The producer holds its payload while waiting.
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        in_valid_i && !in_ready_o |=> in_valid_i &&
        $stable({in_op_i, in_imm_i, in_shift_i, in_x_i, in_b_i, in_tag_i}))
      else $error("sa_vpu: input payload changed while valid && !ready");
    // This unit holds its own output payload while waiting.
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        out_valid_o && !out_ready_i |=> out_valid_o && $stable({out_row_o, out_tag_o}))
      else $error("sa_vpu: output payload changed while valid && !ready");
  end
  // Only operations of the ISA's vec_op enum (the decoder rejects the rest;
  // this unit would output zeros). The enum is the contract's (sa_isa_pkg).
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_valid_i |-> isa_vec_op_valid(in_op_i))
    else $error("sa_vpu: vec_op outside the ISA");
`endif

endmodule
