// sa_accum: the accumulator SRAM (docs/device.md): Words rows of Lanes
// partial sums (int32 or binary32 by Datapath).
//
// Update port (from the array): one row per cycle, never stalls. A row is
// written (acc_i = 0: the first K fold) or added lane by lane to the stored row
// (acc_i = 1: later folds, sa_arith_pkg::mac_add, the golden model's fold
// order). Two stages: the stored row is read in the cycle the update is
// accepted, the sum is written at the end of the next cycle; an update of the
// row written in the cycle before is forwarded, so back-to-back updates of one
// row are exact.
// Read ports (NRd; vector unit, store DMA): registered; a read issued in cycle
// t returns, in cycle t+1, the row with every update accepted up to cycle t-2
// applied (an update accepted in t-1 is written at the end of t).
// Write ports 0 (load DMA) and 1 (vector unit), used in the same cycle when the
// LOAD and EXEC queues work on different rows: plain writes with lane masks,
// visible to reads from the next cycle (port 1 wins on a row both write). A
// write must not hit a row that has an update in flight (the controller
// orders them; the update would overwrite it).
module sa_accum
  import sa_pkg::*;
#(
  parameter int unsigned Words    = 64,
  parameter int unsigned Lanes    = 4,
  parameter int unsigned Datapath = DP_INT8,
  parameter int unsigned NRd      = 1,
  localparam int unsigned AddrW   = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        upd_valid_i,
  input  logic [AddrW-1:0]            upd_addr_i,
  input  logic                        upd_acc_i,
  input  logic [Lanes-1:0][ACC_W-1:0] upd_data_i,
  input  logic [NRd-1:0]                        rd_en_i,
  input  logic [NRd-1:0][AddrW-1:0]             rd_addr_i,
  output logic [NRd-1:0][Lanes-1:0][ACC_W-1:0]  rd_data_o,
  input  logic [1:0]                            wr_en_i,
  input  logic [1:0][AddrW-1:0]                 wr_addr_i,
  input  logic [1:0][Lanes-1:0]                 wr_mask_i,
  input  logic [1:0][Lanes-1:0][ACC_W-1:0]      wr_data_i
);

  if (Words < 2 || Lanes < 1) begin : gen_bad_params
    $error("sa_accum: need Words >= 2 and Lanes >= 1");
  end

  typedef logic [Lanes-1:0][ACC_W-1:0] row_t;

  row_t mem_q [Words];

  // Stage 1: the accepted update and the stored row read for it.
  logic             s1_valid_q, s1_acc_q;
  logic [AddrW-1:0] s1_addr_q;
  row_t             s1_data_q, s1_old_q;
  // The row written at the end of the previous cycle (forwarding source).
  logic             wb_valid_q;
  logic [AddrW-1:0] wb_addr_q;
  row_t             wb_data_q;
  row_t             old, sum, wr_merged0, wr_merged1;

  always_comb begin
    // Only computed in a cycle that writes (simulation speed: Verilator
    // evaluates every combinational block every cycle).
    old = '0;
    sum = '0;
    if (s1_valid_q && s1_acc_q) begin
      old = (wb_valid_q && wb_addr_q == s1_addr_q) ? wb_data_q : s1_old_q;
      for (int unsigned l = 0; l < Lanes; l++) begin
        sum[l] = sa_arith_pkg::mac_add(Datapath, old[l], s1_data_q[l]);
      end
    end
    wr_merged0 = '0;
    wr_merged1 = '0;
    if (wr_en_i[0]) begin
      wr_merged0 = mem_q[wr_addr_i[0]];
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (wr_mask_i[0][l]) wr_merged0[l] = wr_data_i[0][l];
      end
    end
    if (wr_en_i[1]) begin
      wr_merged1 = mem_q[wr_addr_i[1]];
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (wr_mask_i[1][l]) wr_merged1[l] = wr_data_i[1][l];
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q <= 1'b0;
      wb_valid_q <= 1'b0;
    end else begin
      s1_valid_q <= upd_valid_i;
      wb_valid_q <= s1_valid_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (upd_valid_i) begin
      s1_addr_q <= upd_addr_i;
      s1_acc_q  <= upd_acc_i;
      s1_data_q <= upd_data_i;
      s1_old_q  <= mem_q[upd_addr_i];
    end
    if (s1_valid_q) begin
      mem_q[s1_addr_q] <= s1_acc_q ? sum : s1_data_q;
      wb_addr_q        <= s1_addr_q;
      wb_data_q        <= s1_acc_q ? sum : s1_data_q;
    end
    if (wr_en_i[0]) begin
      mem_q[wr_addr_i[0]] <= wr_merged0;
    end
    if (wr_en_i[1]) begin
      mem_q[wr_addr_i[1]] <= wr_merged1;
    end
  end

  // One register per read port.
  for (genvar p = 0; p < NRd; p++) begin : gen_rd
    row_t rd_q;
    always_ff @(posedge clk_i) begin
      if (rd_en_i[p]) rd_q <= mem_q[rd_addr_i[p]];
    end
    assign rd_data_o[p] = rd_q;
  end

`ifndef SYNTHESIS
  // Addresses beyond the last row exist only when Words is not a power of two
  // (with a power of two the check would be a tautology evaluated every cycle).
  if ((1 << AddrW) != Words) begin : gen_range_chk
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        upd_valid_i |-> 32'(upd_addr_i) < Words)
      else $error("sa_accum: update address out of range");
    for (genvar p = 0; p < NRd; p++) begin : gen_rd_chk
      assert property (@(posedge clk_i) disable iff (!rst_ni)
          rd_en_i[p] |-> 32'(rd_addr_i[p]) < Words)
        else $error("sa_accum: read address out of range on port %0d", p);
    end
    for (genvar p = 0; p < 2; p++) begin : gen_wr_chk
      assert property (@(posedge clk_i) disable iff (!rst_ni)
          wr_en_i[p] |-> 32'(wr_addr_i[p]) < Words)
        else $error("sa_accum: write address out of range on port %0d", p);
    end
  end
`endif

endmodule
