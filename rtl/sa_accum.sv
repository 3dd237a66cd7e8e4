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
// visible to reads from the next cycle. A write must not hit a row that has an
// update in flight (the controller orders them).
// Storage: sa_mpram with NRd + 1 read ports (the last reads the stored row of
// an update) and three write ports (0: the update's result, 1: write port 0,
// 2: write port 1), so collisions follow sa_mpram's one rule: lane by lane,
// the higher port wins (port 1 over port 0 over an update).
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

  // Stage 1: the accepted update (the stored row arrives from the SRAM's last
  // read port in the next cycle).
  logic             s1_valid_q, s1_acc_q;
  logic [AddrW-1:0] s1_addr_q;
  row_t             s1_data_q;
  // The row written at the end of the previous cycle (forwarding source).
  logic             wb_valid_q;
  logic [AddrW-1:0] wb_addr_q;
  row_t             wb_data_q;
  row_t             old, sum, upd_row;

  logic [NRd:0]                   ram_re;
  logic [NRd:0][AddrW-1:0]        ram_raddr;
  row_t [NRd:0]                   ram_rdata;
  logic [2:0]                     ram_we;
  logic [2:0][AddrW-1:0]          ram_waddr;
  logic [2:0][Lanes-1:0]          ram_wmask;
  row_t [2:0]                     ram_wdata;

  assign ram_re    = {upd_valid_i, rd_en_i};
  assign ram_raddr = {upd_addr_i, rd_addr_i};
  assign rd_data_o = ram_rdata[NRd-1:0];
  assign ram_we    = {wr_en_i, s1_valid_q};
  assign ram_waddr = {wr_addr_i, s1_addr_q};
  assign ram_wmask = {wr_mask_i, {Lanes{1'b1}}};
  assign ram_wdata = {wr_data_i, upd_row};

  sa_mpram #(
    .Words(Words), .Lanes(Lanes), .LaneW(ACC_W), .NRd(NRd + 1), .NWr(3)
  ) u_ram (
    .clk_i, .rst_ni,
    .rd_en_i  (ram_re),
    .rd_addr_i(ram_raddr),
    .rd_data_o(ram_rdata),
    .wr_en_i  (ram_we),
    .wr_addr_i(ram_waddr),
    .wr_mask_i(ram_wmask),
    .wr_data_i(ram_wdata)
  );

  always_comb begin
    // Only computed in a cycle that writes (simulation speed: Verilator
    // evaluates every combinational block every cycle).
    old = '0;
    sum = '0;
    if (s1_valid_q && s1_acc_q) begin
      old = (wb_valid_q && wb_addr_q == s1_addr_q) ? wb_data_q : ram_rdata[NRd];
      for (int unsigned l = 0; l < Lanes; l++) begin
        sum[l] = sa_arith_pkg::mac_add(Datapath, old[l], s1_data_q[l]);
      end
    end
    upd_row = s1_acc_q ? sum : s1_data_q;
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
    end
    if (s1_valid_q) begin
      wb_addr_q <= s1_addr_q;
      wb_data_q <= upd_row;
    end
  end

`ifndef SYNTHESIS
  // Read and write addresses are range-checked inside sa_mpram.
  if ((1 << AddrW) != Words) begin : gen_range_chk
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        upd_valid_i |-> 32'(upd_addr_i) < Words)
      else $error("sa_accum: update address out of range");
  end
`endif

endmodule
