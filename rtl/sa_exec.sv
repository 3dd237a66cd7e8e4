// sa_exec: the execute unit of sa_core. Runs the EXEC queue's GEMM, VEC and
// CONFIG instructions (checked by the controller) on the systolic array
// (sa_array) and the vector unit (sa_vpu), reading operands from the
// scratchpad and writing results to the accumulator (or, from VEC, to the
// scratchpad).
//
// GEMM: the instruction is split at dispatch into a preload job (WS/IS
// without `reuse`: R rows spad[pre_row + r][0..C-1] onto the array's pre
// stream) and a stream job (WS/IS: spad[in_row + i][0..R-1] for i < len, the
// first step flagged `first` unless `reuse`; OS: spad[in_row + k][0..R-1] and
// spad[b_row + k][0..C-1] for k < len, first/last around the reduction), plus
// an output tag (accumulator rows, write or accumulate). The two jobs run on
// their own scratchpad read ports, so the next GEMM's preload overlaps the
// current stream and consecutive GEMMs keep the array busy. Results go to the
// accumulator's update port (never stalls). A GEMM completes two cycles after
// its last result row entered the accumulator (reads then see it).
// A dataflow change waits until the array and both jobs are idle.
// VEC reads the accumulator rows src_row + i (and src2_row + i when its
// operation has a second operand), runs them through sa_vpu and writes
// dst_row + i. It starts beside earlier GEMMs still in flight unless it would
// touch their rows: a VEC waits while an unfinished GEMM writes an
// accumulator row it reads or writes, or reads a scratchpad row it writes
// (the in-flight table below; a GEMM is finished two cycles after its last
// result row). A GEMM waits while a VEC runs. CONFIG sets the TO_INT8 shift
// and completes at once, when nothing else is in flight. Completions are in
// program order (done_o with the instruction's push flags): a VEC that
// finishes before an older GEMM waits in the completion FIFO.
module sa_exec
  import sa_pkg::*;
  import sa_isa_pkg::*;
