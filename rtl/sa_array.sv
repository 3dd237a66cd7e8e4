// sa_array: the systolic array with its operand skew, output de-skew and
// stream control. All ports carry plain (unskewed) vectors with valid/ready.
//
// Streams (see docs/array.md for the full protocol and the cycle formulas):
//   pre   one row of the stationary operand per beat (Cols elements); Rows
//         beats fill the shadow registers, rows 0..Rows-1 in order. Accepted
//         while the shadow is not full and from Cols cycles after the last
//         `first` step was accepted, so the next tile's preload overlaps the
//         current tile's stream (double buffering of the stationary operand).
//   in    one step per beat. WS/IS: `a` is one row of the streamed operand
//         (Rows elements, element r meets stationary row r); `first` switches
//         to the preloaded operand (held until the shadow is full); `last`
//         marks the end of a tile and is passed to the output. OS: `a` is one
//         column of A (element i belongs to output row i), `b` one row of B
//         (Cols elements); `first`/`last` delimit the reduction over K, and
//         the ends of two tiles must be at least Rows steps apart (enforced).
//   out   WS/IS: one result vector per input step, L = Rows + Cols cycles
//         after it was accepted. OS: Rows result rows per tile, row i
//         L + i cycles after the tile's last step; `last` on row Rows-1.
// Backpressure on `out` stalls the whole array (a global clock enable).
// `dataflow_i` may change only while `idle_o` is high.
module sa_array
  import sa_pkg::*;
