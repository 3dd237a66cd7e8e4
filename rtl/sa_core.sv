// sa_core: the sasim accelerator (docs/device.md). The array (sa_array inside
// sa_exec), the scratchpad (sa_mpram) and accumulator (sa_accum) SRAMs, the
// load and store DMA engines, the vector unit and the controller that fetches
// the instruction stream over the same AXI4 master port.
//
// Host interface: a one-cycle start_i with the program's address and length
// (instructions) runs the program; done_o rises (and stays until the next
// start) when FINISH was decoded and every queue and unit has drained, or at
// the first error (err_code_o, err_pc_o = index of the instruction).
//
// Barrier (SYNC, docs/multicore.md): a dispatched SYNC stops dispatch. Once
// every earlier instruction has completed and nothing is outstanding on the
// bus (the fetch unit included), sync_o rises and stays high; the device
// raises sync_go_i for one cycle when every core of the launch holds sync_o
// (a device of one core: the cycle after sync_o rises), and dispatch resumes
// in the next cycle. While sync_o is high the core issues nothing on the bus.
//
// Controller: fetched instructions are decoded (sa_decode), checked against
// the configuration (ERR_RANGE / ERR_ALIGN) and dispatched in order into three
// queues: LOAD, EXEC (GEMM, VEC, CONFIG), STORE; SYNC holds dispatch (above),
// FINISH stops fetching. Each
// queue issues its head to its unit when the tokens it pops are available
// (pop_prev/pop_next: LOAD <- EXEC <- STORE channels as in VTA); the unit
// pushes the instruction's tokens when it completes.
//
// AXI ids: 0 instruction fetch, 1 load DMA (reads), 0 store DMA (writes).
module sa_core
  import sa_pkg::*;
  import sa_isa_pkg::*;
