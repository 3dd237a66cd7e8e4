// sa_dma_rd: the load DMA of sa_core. Executes LOAD instructions (memory ->
// scratchpad or accumulator) over the read channels of the AXI4 master port.
//
// Request side: for each row r < rows of an instruction, the bytes
// [dram_addr + r*dram_stride, + cols*eb) are read with INCR bursts of whole
// bus words (up to MAX_BURST_BEATS beats, never crossing a 4 KiB boundary), at most
// MaxOut bursts outstanding. The request side runs ahead into the next
// instruction while the receive side still takes the data of the previous ones
// (LOAD_RX_DEPTH instructions in flight).
// Receive side (responses in order, one id): the bytes of a row are placed
// into a row buffer at their offset, and the row is written to the SRAM with
// the beat that completes it (lanes >= cols are left unchanged). Transposed:
// every element of DRAM row r is written to lane r of SRAM row sram_row + e,
// one element per cycle (the beat is held while its elements are written).
// Element addresses must be aligned to the element size (the controller
// rejects anything else), so no element straddles two beats.
// `done_o` pulses in the cycle of an instruction's last SRAM write; the write is
// visible to reads from the next cycle.
module sa_dma_rd
  import sa_pkg::*;
  import sa_isa_pkg::*;
#(
  parameter int unsigned BusBytes  = 16,
  parameter int unsigned SpadLanes = 16,
  parameter int unsigned InW       = 8,
  parameter int unsigned AccLanes  = 16,
  parameter int unsigned SpadWords = 64,
  parameter int unsigned AccWords  = 64,
  localparam int unsigned MaxOut   = LOAD_MAX_BURSTS,  // the device contract's
  localparam int unsigned BusW     = BusBytes * 8,
  localparam int unsigned SpAW     = $clog2(SpadWords),
  localparam int unsigned AcAW     = $clog2(AccWords)
) (
  input  logic                                clk_i,
  input  logic                                rst_ni,
  // Instructions (checked by the controller).
  input  logic                                insn_valid_i,
  output logic                                insn_ready_o,
  input  dma_insn_t                          insn_i,
  output logic                                done_o,
  output logic                                done_push_next_o,
  output logic                                busy_o,
  output logic                                err_o,
  // AXI read address / data channels.
  output logic                                ar_valid_o,
  input  logic                                ar_ready_i,
  output logic [39:0]                         ar_addr_o,
  output logic [7:0]                          ar_len_o,
  input  logic                                r_valid_i,
  output logic                                r_ready_o,
  input  logic [BusW-1:0]                     r_data_i,
  input  logic [1:0]                          r_resp_i,
  input  logic                                r_last_i,
  // SRAM write ports.
  output logic                                sp_we_o,
  output logic [SpAW-1:0]                     sp_waddr_o,
  output logic [SpadLanes-1:0]                sp_wmask_o,
  output logic [SpadLanes-1:0][InW-1:0]       sp_wdata_o,
  output logic                                ac_we_o,
  output logic [AcAW-1:0]                     ac_waddr_o,
  output logic [AccLanes-1:0]                 ac_wmask_o,
  output logic [AccLanes-1:0][ACC_W-1:0]      ac_wdata_o
);

  localparam int unsigned EbS    = InW / 8;
  localparam int unsigned SpRowB = SpadLanes * EbS;
  localparam int unsigned AcRowB = AccLanes * 4;
  localparam int unsigned RowB   = (SpRowB > AcRowB) ? SpRowB : AcRowB;
  localparam int unsigned BBits  = $clog2(BusBytes);
  localparam int unsigned OutW   = $clog2(MaxOut + 1);
  localparam int unsigned BigB   = RowB + 2 * BusBytes;  // row window plus a beat either side

  if (BusBytes < 4 || BusBytes > 64 || (1 << BBits) != BusBytes) begin : gen_bad_bus
    $error("sa_dma_rd: BusBytes must be a power of two in 4..64");
  end

  // Bytes of one DRAM row of instruction `in` (cols x element bytes).
  function automatic logic [13:0] row_bytes(isa_sram_e sram, logic [11:0] cols);
    return (sram == SRAM_ACC) ? {cols, 2'b00} : 14'(32'(cols) * EbS);
  endfunction

  // ---------------------------------------------------------------------------
  // Request side
  // ---------------------------------------------------------------------------
  /* verilator lint_off UNUSEDSIGNAL */  // the request side reads the address fields
  dma_insn_t       rq_q;
  /* verilator lint_on UNUSEDSIGNAL */
  logic             rq_active_q;
  logic [11:0]      rq_row_q;
  logic [39:0]      rq_ra_q, rq_baddr_q;
  logic [12:0]      rq_left_q;
  logic [OutW-1:0]  out_q;
  logic             ar_fire, r_fire, r_last_fire;
  logic [8:0]       burst;
  logic             rxq_in_ready, rxq_valid;
  /* verilator lint_off UNUSEDSIGNAL */  // the receive side reads the layout fields
  dma_insn_t       rx;
  /* verilator lint_on UNUSEDSIGNAL */
  logic             rx_pop;
  logic             accept;

  logic [39:0] rq_ra_next, rx_ra_next;
  assign rq_ra_next   = rq_ra_q + 40'(rq_q.dram_stride);
  assign burst        = axi_burst_beats(rq_baddr_q[11:0], rq_left_q, BBits, MAX_BURST_BEATS);
  assign ar_valid_o   = rq_active_q && (out_q != OutW'(MaxOut));
  assign ar_addr_o    = rq_baddr_q;
  assign ar_len_o     = 8'(burst - 9'd1);
  assign ar_fire      = ar_valid_o && ar_ready_i;
  assign insn_ready_o = !rq_active_q && rxq_in_ready;
  assign accept       = insn_valid_i && insn_ready_o;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rq_active_q <= 1'b0;
      out_q       <= '0;
    end else begin
      out_q <= out_q + OutW'(ar_fire) - OutW'(r_last_fire);
      if (accept) begin
        rq_active_q <= 1'b1;
      end else if (ar_fire && 13'(burst) == rq_left_q && rq_row_q + 12'd1 == rq_q.rows) begin
        rq_active_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (accept) begin
      rq_q       <= insn_i;
      rq_row_q   <= '0;
      rq_ra_q    <= insn_i.dram_addr;
      rq_baddr_q <= {insn_i.dram_addr[39:BBits], BBits'(0)};
      rq_left_q  <= axi_row_beats(insn_i.dram_addr, row_bytes(insn_i.sram, insn_i.cols), BBits);
    end else if (ar_fire) begin
      if (13'(burst) == rq_left_q) begin
        rq_row_q   <= rq_row_q + 12'd1;
        rq_ra_q    <= rq_ra_q + 40'(rq_q.dram_stride);
        rq_baddr_q <= {rq_ra_next[39:BBits], BBits'(0)};
        rq_left_q  <= axi_row_beats(rq_ra_next, row_bytes(rq_q.sram, rq_q.cols), BBits);
      end else begin
        rq_baddr_q <= rq_baddr_q + 40'(burst) * 40'(BusBytes);
        rq_left_q  <= rq_left_q - 13'(burst);
      end
    end
  end

  // Instructions whose data is still to be received.
  sa_fifo #(.Width($bits(dma_insn_t)), .Depth(LOAD_RX_DEPTH), .PushWhenReady(1'b1)) u_rxq (
    .clk_i,
    .rst_ni,
    .in_valid_i (accept),
    .in_ready_o (rxq_in_ready),
    .in_data_i  (insn_i),
    .out_valid_o(rxq_valid),
    .out_ready_i(rx_pop),
    .out_data_o (rx),
    /* verilator lint_off PINCONNECTEMPTY */  // fill level not needed
    .count_o    ()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  // ---------------------------------------------------------------------------
  // Receive side
  // ---------------------------------------------------------------------------
  logic               rx_active_q;
  logic [11:0]        rx_row_q, rx_e_q;
  logic [39:0]        rx_ra_q, rx_baddr_q;
  logic [12:0]        rx_left_q;
  logic [RowB*8-1:0]  rowbuf_q, rowbuf_d;
  logic [15:0]        shift;      // BusBytes + (beat address - row address), in bytes
  // The beat placed at its row offset; only the row's window is used.
  /* verilator lint_off UNUSEDSIGNAL */
  logic [BigB*8-1:0]  big;
  logic [BigB-1:0]    bigm;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [RowB*8-1:0]  placed;
  logic [RowB-1:0]    placedm;
  logic [15:0]        epos;       // transposed: byte of element rx_e_q in the beat
  logic [31:0]        elem;
  logic               tr, beat_end, row_end, last_row, wr;
  logic [13:0]        rb;

  assign rx_ra_next = rx_ra_q + 40'(rx.dram_stride);
  assign tr       = rx.transpose;
  assign rb       = row_bytes(rx.sram, rx.cols);
  assign shift    = 16'(40'(BusBytes) + rx_baddr_q - rx_ra_q);
  assign epos     = 16'(40'(rx_e_q) * ((rx.sram == SRAM_ACC) ? 40'd4 : 40'(EbS)) + rx_ra_q - rx_baddr_q);
  assign last_row = (rx_row_q + 12'd1 == rx.rows);
  // Transposed: the beat ends with the element whose end reaches the beat's
  // end or with the row's last element.
  assign beat_end = tr ? ((32'(epos) + (rx.sram == SRAM_ACC ? 4 : EbS) >= BusBytes) ||
                          (rx_e_q + 12'd1 == rx.cols))
                       : 1'b1;
  assign row_end  = tr ? (rx_e_q + 12'd1 == rx.cols) : (rx_left_q == 13'd1);
  assign r_ready_o = rx_active_q && beat_end;
  assign r_fire    = r_valid_i && r_ready_o;
  assign r_last_fire = r_fire && r_last_i;
  assign wr        = rx_active_q && r_valid_i && (tr || row_end);
  assign rx_pop    = rx_active_q && r_valid_i && row_end && last_row && beat_end;
  assign done_o    = rx_pop;
  assign done_push_next_o = rx.push_next;
  assign busy_o    = rq_active_q || rxq_valid;


  // Computed only while a beat is offered (simulation speed).
  always_comb begin
    big      = '0;
    bigm     = '0;
    rowbuf_d = rowbuf_q;
    elem     = '0;
    if (rx_active_q && r_valid_i) begin
      if (tr) begin
        elem = 32'(r_data_i >> (32'(epos) * 8));
      end else begin
        big  = {{(BigB - BusBytes) * 8{1'b0}}, r_data_i} << (32'(shift) * 8);
        bigm = {{(BigB - BusBytes){1'b0}}, {BusBytes{1'b1}}} << shift;
      end
    end
    placed  = big[(BusBytes + RowB) * 8 - 1 -: RowB * 8];
    placedm = bigm[BusBytes + RowB - 1 -: RowB];
    if (rx_active_q && r_valid_i && !tr) begin
      for (int unsigned b = 0; b < RowB; b++) begin
        if (placedm[b]) rowbuf_d[b*8 +: 8] = placed[b*8 +: 8];
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rx_active_q <= 1'b0;
      err_o       <= 1'b0;
    end else begin
      if (r_fire && r_resp_i != 2'b00) err_o <= 1'b1;
      if (!rx_active_q && rxq_valid) begin
        rx_active_q <= 1'b1;
      end else if (rx_pop) begin
        rx_active_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rx_active_q && rxq_valid) begin
      rx_row_q        <= '0;
      rx_e_q          <= '0;
      rx_ra_q         <= rx.dram_addr;
      rx_baddr_q      <= {rx.dram_addr[39:BBits], BBits'(0)};
      rx_left_q       <= axi_row_beats(rx.dram_addr, rb, BBits);
    end else if (rx_active_q && r_valid_i) begin
      if (r_fire) rowbuf_q <= rowbuf_d;
      if (row_end && beat_end) begin
        rx_row_q   <= rx_row_q + 12'd1;
        rx_e_q     <= '0;
        rx_ra_q    <= rx_ra_q + 40'(rx.dram_stride);
        rx_baddr_q <= {rx_ra_next[39:BBits], BBits'(0)};
        rx_left_q  <= axi_row_beats(rx_ra_next, rb, BBits);
      end else begin
        if (tr) rx_e_q <= rx_e_q + 12'd1;
        if (r_fire) begin
          rx_baddr_q <= rx_baddr_q + 40'(BusBytes);
          rx_left_q  <= rx_left_q - 13'd1;
        end
      end
    end
  end

  // SRAM writes.
  always_comb begin
    sp_we_o    = wr && (rx.sram == SRAM_SPAD);
    ac_we_o    = wr && (rx.sram == SRAM_ACC);
    sp_waddr_o = SpAW'(32'(rx.sram_row) + (tr ? 32'(rx_e_q) : 32'(rx_row_q)));
    ac_waddr_o = AcAW'(32'(rx.sram_row) + (tr ? 32'(rx_e_q) : 32'(rx_row_q)));
    for (int unsigned l = 0; l < SpadLanes; l++) begin
      sp_wdata_o[l] = tr ? elem[InW-1:0] : rowbuf_d[l*InW +: InW];
      sp_wmask_o[l] = tr ? (32'(rx_row_q) == l) : (l < 32'(rx.cols));
    end
    for (int unsigned l = 0; l < AccLanes; l++) begin
      ac_wdata_o[l] = tr ? elem : rowbuf_d[l*32 +: 32];
      ac_wmask_o[l] = tr ? (32'(rx_row_q) == l) : (l < 32'(rx.cols));
    end
  end

  sa_hs_chk #(.Width(48), .Name("sa_dma_rd AR")) u_ar_chk (
    .clk_i, .rst_ni, .valid_i(ar_valid_o), .ready_i(ar_ready_i), .data_i({ar_addr_o, ar_len_o}));

endmodule
