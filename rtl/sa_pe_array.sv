// sa_pe_array: the Rows x Cols grid of processing elements.
//
// Operands arrive already skewed (see sa_array): PE(r,c) sees, in cycle t, the
// step the wrapper accepted in cycle t-1-r-c, and the flags of that step come
// from the anti-diagonal flag pipeline entry r+c.
//
// Registers of PE(r,c) (x_q[r][c]):
//   a_q    west operand, passed east each cycle
//   wb_q   WS/IS: stationary operand in use; OS: north operand, passed south
//   acc_q  OS accumulator
//   hold_q OS result of the finished tile, kept until its column drains (so
//          the next tile can start accumulating at once)
//   ps_q   south-flowing chain: partial sums (WS/IS) or drained results (OS)
// plus one shadow stationary operand per PE, sh_q[r][c], written a row at a
// time by the preload while the array streams with wb_q (double buffering) and
// copied into wb_q when the step flagged `first` reaches the PE (a diagonal
// wave).
//
// plus south_q, a copy of the bottom row of ps_q: the grid's output.
//
// Simulation speed shapes the code (Verilator 5.006): the PEs are loops over
// arrays rather than one instance each; each mode has its own unrolled loop
// and computes only its own next state; an idle grid (busy_i low) is not
// evaluated at all, nor are the multiplier and adder of a PE whose step is a
// bubble (operand isolation, which saves power in silicon as well) or whose
// bf16 operands include a zero (zero skipping, below); the PE state is
// written with blocking assignments (see the always_ff). The per-PE
// arithmetic is sa_arith_pkg::pe_mac (one fused call per bf16 PE), the
// function sa_mac wraps for its standalone test.
module sa_pe_array
  import sa_pkg::*;
#(
  parameter int unsigned Rows     = 4,
  parameter int unsigned Cols     = 4,
  parameter int unsigned Datapath = DP_INT8,
  localparam int unsigned InW     = op_width(Datapath),
  localparam int unsigned Diags   = Rows + Cols - 1,
  localparam int unsigned RowIdxW = (Rows > 1) ? $clog2(Rows) : 1
) (
  input  logic                          clk_i,
  input  logic                          en_i,       // advance the whole grid
  input  logic                          busy_i,     // a step is in the grid (a flop)
  input  logic                          os_i,       // 1: output-stationary, 0: WS/IS
  input  logic [Rows-1:0][InW-1:0]      west_i,     // skewed west operands
  input  logic [Cols-1:0][InW-1:0]      north_i,    // skewed north operands (OS)
  input  step_flags_t [Diags-1:0]       flags_i,
  input  logic                          pre_we_i,   // write one shadow row
  input  logic [RowIdxW-1:0]            pre_row_i,
  input  logic [Cols-1:0][InW-1:0]      pre_data_i,
  output logic [Cols-1:0][ACC_W-1:0]    south_o     // ps_q of the bottom row
);

  logic [InW-1:0]   a_q    [Rows][Cols];
  logic [InW-1:0]   a_d    [Rows][Cols];
  logic [InW-1:0]   wb_q   [Rows][Cols];
  logic [InW-1:0]   wb_d   [Rows][Cols];
  logic [ACC_W-1:0] acc_q  [Rows][Cols];
  logic [ACC_W-1:0] acc_d  [Rows][Cols];
  logic [ACC_W-1:0] hold_q [Rows][Cols];
  logic [ACC_W-1:0] hold_d [Rows][Cols];
  logic [ACC_W-1:0] ps_q   [Rows][Cols];
  logic [ACC_W-1:0] ps_d   [Rows][Cols];
  logic [Cols-1:0][InW-1:0] sh_q [Rows];
  logic [Cols-1:0][ACC_W-1:0] south_q, south_d;  // ps_q[Rows-1], for the outside

  // Operand isolation of WS/IS bubbles (below) on the bf16 grid, whose MACs
  // are expensive. The int8 WS/IS grid computes every PE in every busy cycle:
  // its MAC costs about as much as the test in simulation (docs/performance.md
  // has both measured). In OS a bubble must keep the accumulator, so both
  // datapaths test the step there.
  localparam bit IsolateOps = (Datapath != DP_INT8);

  // Zero skipping (bf16 grids, with the isolation above): a PE whose valid
  // step has a zero operand and no infinite or NaN one passes its
  // accumulator on without evaluating the MAC. A zero times a finite value is
  // a signed zero, and an accumulator plus a signed zero is the accumulator
  // itself, except for an accumulator of -0 (-0 + +0 = +0) or a NaN other
  // than the canonical one (bf16_mac returns 32'h7FC0_0000). Neither reaches
  // a PE: every chain of accumulators starts at +0 (row 0 in WS/IS, a tile's
  // `first` step in OS, a bubble), each PE passes on a bf16_mac result or,
  // skipping, its input; a binary32 sum is -0 only when both addends are -0,
  // and every NaN that bf16_mac returns is the canonical one. So the skip
  // gives the value bf16_mac would (the array tests' special values,
  // infinities, NaNs and signed zeros included, check it bit for bit). In
  // training about six MACs in ten have a zero operand (ReLU outputs, empty
  // pixels, padding): the test costs less than the call it saves (in
  // silicon, the usual gating of a PE's multiplier and adder on a zero
  // operand). The test reads the operands' bits in the PE: carrying
  // precomputed flags with the operands (18-bit operand registers) took
  // fewer instructions but made a training step 1.5x slower in wall time
  // (docs/performance.md).

  // Any `first` step inside the grid: the stationary operands may change.
  logic flip_any;
  always_comb begin
    flip_any = 1'b0;
    for (int unsigned d = 0; d < Diags; d++) begin
      flip_any = flip_any | (flags_i[d].valid & flags_i[d].first);
    end
  end

  // The PE loops below index with these (text macros, `undef-ed after use) so
  // that, once Verilator has unrolled a loop, every index is a constant and
  // no per-PE value goes through a variable: a loop-body local (or a
  // function argument inlined into the loop) becomes a class member written
  // and read again by every unrolled PE. Out-of-range neighbours (row -1,
  // column -1) are guarded to index 0 on the branch that does not use them.
  // SA_PE_MAC is sa_arith_pkg::pe_mac written out: the datapath test is an
  // elaboration constant that Verilator folds, and the int8 MAC is an
  // expression rather than a call (no argument members).
