// sa_dma_wr: the store DMA of sa_core. Executes STORE instructions
// (scratchpad or accumulator -> memory) over the write channels of the AXI4
// master port.
//
// Non-transposed, row r's bytes [dram_addr + r*dram_stride, + cols*eb) go out
// as INCR bursts of whole bus words (up to MAX_BURST_BEATS beats, never crossing a 4 KiB
// boundary) whose strobes cover exactly the row's bytes. The beats come
// straight from the SRAM read port's output register: row 0 is read in S_RD,
// row r+1 in the cycle of row r's last beat, so the rows of a STORE stream at
// bus rate. A burst's AW is offered with its first W beat (AXI4 lets W go
// first); the next burst starts when the AW register is free, so at most one
// AW waits while its beats flow.
// Transposed: DRAM row r is SRAM lane r of rows sram_row + e (e < cols); the
// elements of one bus word are read one per cycle, then the word is written
// as a one-beat burst. Element addresses are aligned to the element size.
// Completion: an instruction completes (done_o) when every write response of
// it has arrived, so a later LOAD of the same bytes reads the stored data. The
// next STORE does not wait for that: once the W beats and AWs of one are out,
// the unit takes the next if the completion FIFO (MaxStores entries: the count
// of AWs that ends each STORE waiting for its responses) has room. B
// responses of one id come in AW order, so STOREs complete in order.
module sa_dma_wr
  import sa_pkg::*;
  import sa_isa_pkg::*;