#(
  parameter int unsigned Rows      = 4,
  parameter int unsigned Cols      = 4,
  parameter int unsigned Datapath  = DP_INT8,
  parameter int unsigned SpadWords = 64,
  parameter int unsigned AccWords  = 64,
  localparam int unsigned InW      = op_width(Datapath),
  localparam int unsigned W        = (Rows > Cols) ? Rows : Cols,
  localparam int unsigned SpAW     = $clog2(SpadWords),
  localparam int unsigned AcAW     = $clog2(AccWords)
) (
  input  logic                           clk_i,
  input  logic                           rst_ni,
  input  logic                           insn_valid_i,
  output logic                           insn_ready_o,
  input  logic [INSN_W-1:0]              insn_i,
  output logic                           done_o,
  output logic                           done_push_prev_o,
  output logic                           done_push_next_o,
  output logic                           busy_o,
  output logic                           err_o,       // GEMM `reuse` with no stationary operand
  output logic                           step_o,      // an array step was accepted
  output logic                           vec_row_o,   // a vector row was written
  // Scratchpad: port 0 (streamed rows), port 1 (preload / OS b rows), write port (VEC).
  output logic [1:0]                     sp_re_o,
  output logic [1:0][SpAW-1:0]           sp_raddr_o,
  input  logic [1:0][W-1:0][InW-1:0]     sp_rdata_i,
  output logic                           sp_we_o,
  output logic [SpAW-1:0]                sp_waddr_o,
  output logic [W-1:0]                   sp_wmask_o,
  output logic [W-1:0][InW-1:0]          sp_wdata_o,
  // Accumulator: update port (array results), two read ports and a write port (VEC).
  output logic                           upd_valid_o,
  output logic [AcAW-1:0]                upd_addr_o,
  output logic                           upd_acc_o,
  output logic [Cols-1:0][ACC_W-1:0]     upd_data_o,
  output logic [1:0]                     ac_re_o,
  output logic [1:0][AcAW-1:0]           ac_raddr_o,
  input  logic [1:0][Cols-1:0][ACC_W-1:0] ac_rdata_i,
  output logic                           ac_we_o,
  output logic [AcAW-1:0]                ac_waddr_o,
  output logic [Cols-1:0]                ac_wmask_o,
  output logic [Cols-1:0][ACC_W-1:0]     ac_wdata_o,
  // Waves / debugging.
  output dataflow_e                      dataflow_o
);

  localparam int unsigned SkidD = EXEC_SKID_DEPTH;  // sizes from the device contract

  // Views of the instruction word; the unit reads the fields it executes.
  /* verilator lint_off UNUSEDSIGNAL */
  gemm_insn_t   gi;
  vec_insn_t    vi;
  config_insn_t ci;
  vec_insn_t    v_q;
  /* verilator lint_on UNUSEDSIGNAL */
  logic         is_gemm, is_vec, is_cfg;
  assign gi      = gemm_insn_t'(insn_i);
  assign vi      = vec_insn_t'(insn_i);
  assign ci      = config_insn_t'(insn_i);
  assign is_gemm = (gi.opcode == OP_GEMM);
  assign is_vec  = (gi.opcode == OP_VEC);
  assign is_cfg  = (gi.opcode == OP_CONFIG);

  // ---------------------------------------------------------------------------
  // Job queues
  // ---------------------------------------------------------------------------
  typedef struct packed {
    logic          os;
    logic          first;   // WS/IS: switch to the preloaded operand
    logic [15:0]   in_row;
    logic [15:0]   b_row;
    logic [11:0]   len;
  } stream_job_t;

  typedef struct packed {
    logic [15:0]   acc_row;
    logic [11:0]   count;   // result rows
    logic          accumulate;
  } tag_t;
  // A dispatched GEMM or VEC waiting to complete, in program order.
  typedef struct packed {
    logic          gemm;
    logic          push_prev;
    logic          push_next;
  } cpl_t;
  // An unfinished GEMM's rows: accumulator rows [acc_row, + count), scratchpad
  // rows [in_row, + len), OS [b_row, + len), WS/IS with a preload [pre_row, + Rows).
  typedef struct packed {
    logic [15:0]   acc_row;
    logic [11:0]   count;
    logic [15:0]   in_row;
    logic [15:0]   b_row;
    logic [15:0]   pre_row;
    logic [11:0]   len;
    logic          os;
    logic          pre;
  } gin_t;
  localparam int unsigned GinD = EXEC_GEMM_TABLE;  // sizes from the device contract
  localparam int unsigned CplD = EXEC_CPL_DEPTH;

  dataflow_e   df_q;
  logic        have_stat_q;
  logic        sjq_in_ready, sjq_valid, sjq_pop;
  stream_job_t sjq_in, sj;
  logic        pjq_in_ready, pjq_valid, pjq_pop;
  logic [15:0] pjq_out;
  logic        tq_in_ready, tq_valid, tq_pop;
  tag_t        tq_in, tag;
  logic        gemm_idle, pipe_empty, vec_active_q;
  logic        dispatch_gemm, dispatch_vec, dispatch_cfg, switch_df;
  logic        array_idle;
  logic [1:0]  dl_valid_q;  // completion delay line
  logic        g_fin;       // a GEMM finishes
  logic        vec_hazard;
  logic        cq_in_ready, cq_valid, retire;
  cpl_t        cq_in, cq_head;
  localparam int unsigned FinW = $clog2(CplD + 1);
  logic [FinW-1:0] gf_q, vf_q;  // GEMMs / VECs finished, not yet retired (< CplD)

  assign switch_df     = is_gemm && insn_valid_i && (dataflow_e'(gi.dataflow) != df_q) &&
                         pipe_empty && !vec_active_q;
  assign dispatch_gemm = is_gemm && insn_valid_i && (dataflow_e'(gi.dataflow) == df_q) &&
                         !vec_active_q && sjq_in_ready && tq_in_ready && cq_in_ready &&
                         (gi.reuse || dataflow_e'(gi.dataflow) == DF_OS || pjq_in_ready);
  assign dispatch_vec  = is_vec && insn_valid_i && !vec_active_q && !vec_hazard && cq_in_ready;
  assign dispatch_cfg  = is_cfg && insn_valid_i && gemm_idle && !vec_active_q && !cq_valid;
  assign insn_ready_o  = dispatch_gemm || dispatch_vec || dispatch_cfg;

  always_comb begin
    sjq_in.os     = (dataflow_e'(gi.dataflow) == DF_OS);
    sjq_in.first  = !gi.reuse;
    sjq_in.in_row = gi.in_row;
    sjq_in.b_row  = gi.b_row;
    sjq_in.len    = gi.len;
    tq_in.acc_row    = gi.acc_row;
    tq_in.count      = (dataflow_e'(gi.dataflow) == DF_OS) ? 12'(Rows) : gi.len;
    tq_in.accumulate = gi.accumulate;
    cq_in.gemm       = is_gemm;
    cq_in.push_prev  = gi.push_prev;
    cq_in.push_next  = gi.push_next;
  end

  sa_fifo #(.Width($bits(stream_job_t)), .Depth(EXEC_STREAM_JOBS), .PushWhenReady(1'b1)) u_sjq (
    .clk_i, .rst_ni,
    .in_valid_i(dispatch_gemm), .in_ready_o(sjq_in_ready), .in_data_i(sjq_in),
    .out_valid_o(sjq_valid), .out_ready_i(sjq_pop), .out_data_o(sj),
    /* verilator lint_off PINCONNECTEMPTY */  // fill level not needed
    .count_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );
  sa_fifo #(.Width(16), .Depth(EXEC_PRELOAD_JOBS), .PushWhenReady(1'b1)) u_pjq (
    .clk_i, .rst_ni,
    .in_valid_i(dispatch_gemm && !gi.reuse && dataflow_e'(gi.dataflow) != DF_OS),
    .in_ready_o(pjq_in_ready), .in_data_i(gi.pre_row),
    .out_valid_o(pjq_valid), .out_ready_i(pjq_pop), .out_data_o(pjq_out),
    /* verilator lint_off PINCONNECTEMPTY */  // fill level not needed
    .count_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );
  sa_fifo #(.Width($bits(tag_t)), .Depth(EXEC_TAG_DEPTH), .PushWhenReady(1'b1)) u_tq (
    .clk_i, .rst_ni,
    .in_valid_i(dispatch_gemm), .in_ready_o(tq_in_ready), .in_data_i(tq_in),
    .out_valid_o(tq_valid), .out_ready_i(tq_pop), .out_data_o(tag),
    /* verilator lint_off PINCONNECTEMPTY */  // fill level not needed
    .count_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      df_q        <= DF_WS;
      have_stat_q <= 1'b0;
      err_o       <= 1'b0;
    end else begin
      if (switch_df) df_q <= dataflow_e'(gi.dataflow);
      if (dispatch_gemm && !gi.reuse && dataflow_e'(gi.dataflow) != DF_OS) have_stat_q <= 1'b1;
      if (is_gemm && insn_valid_i && gi.reuse && !have_stat_q &&
          dataflow_e'(gi.dataflow) != DF_OS) err_o <= 1'b1;
    end
  end
  assign dataflow_o = df_q;

  // ---------------------------------------------------------------------------
  // Preload job: R rows onto the array's pre stream (scratchpad port 1).
  // ---------------------------------------------------------------------------
  logic                      pre_active_q, pre_pend_q;
  logic [15:0]               pre_row_q;
  logic [$clog2(Rows+1)-1:0] pre_cnt_q;
  logic                      pre_issue;
  logic                      pf_valid, pf_ready, pf_in_ready;
  logic [$clog2(SkidD+1)-1:0] pf_count;
  logic [Cols-1:0][InW-1:0]  pf_data;

  assign pre_issue = pre_active_q && !df_os && (32'(pf_count) + 32'(pre_pend_q) < SkidD);
  assign pjq_pop   = !pre_active_q && pjq_valid;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pre_active_q <= 1'b0;
      pre_pend_q   <= 1'b0;
    end else begin
      pre_pend_q <= pre_issue;
      if (pjq_pop) pre_active_q <= 1'b1;
      else if (pre_issue && 32'(pre_cnt_q) == Rows - 1) pre_active_q <= 1'b0;
    end
  end
  always_ff @(posedge clk_i) begin
    if (pjq_pop) begin
      pre_row_q <= pjq_out;
      pre_cnt_q <= '0;
    end else if (pre_issue) begin
      pre_row_q <= pre_row_q + 16'd1;
      pre_cnt_q <= pre_cnt_q + 1'b1;
    end
  end

  sa_fifo #(.Width(Cols * InW), .Depth(SkidD), .PushWhenReady(1'b1)) u_pf (
    .clk_i, .rst_ni,
    .in_valid_i(pre_pend_q), .in_ready_o(pf_in_ready), .in_data_i(sp_rdata_i[1][Cols-1:0]),
    .out_valid_o(pf_valid), .out_ready_i(pf_ready), .out_data_o(pf_data), .count_o(pf_count)
  );

  // ---------------------------------------------------------------------------
  // Stream job: the streamed operand(s) onto the array's in stream.
  // ---------------------------------------------------------------------------
  typedef struct packed {
    logic                     first;
    logic                     last;
    logic [Rows-1:0][InW-1:0] a;
    logic [Cols-1:0][InW-1:0] b;
  } step_t;

  logic                       df_os;
  logic                       st_active_q, st_pend_q, st_first_q, st_last_q;
  stream_job_t                st_q;
  logic [11:0]                st_i_q;
  logic                       st_issue, st_last;
  logic                       sf_valid, sf_ready, sf_in_ready;
  logic [$clog2(SkidD+1)-1:0] sf_count;
  step_t                      sf_in, sf_out;

  assign df_os    = (df_q == DF_OS);
  assign st_issue = st_active_q && (32'(sf_count) + 32'(st_pend_q) < SkidD);
  assign st_last  = (st_i_q + 12'd1 == st_q.len);
  assign sjq_pop  = !st_active_q && sjq_valid;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_active_q <= 1'b0;
      st_pend_q   <= 1'b0;
    end else begin
      st_pend_q <= st_issue;
      if (sjq_pop) st_active_q <= 1'b1;
      else if (st_issue && st_last) st_active_q <= 1'b0;
    end
  end
  always_ff @(posedge clk_i) begin
    if (sjq_pop) begin
      st_q   <= sj;
      st_i_q <= '0;
    end else if (st_issue) begin
      st_i_q <= st_i_q + 12'd1;
    end
    if (st_issue) begin
      st_first_q <= (st_i_q == '0) && (st_q.os || st_q.first);
      st_last_q  <= st_last;
    end
  end

  always_comb begin
    sf_in.first = st_first_q;
    sf_in.last  = st_last_q;
    sf_in.a     = sp_rdata_i[0][Rows-1:0];
    sf_in.b     = sp_rdata_i[1][Cols-1:0];
  end

  sa_fifo #(.Width($bits(step_t)), .Depth(SkidD), .PushWhenReady(1'b1)) u_sf (
    .clk_i, .rst_ni,
    .in_valid_i(st_pend_q), .in_ready_o(sf_in_ready), .in_data_i(sf_in),
    .out_valid_o(sf_valid), .out_ready_i(sf_ready), .out_data_o(sf_out), .count_o(sf_count)
  );

  // Scratchpad reads.
  always_comb begin
    sp_re_o       = '0;
    sp_raddr_o[0] = SpAW'(32'(st_q.in_row) + 32'(st_i_q));
    sp_raddr_o[1] = df_os ? SpAW'(32'(st_q.b_row) + 32'(st_i_q)) : SpAW'(pre_row_q);
    sp_re_o[0]    = st_issue;
    sp_re_o[1]    = df_os ? st_issue : pre_issue;
  end

  // ---------------------------------------------------------------------------
  // The array and its results.
  // ---------------------------------------------------------------------------
  logic                      out_valid, out_last;
  logic [Cols-1:0][ACC_W-1:0] out_data;
  logic [11:0]               oj_q;
  logic                      in_ready, pre_ready;

  sa_array #(.Rows(Rows), .Cols(Cols), .Datapath(Datapath), .StableChecks(1'b0)) u_array (
    .clk_i,
    .rst_ni,
    .dataflow_i (df_q),
    .idle_o     (array_idle),
    .pre_valid_i(pf_valid),
    .pre_ready_o(pre_ready),
    .pre_data_i (pf_data),
    .in_valid_i (sf_valid),
    .in_ready_o (in_ready),
    .in_a_i     (sf_out.a),
    .in_b_i     (sf_out.b),
    .in_first_i (sf_out.first),
    .in_last_i  (sf_out.last),
    .out_valid_o(out_valid),
    .out_ready_i(1'b1),
    .out_data_o (out_data),
    .out_last_o (out_last)
  );
  assign pf_ready = pre_ready;
  assign sf_ready = in_ready;
  assign step_o   = sf_valid && in_ready;

  assign upd_valid_o = out_valid;
  assign upd_addr_o  = AcAW'(32'(tag.acc_row) + 32'(oj_q));
  assign upd_acc_o   = tag.accumulate;
  assign upd_data_o  = out_data;
  assign tq_pop      = out_valid && (oj_q + 12'd1 == tag.count);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      oj_q       <= '0;
      dl_valid_q <= '0;
    end else begin
      if (out_valid) oj_q <= tq_pop ? 12'd0 : oj_q + 12'd1;
      dl_valid_q <= {dl_valid_q[0], tq_pop};
    end
  end
  assign g_fin = dl_valid_q[1];

  assign pipe_empty = !sjq_valid && !st_active_q && !st_pend_q && !sf_valid &&
                      !pjq_valid && !pre_active_q && !pre_pend_q && !pf_valid &&
                      !tq_valid && (dl_valid_q == '0) && array_idle;
  assign gemm_idle  = !tq_valid && (dl_valid_q == '0) && !sjq_valid && !st_active_q &&
                      !sf_valid && !st_pend_q;

  // ---------------------------------------------------------------------------
  // Unfinished GEMMs (pushed at dispatch, popped when they finish, in order)
  // and the VEC at the queue head checked against them.
  // ---------------------------------------------------------------------------
  gin_t                    gin_q [GinD];
  logic [GinD-1:0]         gv_q;
  logic [$clog2(GinD)-1:0] gw_q, gr_q;
  gin_t                    gin_in;
  logic                    v_src2;

  always_comb begin
    gin_in.acc_row = gi.acc_row;
    gin_in.count   = tq_in.count;
    gin_in.in_row  = gi.in_row;
    gin_in.b_row   = gi.b_row;
    gin_in.pre_row = gi.pre_row;
    gin_in.len     = gi.len;
    gin_in.os      = (dataflow_e'(gi.dataflow) == DF_OS);
    gin_in.pre     = !gi.reuse && (dataflow_e'(gi.dataflow) != DF_OS);
  end

  logic [GinD-1:0] gv_d;
  always_comb begin
    gv_d = gv_q;
    if (g_fin) gv_d[gr_q] = 1'b0;
    if (dispatch_gemm) gv_d[gw_q] = 1'b1;  // never the entry finishing: the table is not full
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      gv_q <= '0;
      gw_q <= '0;
      gr_q <= '0;
    end else begin
      gv_q <= gv_d;
      if (dispatch_gemm) gw_q <= gw_q + 1'b1;
      if (g_fin) gr_q <= gr_q + 1'b1;
    end
  end
  always_ff @(posedge clk_i) begin
    if (dispatch_gemm) gin_q[gw_q] <= gin_in;
  end

  // Row ranges [a, a + an) and [b, b + bn) intersect.
  function automatic logic rows_meet(logic [15:0] a, logic [12:0] an, logic [15:0] b,
                                     logic [12:0] bn);
    return (32'(a) < 32'(b) + 32'(bn)) && (32'(b) < 32'(a) + 32'(an));
  endfunction

  assign v_src2 = vec_op_reads_src2(isa_vec_op_e'(vi.op));
  always_comb begin
    vec_hazard = 1'b0;
    for (int unsigned e = 0; e < GinD; e++) begin
      if (gv_q[e]) begin
        if (rows_meet(gin_q[e].acc_row, 13'(gin_q[e].count), vi.src_row, 13'(vi.rows)) ||
            (v_src2 &&
             rows_meet(gin_q[e].acc_row, 13'(gin_q[e].count), vi.src2_row, 13'(vi.rows))))
          vec_hazard = 1'b1;
        if (vi.dst_sram == SRAM_ACC) begin
          if (rows_meet(gin_q[e].acc_row, 13'(gin_q[e].count), vi.dst_row, 13'(vi.rows)))
            vec_hazard = 1'b1;
        end else begin
          if (rows_meet(gin_q[e].in_row, 13'(gin_q[e].len), vi.dst_row, 13'(vi.rows)) ||
              (gin_q[e].os &&
               rows_meet(gin_q[e].b_row, 13'(gin_q[e].len), vi.dst_row, 13'(vi.rows))) ||
              (gin_q[e].pre &&
               rows_meet(gin_q[e].pre_row, 13'(Rows), vi.dst_row, 13'(vi.rows))))
            vec_hazard = 1'b1;
        end
      end
    end
  end

  // Completion in program order.
  sa_fifo #(.Width($bits(cpl_t)), .Depth(CplD), .PushWhenReady(1'b1)) u_cq (
    .clk_i, .rst_ni,
    .in_valid_i(dispatch_gemm || dispatch_vec), .in_ready_o(cq_in_ready), .in_data_i(cq_in),
    .out_valid_o(cq_valid), .out_ready_i(retire), .out_data_o(cq_head),
    /* verilator lint_off PINCONNECTEMPTY */  // fill level not needed
    .count_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );
  assign retire = cq_valid && (cq_head.gemm ? (gf_q != '0 || g_fin) : (vf_q != '0 || v_last_wr));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      gf_q <= '0;
      vf_q <= '0;
    end else begin
      gf_q <= gf_q + FinW'(g_fin) - FinW'(retire && cq_head.gemm);
      vf_q <= vf_q + FinW'(v_last_wr) - FinW'(retire && !cq_head.gemm);
    end
  end

  // ---------------------------------------------------------------------------
  // Vector instructions
  // ---------------------------------------------------------------------------
  logic [11:0] v_tag_q;
  logic [11:0] v_rd_q, v_wr_q;
  logic        v_pend_q, v_issue, v_out_valid, v_in_ready, v_last_wr;
  logic [Cols-1:0][ACC_W-1:0] v_out;
  logic [15:0] v_out_tag;
  logic [4:0]  shift_q;

  assign v_issue   = vec_active_q && (v_rd_q != v_q.rows);
  assign v_last_wr = v_out_valid && (v_wr_q + 12'd1 == v_q.rows);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      vec_active_q <= 1'b0;
      v_pend_q     <= 1'b0;
      shift_q      <= '0;
    end else begin
      v_pend_q <= v_issue;
      if (dispatch_vec) vec_active_q <= 1'b1;
      else if (v_last_wr) vec_active_q <= 1'b0;
      if (dispatch_cfg) shift_q <= ci.int8_shift;
    end
  end
  // Row index of the read issued last cycle: the tag that travels with it
  // through the vector unit (checked against the write counter below).
  always_ff @(posedge clk_i) begin
    if (v_issue) v_tag_q <= v_rd_q;
  end

  always_ff @(posedge clk_i) begin
    if (dispatch_vec) begin
      v_q    <= vi;
      v_rd_q <= '0;
      v_wr_q <= '0;
    end else begin
      if (v_issue) v_rd_q <= v_rd_q + 12'd1;
      if (v_out_valid) v_wr_q <= v_wr_q + 12'd1;
    end
  end

  assign ac_re_o       = {v_issue, v_issue};
  assign ac_raddr_o[0] = AcAW'(32'(v_q.src_row) + 32'(v_rd_q));
  assign ac_raddr_o[1] = AcAW'(32'(v_q.src2_row) + 32'(v_rd_q));

  sa_vpu #(.Lanes(Cols), .Datapath(Datapath), .StableChecks(1'b0)) u_vpu (
    .clk_i,
    .rst_ni,
    .in_valid_i (v_pend_q),
    .in_ready_o (v_in_ready),
    .in_op_i    (isa_vec_op_e'(v_q.op)),
    .in_imm_i   (v_q.imm),
    .in_shift_i (shift_q),
    .in_x_i     (ac_rdata_i[0]),
    .in_b_i     (ac_rdata_i[1]),
    .in_tag_i   (16'(v_tag_q)),
    .out_valid_o(v_out_valid),
    .out_ready_i(1'b1),
    .out_row_o  (v_out),
    .out_tag_o  (v_out_tag)
  );

  always_comb begin
    ac_we_o    = v_out_valid && (v_q.dst_sram == SRAM_ACC);
    ac_waddr_o = AcAW'(32'(v_q.dst_row) + 32'(v_wr_q));
    ac_wmask_o = '1;
    ac_wdata_o = v_out;
    sp_we_o    = v_out_valid && (v_q.dst_sram == SRAM_SPAD);
    sp_waddr_o = SpAW'(32'(v_q.dst_row) + 32'(v_wr_q));
    sp_wmask_o = '0;
    sp_wdata_o = '0;
    for (int unsigned l = 0; l < Cols; l++) begin
      sp_wmask_o[l] = 1'b1;
      sp_wdata_o[l] = v_out[l][InW-1:0];
    end
  end
  assign vec_row_o = v_out_valid;

  // ---------------------------------------------------------------------------
  // Completion: program order, from the completion FIFO (CONFIG only when it is empty).
  // ---------------------------------------------------------------------------
  assign done_o           = retire || dispatch_cfg;
  assign done_push_prev_o = retire ? cq_head.push_prev : ci.push_prev;
  assign done_push_next_o = retire ? cq_head.push_next : ci.push_next;
  assign busy_o = !pipe_empty || vec_active_q || v_pend_q || cq_valid;

  // The skid FIFOs are never pushed when full (asserted inside them).
  logic unused_ready;
  assign unused_ready = sf_in_ready ^ pf_in_ready;

`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni) out_valid |-> tq_valid)
    else $error("sa_exec: array result without an output tag");
  assert property (@(posedge clk_i) disable iff (!rst_ni) out_valid |-> (out_last == tq_pop))
    else $error("sa_exec: array tile end and output tag disagree");
  assert property (@(posedge clk_i) disable iff (!rst_ni) v_pend_q |-> v_in_ready)
    else $error("sa_exec: vector unit not ready");
  // The row leaving the vector unit is the one the write counter expects.
  assert property (@(posedge clk_i) disable iff (!rst_ni) v_out_valid |-> v_out_tag == 16'(v_wr_q))
    else $error("sa_exec: vector unit result out of order");
`endif

endmodule