`define SA_PE_R (i / Cols)
`define SA_PE_C (i % Cols)
`define SA_PE_RU ((`SA_PE_R == 0) ? 0 : `SA_PE_R - 1)
`define SA_PE_CL ((`SA_PE_C == 0) ? 0 : `SA_PE_C - 1)
`define SA_PE_F flags_i[`SA_PE_R + `SA_PE_C]
// The zero skip (above): a zero operand and no infinite or NaN one. The same
// predicate as the zero gating in sa_arith_pkg::bf16_mac (written there on the
// exponent fields): a change to one is a change to both.
`define SA_PE_SKIP(a, b) \
  ((((16'(a) & 16'h7FFF) == 16'h0) || ((16'(b) & 16'h7FFF) == 16'h0)) && \
   ((16'(a) & 16'h7F80) != 16'h7F80) && ((16'(b) & 16'h7F80) != 16'h7F80))
`define SA_PE_MAC(a, b, acc) \
  ((Datapath == DP_BF16) ? sa_arith_pkg::bf16_mac(16'(a), 16'(b), (acc)) \
                         : ((acc) + 32'($signed((a[7:0]))) * 32'($signed((b[7:0])))))

  // Every path assigns every element of wb_d, ps_d, acc_d and hold_d before
  // use; Verilator 5.006's latch check does not follow per-element
  // assignments made on both branches inside loops.
  /* verilator lint_off LATCH */
  always_comb begin
    // The OS-only state holds in WS/IS mode.
    acc_d  = acc_q;
    hold_d = hold_q;
    // An idle grid holds (the flops below are not written): its PEs are not
    // evaluated, which in simulation skips the whole MAC grid while the
    // array waits (vector-unit and DMA phases of a program).
    if (busy_i && !os_i) begin
      // WS/IS. One flat loop over the PEs: Verilator unrolls it completely
      // (see the --unroll-count in rtl/sources.cmake); a nested loop would
      // keep the outer one rolled. The mode is decided outside the loop so
      // that each unrolled mode is one straight run of code.
      for (int unsigned i = 0; i < Rows * Cols; i++) begin
        a_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_C == 0) ? west_i[`SA_PE_R]
                                                  : a_q[`SA_PE_R][`SA_PE_CL];
        wb_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_F.valid && `SA_PE_F.first) ? sh_q[`SA_PE_R][`SA_PE_C]
                                                                       : wb_q[`SA_PE_R][`SA_PE_C];
        // Operand isolation: a bubble's (invalid step's) partial sums are
        // never used (its whole column chain is invalid), so its PEs do not
        // multiply or add. Written as a default and a one-armed `if`: an
        // if/else that assigns one variable becomes (in Verilator 5.006) a ?:
        // with the calls hoisted out of it, so the MAC would run for every
        // bubble as well.
        // The zero skip likewise: the accumulator passes as the default.
        ps_d[`SA_PE_R][`SA_PE_C] = '0;
        if (!IsolateOps || `SA_PE_F.valid) begin
          ps_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_R == 0) ? '0 : ps_q[`SA_PE_RU][`SA_PE_C];
          if (!IsolateOps || !`SA_PE_SKIP(a_d[`SA_PE_R][`SA_PE_C], wb_d[`SA_PE_R][`SA_PE_C])) begin
            ps_d[`SA_PE_R][`SA_PE_C] =
                `SA_PE_MAC(a_d[`SA_PE_R][`SA_PE_C], wb_d[`SA_PE_R][`SA_PE_C],
                           (`SA_PE_R == 0) ? '0 : ps_q[`SA_PE_RU][`SA_PE_C]);
          end
        end
      end
    end else if (busy_i) begin
      // OS.
      for (int unsigned i = 0; i < Rows * Cols; i++) begin
        a_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_C == 0) ? west_i[`SA_PE_R]
                                                  : a_q[`SA_PE_R][`SA_PE_CL];
        wb_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_R == 0) ? north_i[`SA_PE_C]
                                                   : wb_q[`SA_PE_RU][`SA_PE_C];
        // A valid step updates the accumulator and, at the tile's last step,
        // the held result; only then is the MAC evaluated (operand isolation
        // on both datapaths: a bubble keeps the accumulator anyway). A drain
        // at the bottom row is always a valid last step's.
        if (`SA_PE_F.valid) begin
          acc_d[`SA_PE_R][`SA_PE_C] = `SA_PE_F.first ? '0 : acc_q[`SA_PE_R][`SA_PE_C];
          if (!IsolateOps || !`SA_PE_SKIP(a_d[`SA_PE_R][`SA_PE_C], wb_d[`SA_PE_R][`SA_PE_C])) begin
            acc_d[`SA_PE_R][`SA_PE_C] =
                `SA_PE_MAC(a_d[`SA_PE_R][`SA_PE_C], wb_d[`SA_PE_R][`SA_PE_C],
                           `SA_PE_F.first ? '0 : acc_q[`SA_PE_R][`SA_PE_C]);
          end
        end
        if (`SA_PE_F.valid && `SA_PE_F.last) begin
          hold_d[`SA_PE_R][`SA_PE_C] = acc_d[`SA_PE_R][`SA_PE_C];
        end
        // The bottom PE finishing a tile loads its column's results into
        // the chain; they then shift out one per cycle.
        if (flags_i[Rows-1+`SA_PE_C].valid && flags_i[Rows-1+`SA_PE_C].last) begin
          ps_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_R == Rows - 1) ? acc_d[`SA_PE_R][`SA_PE_C]
                                                             : hold_q[`SA_PE_R][`SA_PE_C];
        end else begin
          ps_d[`SA_PE_R][`SA_PE_C] = (`SA_PE_R == 0) ? '0 : ps_q[`SA_PE_RU][`SA_PE_C];
        end
      end
    end else begin
      a_d  = a_q;
      wb_d = wb_q;
      ps_d = ps_q;
    end
  end
  /* verilator lint_on LATCH */
`undef SA_PE_R
`undef SA_PE_C
`undef SA_PE_RU
`undef SA_PE_CL
`undef SA_PE_F
`undef SA_PE_MAC
`undef SA_PE_SKIP

  // Datapath registers carry no reset: every value is written before it is
  // used (valid flags gate the accumulators, the wrapper drops bubble outputs).
  // The PE state is written with blocking assignments: Verilator 5.006 gives
  // every element of an unpacked array written by a non-blocking assignment
  // its own shadow variable, cleared and copied each cycle (about a quarter
  // of the core's simulation time). It is race-free because nothing but the
  // always_comb blocks of this module reads these arrays; the one value that
  // leaves the module, the bottom row of ps_q, is the separate flop south_q.
  /* verilator lint_off BLKSEQ */
  always_ff @(posedge clk_i) begin
    if (en_i) begin
      if (busy_i) begin
        a_q  = a_d;
        ps_q = ps_d;
        south_q <= south_d;
        if (os_i || flip_any) begin
          wb_q = wb_d;
        end
        if (os_i) begin
          acc_q  = acc_d;
          hold_q = hold_d;
        end
      end
      if (pre_we_i) begin
        sh_q[pre_row_i] <= pre_data_i;
      end
    end
  end
  /* verilator lint_on BLKSEQ */

  always_comb begin
    for (int unsigned c = 0; c < Cols; c++) begin
      south_d[c] = ps_d[Rows-1][c];
    end
  end
  assign south_o = south_q;

endmodule
