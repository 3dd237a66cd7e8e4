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
// bubble (operand isolation, which saves power in silicon as well); the PE state is written with blocking assignments (see
// the always_ff). The per-PE arithmetic is sa_arith_pkg::mac_mul / mac_add,
// the same functions sa_mac wraps for its standalone test.
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

  // Any `first` step inside the grid: the stationary operands may change.
  // Operand isolation of bubbles (below) on the bf16 grid, whose MACs are
  // expensive. The int8 grid computes every PE in every busy cycle as before:
  // its MAC costs about as much as the test in simulation (docs/performance.md
  // has both measured).
  localparam bit IsolateOps = (Datapath != DP_INT8);

  logic flip_any;
  always_comb begin
    flip_any = 1'b0;
    for (int unsigned d = 0; d < Diags; d++) begin
      flip_any = flip_any | (flags_i[d].valid & flags_i[d].first);
    end
  end

  // Every path assigns every element of wb_d, ps_d, acc_d, hold_d and the
  // branch-local temporaries before use; Verilator 5.006's latch check does
  // not follow per-element assignments made on both branches inside loops.
  /* verilator lint_off LATCH */
  always_comb begin
    logic [InW-1:0] a_in;
    step_flags_t    f;
    logic           drain;
    // The OS-only state holds in WS/IS mode.
    acc_d  = acc_q;
    hold_d = hold_q;
    // An idle grid holds (the flops below are not written): its PEs are not
    // evaluated, which in simulation skips the whole MAC grid while the
    // array waits (vector-unit and DMA phases of a program).
    if (busy_i && !os_i) begin
      // WS/IS. One flat loop over the PEs: Verilator unrolls it completely
      // (see the --unroll-count in rtl/CMakeLists.txt), so every index below
      // becomes a constant; a nested loop would keep the outer one rolled.
      // The mode is decided outside the loop so that each unrolled mode is
      // one straight run of code.
      for (int unsigned i = 0; i < Rows * Cols; i++) begin
        begin
          int unsigned r, c;
          logic [InW-1:0] w_eff;
          r = i / Cols;
          c = i % Cols;
          f    = flags_i[r+c];
          a_in = (c == 0) ? west_i[r] : a_q[r][c-1];
          a_d[r][c] = a_in;
          w_eff = (f.valid && f.first) ? sh_q[r][c] : wb_q[r][c];
          wb_d[r][c] = w_eff;
          // Operand isolation: a bubble's (invalid step's) partial sums are
          // never used (its whole column chain is invalid), so its PEs do
          // not multiply or add. Written as a default and a one-armed `if`
          // (as `sum` in OS): Verilator 5.006 turns an if/else that assigns
          // one variable into a ?: with the calls hoisted out of it, so the
          // MAC would run for every bubble as well.
          ps_d[r][c] = '0;
          if (!IsolateOps || f.valid) begin
            ps_d[r][c] = sa_arith_pkg::mac_add(Datapath, (r == 0) ? '0 : ps_q[r-1][c],
                                               sa_arith_pkg::mac_mul(Datapath, 16'(a_in),
                                                                     16'(w_eff)));
          end
        end
      end
    end else if (busy_i) begin
      // OS.
      for (int unsigned i = 0; i < Rows * Cols; i++) begin
        begin
          int unsigned r, c;
          logic [InW-1:0]   b_in;
          logic [ACC_W-1:0] sum;
          r = i / Cols;
          c = i % Cols;
          f    = flags_i[r+c];
          a_in = (c == 0) ? west_i[r] : a_q[r][c-1];
          a_d[r][c] = a_in;
          b_in = (r == 0) ? north_i[c] : wb_q[r-1][c];
          wb_d[r][c] = b_in;
          // Operand isolation as in WS: only a valid step's PEs compute (a
          // drain at the bottom row is always a valid step's).
          sum = '0;
          if (!IsolateOps || f.valid) begin
            sum = sa_arith_pkg::mac_add(Datapath, f.first ? '0 : acc_q[r][c],
                                        sa_arith_pkg::mac_mul(Datapath, 16'(a_in), 16'(b_in)));
          end
          if (f.valid) begin
            acc_d[r][c] = sum;
          end
          if (f.valid && f.last) begin
            hold_d[r][c] = sum;
          end
          // The bottom PE finishing a tile loads its column's results into
          // the chain; they then shift out one per cycle.
          drain = flags_i[Rows-1+c].valid && flags_i[Rows-1+c].last;
          if (drain) begin
            ps_d[r][c] = (r == Rows - 1) ? sum : hold_q[r][c];
          end else begin
            ps_d[r][c] = (r == 0) ? '0 : ps_q[r-1][c];
          end
        end
      end
    end else begin
      a_d  = a_q;
      wb_d = wb_q;
      ps_d = ps_q;
    end
  end
  /* verilator lint_on LATCH */

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