#(
  // Defaults: the device contract's (spec/contract.json, sa_isa_pkg).
  parameter int unsigned Rows      = CORE_ROWS_DEFAULT,
  parameter int unsigned Cols      = CORE_COLS_DEFAULT,
  parameter int unsigned Datapath  = CORE_DATAPATH_DEFAULT,
  parameter int unsigned SpadRows  = CORE_SPAD_ROWS_DEFAULT,
  parameter int unsigned AccRows   = CORE_ACC_ROWS_DEFAULT,
  parameter int unsigned BusBytes  = CORE_BUS_BYTES_DEFAULT,
  localparam int unsigned QDepth   = INSN_QUEUE_DEPTH,  // the device contract's
  localparam int unsigned InW      = op_width(Datapath),
  localparam int unsigned W        = (Rows > Cols) ? Rows : Cols,
  localparam int unsigned BusW     = BusBytes * 8,
  localparam int unsigned SpAW     = $clog2(SpadRows),
  localparam int unsigned AcAW     = $clog2(AccRows)
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // Host.
  input  logic                  start_i,
  input  logic [39:0]           prog_addr_i,
  input  logic [31:0]           prog_len_i,
  output logic                  done_o,
  output logic                  busy_o,
  output logic [3:0]            err_code_o,
  output logic [31:0]           err_pc_o,
  output logic                  progress_o,
  // Barrier.
  output logic                  sync_o,     // waiting at a SYNC, drained and quiet
  input  logic                  sync_go_i,  // release (one cycle, only while sync_o)
  output logic [63:0]           perf_o [NUM_PERF],
  // Debug view (watchdog state dump).
  output logic [31:0]           dbg_pc_o,       // next instruction to dispatch
  output logic [3:0][7:0]       dbg_qcount_o,   // fetch buffer, LOAD, EXEC, STORE queue fill
  output logic [3:0][15:0]      dbg_tokens_o,   // ld->ex, ex->ld, ex->st, st->ex
  output logic [3:0]            dbg_busy_o,     // fetch, load, exec, store busy
  output logic [3:0]            dbg_wait_o,     // head blocked on tokens: load, exec(prev), exec(next), store
  output logic [NUM_PERF-1:0]   dbg_inc_o,      // one-per-cycle counters counting in this cycle
  output logic [2:0]            dbg_pop_o,      // an instruction leaves the queue: store, exec, load
  output logic                  dbg_sync_o,     // a SYNC holds dispatch (draining or waiting)
  // AXI4 master.
  output logic                  m_ar_valid_o,
  input  logic                  m_ar_ready_i,
  output logic [1:0]            m_ar_id_o,
  output logic [39:0]           m_ar_addr_o,
  output logic [7:0]            m_ar_len_o,
  input  logic                  m_r_valid_i,
  output logic                  m_r_ready_o,
  input  logic [1:0]            m_r_id_i,
  input  logic [BusW-1:0]       m_r_data_i,
  input  logic                  m_r_last_i,
  input  logic [1:0]            m_r_resp_i,
  output logic                  m_aw_valid_o,
  input  logic                  m_aw_ready_i,
  output logic [1:0]            m_aw_id_o,
  output logic [39:0]           m_aw_addr_o,
  output logic [7:0]            m_aw_len_o,
  output logic                  m_w_valid_o,
  input  logic                  m_w_ready_i,
  output logic [BusW-1:0]       m_w_data_o,
  output logic [BusBytes-1:0]   m_w_strb_o,
  output logic                  m_w_last_o,
  input  logic                  m_b_valid_i,
  output logic                  m_b_ready_o,
  input  logic [1:0]            m_b_id_i,
  input  logic [1:0]            m_b_resp_i
);

  localparam int unsigned EbS = InW / 8;
  localparam int unsigned QCntW = $clog2(QDepth + 1);

  if (Rows < 2 || Cols < 2) begin : gen_bad_shape
    $error("sa_core: Rows and Cols must be at least 2");
  end
  if (SpadRows < 2 || (1 << SpAW) != SpadRows || AccRows < 2 || (1 << AcAW) != AccRows)
  begin : gen_bad_sram
    $error("sa_core: SpadRows and AccRows must be powers of two");
  end
  // sa_pkg's datapath encoding (used below the contract) is the contract's.
  if (DP_INT8 != DATAPATH_INT8 || DP_BF16 != DATAPATH_BF16) begin : gen_bad_datapath
    $error("sa_core: sa_pkg::DP_* differ from the contract's datapath encoding");
  end

  // ---------------------------------------------------------------------------
  // Run state
  // ---------------------------------------------------------------------------
  logic        running_q, done_q, finish_q, sync_q;
  core_err_e   err_q, err_d;
  logic [31:0] err_pc_q, len_q, disp_q;
  logic        stop;

  // ---------------------------------------------------------------------------
  // Fetch and dispatch
  // ---------------------------------------------------------------------------
  logic              f_ar_valid, f_ar_ready, f_r_valid, f_r_ready, f_busy;
  logic [39:0]       f_ar_addr;
  logic [7:0]        f_ar_len;
  logic              f_valid, f_ready;
  logic [INSN_W-1:0] f_insn;
  logic [31:0]       f_pc;

  assign stop = finish_q || (err_q != ERR_NONE);

  logic l_ar_valid, l_ar_ready, l_r_valid, l_r_ready;

  // The read data channel enters through a register slice (an
  // R_SLICE_DEPTH-entry skid buffer): everything downstream depends on flops only, so the
  // verilated model evaluates the DMA datapath once per clock edge, not again
  // on every input change; it costs one cycle of read latency.
  typedef struct packed {
    logic [1:0]      id;
    logic            last;
    logic [1:0]      resp;
    logic [BusW-1:0] data;
  } rbeat_t;
  rbeat_t r_in, r_beat;
  logic   r_valid, r_ready;
  assign r_in = '{id: m_r_id_i, last: m_r_last_i, resp: m_r_resp_i, data: m_r_data_i};
  sa_fifo #(.Width($bits(rbeat_t)), .Depth(R_SLICE_DEPTH)) u_rslice (
    .clk_i, .rst_ni,
    .in_valid_i (m_r_valid_i),
    .in_ready_o (m_r_ready_o),
    .in_data_i  (r_in),
    .out_valid_o(r_valid),
    .out_ready_i(r_ready),
    .out_data_o (r_beat),
    /* verilator lint_off PINCONNECTEMPTY */  // fill level not needed
    .count_o    ()
    /* verilator lint_on PINCONNECTEMPTY */
  );
  assign f_r_valid = r_valid && (r_beat.id == 2'd0);
  assign l_r_valid = r_valid && (r_beat.id == 2'd1);
  assign r_ready   = (err_q != ERR_NONE) || ((r_beat.id == 2'd0) ? f_r_ready : l_r_ready);

  sa_fetch #(.BusBytes(BusBytes)) u_fetch (
    .clk_i, .rst_ni,
    .start_i   (start_i && !running_q),
    .addr_i    (prog_addr_i),
    .len_i     (prog_len_i),
    .stop_i    (stop),
    .busy_o    (f_busy),
    .ar_valid_o(f_ar_valid),
    .ar_ready_i(f_ar_ready),
    .ar_addr_o (f_ar_addr),
    .ar_len_o  (f_ar_len),
    .r_valid_i (f_r_valid),
    .r_ready_o (f_r_ready),
    .r_data_i  (r_beat.data),
    .r_last_i  (r_beat.last),
    .out_valid_o(f_valid),
    .out_ready_i(f_ready),
    .out_insn_o(f_insn),
    .out_pc_o  (f_pc)
  );

  logic   d_illegal, d_pp, d_pn, d_up, d_un;
  queue_e d_queue;
  sa_decode u_decode (
    .insn_i     (f_insn),
    .illegal_o  (d_illegal),
    .queue_o    (d_queue),
    .pop_prev_o (d_pp),
    .pop_next_o (d_pn),
    .push_prev_o(d_up),
    .push_next_o(d_un)
  );

  // Checks against the configuration.
  core_err_e chk;
  sa_check #(
    .Rows(Rows), .Cols(Cols), .SpadRows(SpadRows), .AccRows(AccRows), .EbS(EbS)
  ) u_check (
    .insn_i   (f_insn),
    .illegal_i(d_illegal),
    .err_o    (chk)
  );
  /* verilator lint_off UNUSEDSIGNAL */
  finish_insn_t f_common;  // the fetched word's common fields
  /* verilator lint_on UNUSEDSIGNAL */
  assign f_common = finish_insn_t'(f_insn);

  // Queues.
  logic              lq_in_v, lq_in_r, lq_v, lq_pop;
  logic              eq_in_v, eq_in_r, eq_v, eq_pop;
  logic              sq_in_v, sq_in_r, sq_v, sq_pop;
  logic [INSN_W-1:0] lq_out, eq_out, sq_out;
  logic [QCntW-1:0]  lq_cnt, eq_cnt, sq_cnt;
  logic              is_finish, is_sync, target_ready, disp;

  assign is_finish    = (f_common.opcode == OP_FINISH);
  assign is_sync      = (f_common.opcode == OP_SYNC);
  always_comb begin
    unique case (d_queue)
      Q_LOAD:  target_ready = lq_in_r;
      Q_EXEC:  target_ready = eq_in_r;
      Q_STORE: target_ready = sq_in_r;
      default: target_ready = 1'b1;  // Q_CTRL: SYNC, FINISH
    endcase
  end
  // An instruction that fails its checks is not dispatched; it stops the core.
  assign disp    = running_q && !stop && !sync_q && f_valid && (chk == ERR_NONE) && target_ready;
  assign f_ready = disp || (running_q && stop);
  assign lq_in_v = disp && d_queue == Q_LOAD;
  assign eq_in_v = disp && d_queue == Q_EXEC;
  assign sq_in_v = disp && d_queue == Q_STORE;

  sa_fifo #(.Width(INSN_W), .Depth(QDepth), .PushWhenReady(1'b1)) u_lq (
    .clk_i, .rst_ni, .in_valid_i(lq_in_v), .in_ready_o(lq_in_r), .in_data_i(f_insn),
    .out_valid_o(lq_v), .out_ready_i(lq_pop), .out_data_o(lq_out), .count_o(lq_cnt));
  sa_fifo #(.Width(INSN_W), .Depth(QDepth), .PushWhenReady(1'b1)) u_eq (
    .clk_i, .rst_ni, .in_valid_i(eq_in_v), .in_ready_o(eq_in_r), .in_data_i(f_insn),
    .out_valid_o(eq_v), .out_ready_i(eq_pop), .out_data_o(eq_out), .count_o(eq_cnt));
  sa_fifo #(.Width(INSN_W), .Depth(QDepth), .PushWhenReady(1'b1)) u_sq (
    .clk_i, .rst_ni, .in_valid_i(sq_in_v), .in_ready_o(sq_in_r), .in_data_i(f_insn),
    .out_valid_o(sq_v), .out_ready_i(sq_pop), .out_data_o(sq_out), .count_o(sq_cnt));

  // ---------------------------------------------------------------------------
  // Dependency tokens and issue
  // ---------------------------------------------------------------------------
  logic        t_ld2ex, t_ex2ld, t_ex2st, t_st2ex;  // a token is available
  logic [15:0] t_ld2ex_q, t_ex2ld_q, t_ex2st_q, t_st2ex_q;
  // Common fields (dependency flags) of the queue heads.
  /* verilator lint_off UNUSEDSIGNAL */
  finish_insn_t lh, eh, sh;
  /* verilator lint_on UNUSEDSIGNAL */
  logic l_ok, e_ok, s_ok;
  logic l_ready, e_ready, s_ready;
  logic l_done, e_done, s_done, l_push_next, e_push_prev, e_push_next, s_push_prev;

  assign lh = finish_insn_t'(lq_out);
  assign eh = finish_insn_t'(eq_out);
  assign sh = finish_insn_t'(sq_out);
  assign l_ok = !lh.pop_next || t_ex2ld;
  assign e_ok = (!eh.pop_prev || t_ld2ex) && (!eh.pop_next || t_st2ex);
  assign s_ok = !sh.pop_prev || t_ex2st;
  assign lq_pop = lq_v && l_ok && l_ready && err_q == ERR_NONE;
  assign eq_pop = eq_v && e_ok && e_ready && err_q == ERR_NONE;
  assign sq_pop = sq_v && s_ok && s_ready && err_q == ERR_NONE;

  logic clear;  // a program starts: tokens and counters from zero
  assign clear = start_i && !running_q;
  sa_token u_t_ld2ex (.clk_i, .rst_ni, .clear_i(clear), .push_i(l_done && l_push_next),
                      .pop_i(eq_pop && eh.pop_prev), .avail_o(t_ld2ex), .count_o(t_ld2ex_q));
  sa_token u_t_ex2ld (.clk_i, .rst_ni, .clear_i(clear), .push_i(e_done && e_push_prev),
                      .pop_i(lq_pop && lh.pop_next), .avail_o(t_ex2ld), .count_o(t_ex2ld_q));
  sa_token u_t_ex2st (.clk_i, .rst_ni, .clear_i(clear), .push_i(e_done && e_push_next),
                      .pop_i(sq_pop && sh.pop_prev), .avail_o(t_ex2st), .count_o(t_ex2st_q));
  sa_token u_t_st2ex (.clk_i, .rst_ni, .clear_i(clear), .push_i(s_done && s_push_prev),
                      .pop_i(eq_pop && eh.pop_next), .avail_o(t_st2ex), .count_o(t_st2ex_q));

  // ---------------------------------------------------------------------------
  // Units and memories
  // ---------------------------------------------------------------------------
  logic l_busy, l_err, e_busy, e_err, s_busy, s_err, e_step, e_vrow;

  // Scratchpad: read 0/1 exec, 2 store; write 0 load DMA, 1 vector unit.
  logic [2:0]                sp_re;
  logic [2:0][SpAW-1:0]      sp_raddr;
  logic [2:0][W-1:0][InW-1:0] sp_rdata;
  logic [1:0]                sp_we;
  logic [1:0][SpAW-1:0]      sp_waddr;
  logic [1:0][W-1:0]         sp_wmask;
  logic [1:0][W-1:0][InW-1:0] sp_wdata;
  // Accumulator: update (array), read 0/1 exec, 2 store; write 0 load DMA, 1 vector unit.
  logic                      upd_valid, upd_acc;
  logic [AcAW-1:0]           upd_addr;
  logic [Cols-1:0][ACC_W-1:0] upd_data;
  logic [2:0]                ac_re;
  logic [2:0][AcAW-1:0]      ac_raddr;
  logic [2:0][Cols-1:0][ACC_W-1:0] ac_rdata;
  logic                      l_ac_we, e_ac_we;
  logic [AcAW-1:0]           l_ac_waddr, e_ac_waddr;
  logic [Cols-1:0]           l_ac_wmask, e_ac_wmask;
  logic [Cols-1:0][ACC_W-1:0] l_ac_wdata, e_ac_wdata;

  logic [39:0] l_ar_addr;
  logic [7:0]  l_ar_len;

  sa_dma_rd #(
    .BusBytes(BusBytes), .SpadLanes(W), .InW(InW), .AccLanes(Cols),
    .SpadWords(SpadRows), .AccWords(AccRows)
  ) u_load (
    .clk_i, .rst_ni,
    .insn_valid_i(lq_v && l_ok && err_q == ERR_NONE),
    .insn_ready_o(l_ready),
    .insn_i      (dma_insn_t'(lq_out)),
    .done_o      (l_done),
    .done_push_next_o(l_push_next),
    .busy_o      (l_busy),
    .err_o       (l_err),
    .ar_valid_o  (l_ar_valid),
    .ar_ready_i  (l_ar_ready),
    .ar_addr_o   (l_ar_addr),
    .ar_len_o    (l_ar_len),
    .r_valid_i   (l_r_valid),
    .r_ready_o   (l_r_ready),
    .r_data_i    (r_beat.data),
    .r_resp_i    (r_beat.resp),
    .r_last_i    (r_beat.last),
    .sp_we_o     (sp_we[0]),
    .sp_waddr_o  (sp_waddr[0]),
    .sp_wmask_o  (sp_wmask[0]),
    .sp_wdata_o  (sp_wdata[0]),
    .ac_we_o     (l_ac_we),
    .ac_waddr_o  (l_ac_waddr),
    .ac_wmask_o  (l_ac_wmask),
    .ac_wdata_o  (l_ac_wdata)
  );

  sa_exec #(
    .Rows(Rows), .Cols(Cols), .Datapath(Datapath), .SpadWords(SpadRows), .AccWords(AccRows)
  ) u_exec (
    .clk_i, .rst_ni,
    .insn_valid_i(eq_v && e_ok && err_q == ERR_NONE),
    .insn_ready_o(e_ready),
    .insn_i      (eq_out),
    .done_o      (e_done),
    .done_push_prev_o(e_push_prev),
    .done_push_next_o(e_push_next),
    .busy_o      (e_busy),
    .err_o       (e_err),
    .step_o      (e_step),
    .vec_row_o   (e_vrow),
    .sp_re_o     (sp_re[1:0]),
    .sp_raddr_o  (sp_raddr[1:0]),
    .sp_rdata_i  (sp_rdata[1:0]),
    .sp_we_o     (sp_we[1]),
    .sp_waddr_o  (sp_waddr[1]),
    .sp_wmask_o  (sp_wmask[1]),
    .sp_wdata_o  (sp_wdata[1]),
    .upd_valid_o (upd_valid),
    .upd_addr_o  (upd_addr),
    .upd_acc_o   (upd_acc),
    .upd_data_o  (upd_data),
    .ac_re_o     (ac_re[1:0]),
    .ac_raddr_o  (ac_raddr[1:0]),
    .ac_rdata_i  (ac_rdata[1:0]),
    .ac_we_o     (e_ac_we),
    .ac_waddr_o  (e_ac_waddr),
    .ac_wmask_o  (e_ac_wmask),
    .ac_wdata_o  (e_ac_wdata),
    /* verilator lint_off PINCONNECTEMPTY */  // waves only
    .dataflow_o  ()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  sa_dma_wr #(
    .BusBytes(BusBytes), .SpadLanes(W), .InW(InW), .AccLanes(Cols),
    .SpadWords(SpadRows), .AccWords(AccRows)
  ) u_store (
    .clk_i, .rst_ni,
    .insn_valid_i(sq_v && s_ok && err_q == ERR_NONE),
    .insn_ready_o(s_ready),
    .insn_i      (dma_insn_t'(sq_out)),
    .done_o      (s_done),
    .done_push_prev_o(s_push_prev),
    .busy_o      (s_busy),
    .err_o       (s_err),
    .aw_valid_o  (m_aw_valid_o),
    .aw_ready_i  (m_aw_ready_i),
    .aw_addr_o   (m_aw_addr_o),
    .aw_len_o    (m_aw_len_o),
    .w_valid_o   (m_w_valid_o),
    .w_ready_i   (m_w_ready_i),
    .w_data_o    (m_w_data_o),
    .w_strb_o    (m_w_strb_o),
    .w_last_o    (m_w_last_o),
    .b_valid_i   (m_b_valid_i),
    .b_ready_o   (m_b_ready_o),
    .b_resp_i    (m_b_resp_i),
    .sp_re_o     (sp_re[2]),
    .sp_raddr_o  (sp_raddr[2]),
    .sp_rdata_i  (sp_rdata[2]),
    .ac_re_o     (ac_re[2]),
    .ac_raddr_o  (ac_raddr[2]),
    .ac_rdata_i  (ac_rdata[2])
  );
  assign m_aw_id_o = 2'd0;

  sa_mpram #(.Words(SpadRows), .Lanes(W), .LaneW(InW), .NRd(3)) u_spad (
    .clk_i, .rst_ni,
    .rd_en_i  (sp_re),
    .rd_addr_i(sp_raddr),
    .rd_data_o(sp_rdata),
    .wr_en_i  (sp_we),
    .wr_addr_i(sp_waddr),
    .wr_mask_i(sp_wmask),
    .wr_data_i(sp_wdata)
  );

  sa_accum #(.Words(AccRows), .Lanes(Cols), .Datapath(Datapath), .NRd(3)) u_acc (
    .clk_i, .rst_ni,
    .upd_valid_i(upd_valid),
    .upd_addr_i (upd_addr),
    .upd_acc_i  (upd_acc),
    .upd_data_i (upd_data),
    .rd_en_i    (ac_re),
    .rd_addr_i  (ac_raddr),
    .rd_data_o  (ac_rdata),
    .wr_en_i    ({e_ac_we, l_ac_we}),
    .wr_addr_i  ({e_ac_waddr, l_ac_waddr}),
    .wr_mask_i  ({e_ac_wmask, l_ac_wmask}),
    .wr_data_i  ({e_ac_wdata, l_ac_wdata})
  );

  // ---------------------------------------------------------------------------
  // AXI read address arbitration (fetch id 0, load id 1) and response routing
  // ---------------------------------------------------------------------------
  logic ar_sel, ar_lock_q, ar_grant_q, ar_last_q;  // 1: load
  always_comb begin
    if (ar_lock_q) ar_sel = ar_grant_q;
    else if (f_ar_valid && l_ar_valid) ar_sel = !ar_last_q;
    else ar_sel = l_ar_valid;
  end
  assign m_ar_valid_o = ar_sel ? l_ar_valid : f_ar_valid;
  assign m_ar_id_o    = ar_sel ? 2'd1 : 2'd0;
  assign m_ar_addr_o  = ar_sel ? l_ar_addr : f_ar_addr;
  assign m_ar_len_o   = ar_sel ? l_ar_len : f_ar_len;
  assign l_ar_ready   = ar_sel && m_ar_ready_i;
  assign f_ar_ready   = !ar_sel && m_ar_ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ar_lock_q  <= 1'b0;
      ar_grant_q <= 1'b0;
      ar_last_q  <= 1'b0;
    end else begin
      ar_lock_q  <= m_ar_valid_o && !m_ar_ready_i;
      ar_grant_q <= ar_sel;
      if (m_ar_valid_o && m_ar_ready_i) ar_last_q <= ar_sel;
    end
  end



  // ---------------------------------------------------------------------------
  // Run control, errors
  // ---------------------------------------------------------------------------
  logic all_idle;
  assign all_idle = !lq_v && !eq_v && !sq_v && !l_busy && !e_busy && !s_busy && !f_busy;
  // At a SYNC the fetch unit fills its buffer and then stops requesting (no
  // dispatch frees room), so a drained core with no fetch request pending
  // stays quiet until the release.
  assign sync_o = running_q && sync_q && all_idle && !f_ar_valid && err_q == ERR_NONE;

  always_comb begin
    err_d = err_q;
    if (err_q == ERR_NONE && running_q) begin
      if (running_q && !stop && f_valid && chk != ERR_NONE) err_d = chk;
      else if (e_err) err_d = ERR_REUSE;
      else if (l_err) err_d = ERR_BUS_READ;
      else if (s_err) err_d = ERR_BUS_WRITE;
      else if (!finish_q && disp_q == len_q && !f_valid) err_d = ERR_NO_FINISH;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      done_q    <= 1'b0;
      finish_q  <= 1'b0;
      sync_q    <= 1'b0;
      err_q     <= ERR_NONE;
      err_pc_q  <= '0;
      disp_q    <= '0;
      len_q     <= '0;
    end else if (start_i && !running_q) begin
      running_q <= 1'b1;
      done_q    <= 1'b0;
      finish_q  <= 1'b0;
      sync_q    <= 1'b0;
      err_q     <= ERR_NONE;
      err_pc_q  <= '0;
      disp_q    <= '0;
      len_q     <= prog_len_i;
    end else if (running_q) begin
      err_q <= err_d;
      if (err_q == ERR_NONE && err_d != ERR_NONE) err_pc_q <= f_valid ? f_pc : disp_q;
      if (disp) begin
        disp_q <= disp_q + 32'd1;
        if (is_finish) finish_q <= 1'b1;
        if (is_sync) sync_q <= 1'b1;
      end
      if (sync_go_i) sync_q <= 1'b0;
      if (err_q != ERR_NONE || (finish_q && all_idle)) begin
        running_q <= 1'b0;
        done_q    <= 1'b1;
      end
    end
  end

  assign done_o     = done_q;
  assign busy_o     = running_q;
  assign err_code_o = err_q;
  assign err_pc_o   = err_pc_q;

  // ---------------------------------------------------------------------------
  // Performance counters and debug view
  // ---------------------------------------------------------------------------
  // The events of the contract's counters (sa_perf holds the registers).
  logic [NUM_PERF-1:0]       inc;
  logic [NUM_PERF-1:0][1:0]  add;  // 0..3 per cycle
  always_comb begin
    inc = '0;
    add = '0;
    inc[PERF_CYCLES]          = running_q;
    inc[PERF_EXEC_BUSY]       = running_q && e_busy;
    inc[PERF_EXEC_WAIT_LOAD]  = running_q && !e_busy && eq_v && eh.pop_prev && !t_ld2ex;
    inc[PERF_EXEC_WAIT_STORE] = running_q && !e_busy && eq_v && !(eh.pop_prev && !t_ld2ex) &&
                                eh.pop_next && !t_st2ex;
    inc[PERF_EXEC_STARVED]    = running_q && !e_busy && !eq_v;
    inc[PERF_ARRAY_STEPS]     = e_step;
    inc[PERF_VEC_ROWS]        = e_vrow;
    inc[PERF_LOAD_BUSY]       = running_q && l_busy;
    inc[PERF_STORE_BUSY]      = running_q && s_busy;
    inc[PERF_INSN_LOAD]       = l_done;
    inc[PERF_INSN_EXEC]       = e_done;
    inc[PERF_INSN_STORE]      = s_done;
    inc[PERF_INSN_CTRL]       = disp && (is_finish || is_sync);
    inc[PERF_SYNC_WAIT]       = running_q && sync_q;
    inc[PERF_LOAD_BEATS]      = l_r_valid && l_r_ready;
    inc[PERF_STORE_BEATS]     = m_w_valid_o && m_w_ready_i;
    inc[PERF_FETCH_BEATS]     = f_r_valid && f_r_ready;
    inc[PERF_AR_STALL]        = m_ar_valid_o && !m_ar_ready_i;
    inc[PERF_W_STALL]         = (m_aw_valid_o && !m_aw_ready_i) || (m_w_valid_o && !m_w_ready_i);
    add[PERF_SPAD_READS]      = 2'(sp_re[0]) + 2'(sp_re[1]) + 2'(sp_re[2]);
    add[PERF_SPAD_WRITES]     = 2'(sp_we[0]) + 2'(sp_we[1]);
    add[PERF_ACC_READS]       = 2'(ac_re[0]) + 2'(ac_re[1]) + 2'(ac_re[2]);
    add[PERF_ACC_WRITES]      = 2'(upd_valid) + 2'(l_ac_we) + 2'(e_ac_we);
    for (int unsigned i = 0; i < NUM_PERF; i++) begin
      if (inc[i]) add[i] = 2'd1;
    end
  end
  sa_perf u_perf (.clk_i, .rst_ni, .clear_i(clear), .add_i(add), .perf_o);

  assign progress_o = disp || l_done || e_done || s_done || e_step || e_vrow ||
                      (m_r_valid_i && m_r_ready_o) || (m_w_valid_o && m_w_ready_i) ||
                      (m_b_valid_i && m_b_ready_o) || sync_go_i;
  assign dbg_pc_o     = f_valid ? f_pc : disp_q;
  assign dbg_qcount_o = {8'(sq_cnt), 8'(eq_cnt), 8'(lq_cnt), 8'(f_valid)};
  assign dbg_tokens_o = {t_st2ex_q, t_ex2st_q, t_ex2ld_q, t_ld2ex_q};
  assign dbg_busy_o   = {s_busy, e_busy, l_busy, f_busy};
  assign dbg_inc_o    = inc;
  assign dbg_pop_o    = {sq_pop, eq_pop, lq_pop};
  assign dbg_sync_o   = sync_q;
  assign dbg_wait_o   = {sq_v && !s_ok, eq_v && eh.pop_next && t_st2ex_q == '0,
                         eq_v && eh.pop_prev && t_ld2ex_q == '0, lq_v && !l_ok};

  logic unused;
  assign unused = ^{d_pp, d_pn, d_up, d_un, m_b_id_i};

`ifndef SYNTHESIS
  // The device releases only a core that waits at its barrier.
  assert property (@(posedge clk_i) disable iff (!rst_ni) sync_go_i |-> sync_o)
    else $error("sa_core: sync_go_i while not waiting at a SYNC");
`endif

endmodule