#(
  parameter int unsigned Rows     = 4,
  parameter int unsigned Cols     = 4,
  parameter int unsigned Datapath = DP_INT8,
  // Payload-stability assertions on the three streams. sa_exec turns them off:
  // its streams come from FIFO outputs (stable by construction) and its output
  // never stalls, and in the verilated core these checks (sampled copies of
  // the wide payloads every cycle) cost about a quarter of the simulation time.
  parameter bit          StableChecks = 1'b1,
  localparam int unsigned InW     = op_width(Datapath),
  localparam int unsigned Lat     = Rows + Cols,
  localparam int unsigned Diags   = Rows + Cols - 1,
  localparam int unsigned RowIdxW = (Rows > 1) ? $clog2(Rows) : 1,
  localparam int unsigned RowCntW = $clog2(Rows + 1),
  localparam int unsigned ColCntW = $clog2(Cols + 1)
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  dataflow_e                  dataflow_i,
  output logic                       idle_o,

  input  logic                       pre_valid_i,
  output logic                       pre_ready_o,
  input  logic [Cols-1:0][InW-1:0]   pre_data_i,

  input  logic                       in_valid_i,
  output logic                       in_ready_o,
  input  logic [Rows-1:0][InW-1:0]   in_a_i,
  input  logic [Cols-1:0][InW-1:0]   in_b_i,
  input  logic                       in_first_i,
  input  logic                       in_last_i,

  output logic                       out_valid_o,
  input  logic                       out_ready_i,
  output logic [Cols-1:0][ACC_W-1:0] out_data_o,
  output logic                       out_last_o
);

  // ---------------------------------------------------------------------------
  // Elaboration checks
  // ---------------------------------------------------------------------------
  if (Rows < 2 || Rows > 256) begin : gen_bad_rows
    $error("sa_array: Rows must be in 2..256");
  end
  if (Cols < 2 || Cols > 256) begin : gen_bad_cols
    $error("sa_array: Cols must be in 2..256");
  end
  if (Datapath != DP_INT8 && Datapath != DP_BF16) begin : gen_bad_dp
    $error("sa_array: Datapath must be DP_INT8 or DP_BF16");
  end

  typedef struct packed {
    logic ws_valid;  // a WS/IS result vector
    logic last;      // WS/IS: last vector of a tile
    logic os_drain;  // OS: first result row of a finished tile
  } out_tok_t;

  // The stream control decodes the dataflow input directly; the PE grid gets a
  // registered copy. Both agree on every step because the dataflow changes
  // only while idle and a step reaches the grid at least one cycle after it
  // was accepted. The grid then depends on flops alone, so Verilator evaluates
  // it once per clock edge instead of again on every input change.
  logic os, os_q;
  assign os = (dataflow_i == DF_OS);

  // ---------------------------------------------------------------------------
  // Stream control
  // ---------------------------------------------------------------------------
  logic               adv;        // the whole datapath advances this cycle
  logic               in_fire, pre_fire;
  logic [RowCntW-1:0] pre_cnt_q, pre_cnt_d;   // shadow rows loaded
  logic [RowCntW-1:0] gap_q, gap_d;           // OS: steps until a `last` may enter
  logic [ColCntW-1:0] pwait_q, pwait_d;       // WS/IS: cycles until the shadow is free
  logic               os_open_q, os_open_d;   // OS: a reduction is in progress
  logic               ws_live_q, ws_live_d;   // WS/IS: stationary operands were loaded
  logic [RowCntW-1:0] emit_q, emit_d;         // OS: result rows still to emit
  out_tok_t [Lat-1:0] tok_q, tok_d;  // packed: the pipeline shifts as one vector
  out_tok_t           tok_out;
  logic               ws_block, os_block;

  assign adv         = !(out_valid_o && !out_ready_i);
  assign ws_block    = !os && in_first_i && (pre_cnt_q != RowCntW'(Rows));
  assign os_block    = os && in_last_i && (gap_q != '0);
  assign in_ready_o  = adv && !ws_block && !os_block;
  assign pre_ready_o = adv && (pre_cnt_q != RowCntW'(Rows)) && (pwait_q == '0);
  assign in_fire     = in_valid_i && in_ready_o;
  assign pre_fire    = pre_valid_i && pre_ready_o;

  always_comb begin
    pre_cnt_d = pre_cnt_q;
    if (in_fire && !os && in_first_i) begin
      pre_cnt_d = '0;
    end else if (pre_fire) begin
      pre_cnt_d = pre_cnt_q + 1'b1;
    end

    // After a `first` step enters, the shadow rows are still read by the flip
    // wave until it has crossed every column: the next preload waits Cols-1
    // further cycles (shadow row r is read in column Cols-1 at t+r+Cols and
    // written no earlier than the end of cycle t+r+Cols).
    pwait_d = pwait_q;
    if (in_fire && !os && in_first_i) begin
      pwait_d = ColCntW'(Cols - 1);
    end else if (adv && pwait_q != '0) begin
      pwait_d = pwait_q - 1'b1;
    end

    gap_d = gap_q;
    if (in_fire && os && in_last_i) begin
      gap_d = RowCntW'(Rows - 1);
    end else if (adv && gap_q != '0) begin
      gap_d = gap_q - 1'b1;
    end

    os_open_d = os_open_q;
    if (in_fire && os) begin
      os_open_d = !in_last_i;
    end

    ws_live_d = os ? 1'b0 : (ws_live_q || (in_fire && in_first_i));

    // Output tokens: one per accepted step, Lat cycles ahead of its result.
    tok_d[0] = '{ws_valid: in_fire && !os, last: in_fire && in_last_i,
                 os_drain: in_fire && os && in_last_i};
    for (int unsigned i = 1; i < Lat; i++) begin
      tok_d[i] = tok_q[i-1];
    end

    emit_d = emit_q;
    if (adv) begin
      if (tok_out.os_drain) begin
        emit_d = RowCntW'(Rows - 1);
      end else if (emit_q != '0) begin
        emit_d = emit_q - 1'b1;
      end
    end
  end

  assign tok_out     = tok_q[Lat-1];
  assign out_valid_o = tok_out.ws_valid || tok_out.os_drain || (emit_q != '0);
  assign out_last_o  = (tok_out.ws_valid && tok_out.last) || (emit_q == RowCntW'(1));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      os_q      <= 1'b0;
      pre_cnt_q <= '0;
      gap_q     <= '0;
      pwait_q   <= '0;
      os_open_q <= 1'b0;
      ws_live_q <= 1'b0;
      emit_q    <= '0;
      tok_q     <= '0;
    end else begin
      os_q      <= (dataflow_i == DF_OS);
      pre_cnt_q <= pre_cnt_d;
      gap_q     <= gap_d;
      pwait_q   <= pwait_d;
      os_open_q <= os_open_d;
      ws_live_q <= ws_live_d;
      if (adv) begin
        emit_q <= emit_d;
        tok_q  <= tok_d;
      end
    end
  end

  always_comb begin
    idle_o = !os_open_q && (emit_q == '0);
    for (int unsigned i = 0; i < Lat; i++) begin
      idle_o = idle_o && !tok_q[i].ws_valid && !tok_q[i].os_drain;
    end
  end

  // ---------------------------------------------------------------------------
  // Operand skew. Each skew line delays whole vectors: stage j holds the
  // vector accepted j+1 shifts ago; row r of the west operand taps stage r,
  // column c of the north operand taps stage c. A line is a ring of
  // registers written one vector per shift at a rotating pointer (stage j is
  // the slot j+1 behind it), so a shift writes one row instead of moving the
  // whole line (in simulation, one row copy instead of a shift of 4096 bits
  // per line on a 16 x 16 bf16 array; in silicon, one row of flops toggles
  // instead of the whole line, for a read multiplexer per tap and all Rows x
  // Rows elements kept, where a shift line needs only the tapped half). Step flags
  // travel along the anti-diagonals (entry d = r + c). Bubbles enter as
  // zeros with cleared flags. The preload is not skewed: a beat writes a
  // whole shadow row.
  // ---------------------------------------------------------------------------
  localparam int unsigned WPtrW = $clog2(Rows);
  localparam int unsigned NPtrW = $clog2(Cols);

  // The ring slot of stage `stage` behind write pointer `ptr` (`depth`
  // slots). A text macro (`undef-ed below), not a function: in the unrolled
  // tap loops a function's arguments and result would become class members
  // written and read again per tap (Verilator 5.006).
`define SA_RING_SLOT(ptr, stage, depth) \
  ((int'(ptr) > int'(stage)) ? int'(ptr) - 1 - int'(stage) \
                             : int'(ptr) + int'(depth) - 1 - int'(stage))

  logic [Rows-1:0][InW-1:0]            west_in;
  logic [Cols-1:0][InW-1:0]            north_in;
  logic [Rows-1:0][InW-1:0]            wring_q [Rows];  // [slot][row]
  logic [Cols-1:0][InW-1:0]            nring_q [Cols];  // [slot][column]
  logic [WPtrW-1:0]                    wptr_q;          // next slot written
  logic [NPtrW-1:0]                    nptr_q;
  logic                                skew_shift;
  step_flags_t [Diags-1:0]             flg_q, flg_d;  // packed, as tok_q
  logic [Rows-1:0][InW-1:0]            west;
  logic [Cols-1:0][InW-1:0]            north;

  always_comb begin
    for (int unsigned r = 0; r < Rows; r++) begin
      // OS feeds A's element i to array row Rows-1-i so that result rows
      // leave the bottom of the array in order 0, 1, ... (see sa_pe_array).
      west_in[r] = !in_fire ? '0 : (os ? in_a_i[Rows-1-r] : in_a_i[r]);
    end
    north_in = (in_fire && os) ? in_b_i : '0;
    flg_d[0] = '{valid: in_fire, first: in_fire && in_first_i, last: in_fire && in_last_i};
    for (int unsigned d = 1; d < Diags; d++) begin
      flg_d[d] = flg_q[d-1];
    end
  end

  // The taps feed the PE grid, which ignores them while the array is idle
  // (it is not evaluated then): they are read only while it is busy.
  always_comb begin
    west  = '0;
    north = '0;
    if (!idle_o) begin
      for (int unsigned r = 0; r < Rows; r++) begin
        west[r] = wring_q[`SA_RING_SLOT(wptr_q, r, Rows)][r];
      end
      for (int unsigned c = 0; c < Cols; c++) begin
        north[c] = nring_q[`SA_RING_SLOT(nptr_q, c, Cols)][c];
      end
    end
  end

  // The skew lines shift only while a step enters or is in flight: stale
  // stages hold no step (the flags say so) and are never used. (The ring
  // writes are below, with the de-skew's.)
  assign skew_shift = adv && (in_fire || !idle_o);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      flg_q <= '0;
    end else if (adv) begin
      flg_q <= flg_d;
    end
  end

  // ---------------------------------------------------------------------------
  // PE grid and output de-skew: column c is delayed Cols-1-c more cycles
  // (stage j of the de-skew line holds the grid output of j+1 cycles ago).
  // ---------------------------------------------------------------------------
  logic [Cols-1:0][ACC_W-1:0] south;

  sa_pe_array #(
    .Rows     (Rows),
    .Cols     (Cols),
    .Datapath (Datapath)
  ) u_pe_array (
    .clk_i      (clk_i),
    .en_i       (adv),
    .busy_i     (!idle_o),
    .os_i       (os_q),
    .west_i     (west),
    .north_i    (north),
    .flags_i    (flg_q),
    .pre_we_i   (pre_fire),
    .pre_row_i  (RowIdxW'(pre_cnt_q)),
    .pre_data_i (pre_data_i),
    .south_o    (south)
  );

  // De-skew: a ring of Cols-1 result vectors like the skew lines; column c
  // taps stage Cols-2-c (delayed Cols-1-c cycles), column Cols-1 is the grid
  // output itself.
  localparam int unsigned DDepth = Cols - 1;
  localparam int unsigned DPtrW  = (DDepth > 1) ? $clog2(DDepth) : 1;
  logic [Cols-1:0][ACC_W-1:0] dring_q [DDepth];  // [slot][column]
  logic [DPtrW-1:0]           dptr_q;

  // A result leaves only while the array is busy (out_valid_o implies
  // !idle_o): the taps are read only then.
  always_comb begin
    out_data_o = '0;
    if (!idle_o) begin
      out_data_o[Cols-1] = south[Cols-1];
      for (int unsigned c = 0; c + 1 < Cols; c++) begin
        out_data_o[c] = dring_q[`SA_RING_SLOT(dptr_q, Cols - 2 - c, DDepth)][c];
      end
    end
  end
`undef SA_RING_SLOT

  // The three rings: one vector written per shift at the pointer, which then
  // advances. The contents carry no reset; the pointers do (a tap must index
  // a slot).
  always_ff @(posedge clk_i) begin
    if (skew_shift) begin
      wring_q[wptr_q] <= west_in;
      nring_q[nptr_q] <= north_in;
    end
    if (adv && !idle_o) begin
      dring_q[dptr_q] <= south;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q <= '0;
      nptr_q <= '0;
      dptr_q <= '0;
    end else begin
      if (skew_shift) begin
        wptr_q <= (wptr_q == WPtrW'(Rows - 1)) ? '0 : wptr_q + 1'b1;
        nptr_q <= (nptr_q == NPtrW'(Cols - 1)) ? '0 : nptr_q + 1'b1;
      end
      if (adv && !idle_o) begin
        dptr_q <= (dptr_q == DPtrW'(DDepth - 1)) ? '0 : dptr_q + 1'b1;
      end
    end
  end

  // ---------------------------------------------------------------------------
  // Protocol assertions
  // ---------------------------------------------------------------------------
`ifndef SYNTHESIS
  if (StableChecks) begin : gen_stable
    // Payloads stay stable while a beat waits.
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        in_valid_i && !in_ready_o |=> in_valid_i &&
        $stable({in_a_i, in_b_i, in_first_i, in_last_i}))
      else $error("sa_array: in stream changed while valid && !ready");
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        pre_valid_i && !pre_ready_o |=> pre_valid_i && $stable(pre_data_i))
      else $error("sa_array: pre stream changed while valid && !ready");
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_data_o))
      else $error("sa_array: out payload changed while stalled");
  end
  // The dataflow may change only while nothing is in flight.
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      !$stable(dataflow_i) |-> idle_o)
    else $error("sa_array: dataflow_i changed while the array was busy");
  // An OS `first` may only start a new reduction.
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire && os && os_open_q |-> !in_first_i)
    else $error("sa_array: OS `first` inside an open reduction");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire && os && !os_open_q |-> in_first_i)
    else $error("sa_array: OS step without `first` outside a reduction");
  // WS/IS: the first step after reset or after OS mode must load the
  // stationary operands (`first`), or it would use uninitialised ones.
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire && !os && !ws_live_q |-> in_first_i)
    else $error("sa_array: WS/IS step without `first` before any preload was used");
`endif

endmodule