#(
  parameter int unsigned BusBytes  = 16,
  parameter int unsigned SpadLanes = 16,
  parameter int unsigned InW       = 8,
  parameter int unsigned AccLanes  = 16,
  parameter int unsigned SpadWords = 64,
  parameter int unsigned AccWords  = 64,
  localparam int unsigned MaxStores = STORE_CPL_DEPTH,  // STOREs waiting for their write responses
  localparam int unsigned BusW     = BusBytes * 8,
  localparam int unsigned SpAW     = $clog2(SpadWords),
  localparam int unsigned AcAW     = $clog2(AccWords)
) (
  input  logic                                clk_i,
  input  logic                                rst_ni,
  input  logic                                insn_valid_i,
  output logic                                insn_ready_o,
  input  dma_insn_t                         insn_i,
  output logic                                done_o,
  output logic                                done_push_prev_o,
  output logic                                busy_o,
  output logic                                err_o,
  // AXI write channels.
  output logic                                aw_valid_o,
  input  logic                                aw_ready_i,
  output logic [39:0]                         aw_addr_o,
  output logic [7:0]                          aw_len_o,
  output logic                                w_valid_o,
  input  logic                                w_ready_i,
  output logic [BusW-1:0]                     w_data_o,
  output logic [BusBytes-1:0]                 w_strb_o,
  output logic                                w_last_o,
  input  logic                                b_valid_i,
  output logic                                b_ready_o,
  input  logic [1:0]                          b_resp_i,
  // SRAM read ports (registered: data the cycle after the request, held
  // until the next request).
  output logic                                sp_re_o,
  output logic [SpAW-1:0]                     sp_raddr_o,
  input  logic [SpadLanes-1:0][InW-1:0]       sp_rdata_i,
  output logic                                ac_re_o,
  output logic [AcAW-1:0]                     ac_raddr_o,
  input  logic [AccLanes-1:0][ACC_W-1:0]      ac_rdata_i
);

  localparam int unsigned EbS    = InW / 8;
  localparam int unsigned SpRowB = SpadLanes * EbS;
  localparam int unsigned AcRowB = AccLanes * 4;
  localparam int unsigned RowB   = (SpRowB > AcRowB) ? SpRowB : AcRowB;
  localparam int unsigned BBits  = $clog2(BusBytes);
  localparam int unsigned ExtB   = RowB + 2 * BusBytes;

  if (BusBytes < 4 || BusBytes > 64 || (1 << BBits) != BusBytes) begin : gen_bad_bus
    $error("sa_dma_wr: BusBytes must be a power of two in 4..64");
  end
  if (MaxStores < 1) begin : gen_bad_max
    $error("sa_dma_wr: MaxStores must be at least 1");
  end

  // S_RD: row 0's SRAM read; S_W: beats (bleft_q = 0 while a burst waits for
  // the AW register); S_FILL: a transposed word being gathered; S_END: the
  // last beat is out, the last AW not yet.
  typedef enum logic [2:0] {
    S_IDLE, S_RD, S_W, S_FILL, S_END
  } state_e;


  state_e          st_q;
  /* verilator lint_off UNUSEDSIGNAL */  // opcode and flags other than push_prev
  dma_insn_t     in_q;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [11:0]     row_q, e_q;
  logic [39:0]     ra_q, baddr_q, ra_next;
  logic [12:0]     left_q;
  logic [8:0]      bleft_q;
  logic [15:0]     aw_cnt_q, b_cnt_q;
  logic            acc, tr, aw_fire, w_fire, b_fire, last_row;
  logic [2:0]      eb;
  logic [13:0]     rb;
  // The AW register: one burst's address waiting for its handshake.
  logic            awp_q, aw_free;
  logic [39:0]     awa_q;
  logic [7:0]      awl_q;
  // Burst bookkeeping of the cycle.
  logic            burst_end, row_end, insn_end, start_burst;
  logic [39:0]     nxt_baddr, sb_addr;
  logic [12:0]     nxt_left, sb_left;
  logic [8:0]      sb_beats;
  // Completion FIFO: {push_prev, AW count at the STORE's end}.
  logic            cpl_push, cpl_in_ready, cpl_valid, cpl_pp;
  logic [15:0]     cpl_cnt;
  // Transposed word being filled.
  logic [BusW-1:0]     tbuf_q;
  logic [BusBytes-1:0] tstrb_q;
  logic                tpend_q;   // an element read last cycle is to be placed
  logic [11:0]         tpe_q;     // its element index
  logic [15:0]         epos;      // byte of element tpe_q in the word
  logic                e_in_word, e_more, fill_done;

  assign acc      = (in_q.sram == SRAM_ACC);
  assign tr       = in_q.transpose;
  assign eb       = acc ? 3'd4 : 3'(EbS);
  assign rb       = acc ? {in_q.cols, 2'b00} : 14'(32'(in_q.cols) * EbS);
  assign ra_next  = ra_q + 40'(in_q.dram_stride);
  assign last_row = (row_q + 12'd1 == in_q.rows);

  assign aw_valid_o = awp_q;
  assign aw_addr_o  = awa_q;
  assign aw_len_o   = awl_q;
  assign aw_fire    = awp_q && aw_ready_i;
  assign aw_free    = !awp_q || aw_ready_i;
  assign w_valid_o  = (st_q == S_W) && (bleft_q != 9'd0);
  assign w_last_o   = (bleft_q == 9'd1);
  assign w_fire     = w_valid_o && w_ready_i;
  assign b_ready_o  = 1'b1;
  assign b_fire     = b_valid_i;

  assign burst_end = w_fire && (bleft_q == 9'd1);
  assign row_end   = burst_end && (left_q == 13'd1);
  assign insn_end  = row_end && last_row;

  // Element e of the transposed row lies in the current word?
  assign e_in_word = (32'(e_q) < 32'(in_q.cols)) &&
                     (40'(e_q) * 40'(eb) + ra_q < baddr_q + 40'(BusBytes));
  assign epos      = 16'(40'(tpe_q) * 40'(eb) + ra_q - baddr_q);
  assign e_more    = e_in_word;
  assign fill_done = (st_q == S_FILL) && !e_more && !tpend_q;

  // The next burst: from the walker's registers (the first burst, or one that
  // waited for the AW register), or, at a burst's last beat, from where the
  // walker goes next (the next words of the row, or the next row).
  always_comb begin
    nxt_baddr = (left_q == 13'd1) ? {ra_next[39:BBits], BBits'(0)} : baddr_q + 40'(BusBytes);
    nxt_left  = (left_q == 13'd1) ? axi_row_beats(ra_next, rb, BBits) : left_q - 13'd1;
    sb_addr   = burst_end ? nxt_baddr : baddr_q;
    sb_left   = burst_end ? nxt_left : left_q;
    sb_beats  = tr ? 9'd1 : axi_burst_beats(sb_addr[11:0], sb_left, BBits, MAX_BURST_BEATS);
    start_burst = 1'b0;
    if (aw_free) begin
      unique case (st_q)
        S_RD:    start_burst = 1'b1;
        S_W:     start_burst = !tr && ((burst_end && !insn_end) || bleft_q == 9'd0);
        S_FILL:  start_burst = fill_done;
        default: start_burst = 1'b0;
      endcase
    end
  end

  assign cpl_push = ((st_q == S_W) && insn_end && aw_free) || ((st_q == S_END) && aw_fire);
  assign done_o   = cpl_valid && (b_cnt_q + 16'(b_fire) == cpl_cnt);
  assign done_push_prev_o = cpl_pp;
  assign insn_ready_o = (st_q == S_IDLE) && cpl_in_ready;
  assign busy_o       = (st_q != S_IDLE) || cpl_valid;

  sa_fifo #(.Width(17), .Depth(MaxStores), .PushWhenReady(1'b1)) u_cpl (
    .clk_i, .rst_ni,
    .in_valid_i (cpl_push),
    .in_ready_o (cpl_in_ready),
    .in_data_i  ({in_q.push_prev, aw_cnt_q + 16'(aw_fire)}),
    .out_valid_o(cpl_valid),
    .out_ready_i(done_o),
    .out_data_o ({cpl_pp, cpl_cnt}),
    /* verilator lint_off PINCONNECTEMPTY */  // the fill level is not needed
    .count_o    ()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  // Beat data and strobes of the non-transposed row (row bytes in the SRAM
  // output register).
  logic [RowB*8-1:0] row;
  logic [ExtB*8-1:0] ext;
  logic [ExtB-1:0]   extm;
  logic [15:0]       shift;  // BusBytes + (beat address - row address)
  logic [BusW-1:0]   nt_data;
  logic [BusBytes-1:0] nt_strb;
  logic [31:0]       elem;

  always_comb begin
    row = '0;
    if (acc) row[AcRowB*8-1:0] = ac_rdata_i;
    else     row[SpRowB*8-1:0] = sp_rdata_i;
    shift   = 16'(40'(BusBytes) + baddr_q - ra_q);
    ext     = '0;
    extm    = '0;
    nt_data = '0;
    nt_strb = '0;
    // Computed only while a beat is offered (simulation speed).
    if (w_valid_o && !tr) begin
      ext = {{BusBytes * 8{1'b0}}, row, {BusBytes * 8{1'b0}}};
      for (int unsigned b = 0; b < RowB; b++) begin
        extm[BusBytes + b] = (b < 32'(rb));
      end
      nt_data = BusW'(ext >> (32'(shift) * 8));
      nt_strb = BusBytes'(extm >> shift);
    end
    elem = acc ? ac_rdata_i[row_q[$clog2(AccLanes > 1 ? AccLanes : 2)-1:0]]
               : 32'(sp_rdata_i[row_q[$clog2(SpadLanes > 1 ? SpadLanes : 2)-1:0]]);
  end

  assign w_data_o = tr ? tbuf_q : nt_data;
  assign w_strb_o = tr ? tstrb_q : nt_strb;

  // SRAM reads: row 0 in S_RD, row r+1 with row r's last beat (the beats of
  // row r+1 then find it in the output register); transposed, one element
  // row per cycle in S_FILL.
  logic        rd_row;
  logic [11:0] rd_idx;
  always_comb begin
    rd_row     = !tr && ((st_q == S_RD) || (row_end && !insn_end));
    rd_idx     = tr ? e_q : ((st_q == S_RD) ? row_q : row_q + 12'd1);
    sp_re_o    = 1'b0;
    ac_re_o    = 1'b0;
    sp_raddr_o = SpAW'(32'(in_q.sram_row) + 32'(rd_idx));
    ac_raddr_o = AcAW'(32'(in_q.sram_row) + 32'(rd_idx));
    if (rd_row || ((st_q == S_FILL) && e_more)) begin
      sp_re_o = !acc;
      ac_re_o = acc;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q     <= S_IDLE;
      awp_q    <= 1'b0;
      aw_cnt_q <= '0;
      b_cnt_q  <= '0;
      err_o    <= 1'b0;
      tpend_q  <= 1'b0;
    end else begin
      if (b_fire && b_resp_i != 2'b00) err_o <= 1'b1;
      if (b_fire) b_cnt_q <= b_cnt_q + 16'd1;
      if (aw_fire) aw_cnt_q <= aw_cnt_q + 16'd1;
      if (start_burst) awp_q <= 1'b1;
      else if (aw_fire) awp_q <= 1'b0;
      tpend_q <= (st_q == S_FILL) && e_more;
      unique case (st_q)
        S_IDLE: if (insn_valid_i && insn_ready_o) st_q <= insn_i.transpose ? S_FILL : S_RD;
        S_RD:   st_q <= S_W;
        S_W: begin
          if (insn_end) st_q <= aw_free ? S_IDLE : S_END;
          else if (burst_end && tr) st_q <= S_FILL;
        end
        // Stays until the last element read was placed and the AW register
        // is free.
        S_FILL: if (start_burst) st_q <= S_W;
        S_END:  if (aw_fire) st_q <= S_IDLE;
        default: st_q <= S_IDLE;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (st_q == S_IDLE && insn_valid_i && insn_ready_o) begin
      in_q    <= insn_i;
      row_q   <= '0;
      e_q     <= '0;
      ra_q    <= insn_i.dram_addr;
      baddr_q <= {insn_i.dram_addr[39:BBits], BBits'(0)};
      left_q  <= axi_row_beats(insn_i.dram_addr,
                               (insn_i.sram == SRAM_ACC) ? {insn_i.cols, 2'b00}
                                                         : 14'(32'(insn_i.cols) * EbS),
                               BBits);
      bleft_q <= '0;
      tbuf_q  <= '0;
      tstrb_q <= '0;
    end
    if (start_burst) begin
      awa_q <= sb_addr;
      awl_q <= 8'(sb_beats - 9'd1);
    end
    if (st_q == S_FILL) begin
      if (e_more) begin
        e_q   <= e_q + 12'd1;
        tpe_q <= e_q;
      end
      if (tpend_q) begin
        for (int unsigned b = 0; b < 4; b++) begin
          if (b < 32'(eb)) begin
            tbuf_q[(32'(epos) + b) * 8 +: 8] <= elem[b*8 +: 8];
            tstrb_q[32'(epos) + b]           <= 1'b1;
          end
        end
      end
    end
    if (start_burst) bleft_q <= sb_beats;
    else if (w_fire) bleft_q <= bleft_q - 9'd1;
    if (w_fire) begin
      if (bleft_q == 9'd1 && left_q == 13'd1) begin
        // Row done.
        row_q   <= row_q + 12'd1;
        e_q     <= '0;
        ra_q    <= ra_next;
        baddr_q <= {ra_next[39:BBits], BBits'(0)};
        left_q  <= axi_row_beats(ra_next, rb, BBits);
      end else begin
        baddr_q <= baddr_q + 40'(BusBytes);
        left_q  <= left_q - 13'd1;
      end
      if (tr) begin
        tbuf_q  <= '0;
        tstrb_q <= '0;
      end
    end
  end

  sa_hs_chk #(.Width(48), .Name("sa_dma_wr AW")) u_aw_chk (
    .clk_i, .rst_ni, .valid_i(aw_valid_o), .ready_i(aw_ready_i), .data_i({aw_addr_o, aw_len_o}));
  sa_hs_chk #(.Width(BusW + BusBytes + 1), .Name("sa_dma_wr W")) u_w_chk (
    .clk_i, .rst_ni, .valid_i(w_valid_o), .ready_i(w_ready_i),
    .data_i({w_data_o, w_strb_o, w_last_o}));

endmodule
