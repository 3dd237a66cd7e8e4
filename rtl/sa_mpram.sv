// sa_mpram: the multi-ported SRAM of sa_core (docs/device.md): the scratchpad,
// and the storage of the accumulator (sa_accum). Words rows of Lanes x LaneW
// bits with NRd registered read ports (data in the cycle after the request) and
// NWr (1..3) write ports with per-lane masks. Read-first: a read and a write of
// one row in the same cycle return the old contents. The one collision rule of
// the SRAMs: on a lane that several write ports write in the same cycle, the
// highest-numbered port wins, lane by lane (the controller's dependency tokens
// keep programs from doing that). Contents are not reset.
//
// A multi-ported array stands for the banked macro of a real implementation:
// the ports are used by different units (array operand streams, DMA, vector
// unit, store DMA) that the controller keeps on disjoint rows; their
// simultaneous use is what a bank per port group provides.
module sa_mpram #(
  parameter int unsigned Words = 64,
  parameter int unsigned Lanes = 4,
  parameter int unsigned LaneW = 8,
  parameter int unsigned NRd   = 3,
  parameter int unsigned NWr   = 2,
  localparam int unsigned AddrW = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                                  clk_i,
  input  logic                                  rst_ni,
  input  logic [NRd-1:0]                        rd_en_i,
  input  logic [NRd-1:0][AddrW-1:0]             rd_addr_i,
  output logic [NRd-1:0][Lanes-1:0][LaneW-1:0]  rd_data_o,
  input  logic [NWr-1:0]                        wr_en_i,
  input  logic [NWr-1:0][AddrW-1:0]             wr_addr_i,
  input  logic [NWr-1:0][Lanes-1:0]             wr_mask_i,
  input  logic [NWr-1:0][Lanes-1:0][LaneW-1:0]  wr_data_i
);

  if (Words < 2 || Lanes < 1 || LaneW < 1 || NRd < 1 || NWr < 1 || NWr > 3)
  begin : gen_bad_params
    $error("sa_mpram: need Words >= 2, Lanes >= 1, LaneW >= 1, NRd >= 1, NWr 1..3");
  end
  // Ports 1 and 2 (index 0 when absent; their statements are then dead).
  localparam int unsigned P1 = (NWr > 1) ? 1 : 0;
  localparam int unsigned P2 = (NWr > 2) ? 2 : 0;

  typedef logic [Lanes-1:0][LaneW-1:0] row_t;

  row_t mem_q [Words];
  row_t [NWr-1:0] merged;

  // merged[p]: the row port p writes, with the lanes of every lower port that
  // writes the same row in this cycle below its own. Writing the ports in
  // ascending order then leaves the lane-wise merge with the highest port on
  // top. Only computed for a port that writes (simulation speed).
  // A port that writes every lane needs no merge (the accumulator's update
  // port, every cycle of a GEMM: no row read, no lane loop).
  always_comb begin
    merged = '0;
    for (int unsigned p = 0; p < NWr; p++) begin
      if (wr_en_i[p] && &wr_mask_i[p]) begin
        merged[p] = wr_data_i[p];
      end else if (wr_en_i[p]) begin
        merged[p] = mem_q[wr_addr_i[p]];
        for (int unsigned q = 0; q <= p; q++) begin
          if (wr_en_i[q] && wr_addr_i[q] == wr_addr_i[p]) begin
            for (int unsigned l = 0; l < Lanes; l++) begin
              if (wr_mask_i[q][l]) merged[p][l] = wr_data_i[q][l];
            end
          end
        end
      end
    end
  end

  // Unrolled by hand: Verilator 5.006 rejects non-blocking assignments to
  // array elements inside a loop.
  always_ff @(posedge clk_i) begin
    if (wr_en_i[0]) mem_q[wr_addr_i[0]] <= merged[0];
    if (NWr > 1 && wr_en_i[P1]) mem_q[wr_addr_i[P1]] <= merged[P1];
    if (NWr > 2 && wr_en_i[P2]) mem_q[wr_addr_i[P2]] <= merged[P2];
  end

  // One register per read port.
  for (genvar p = 0; p < NRd; p++) begin : gen_rd
    row_t rd_q;
    always_ff @(posedge clk_i) begin
      if (rd_en_i[p]) rd_q <= mem_q[rd_addr_i[p]];
    end
    assign rd_data_o[p] = rd_q;
  end

  // The contents are not reset; rst_ni only qualifies the range assertions.
  logic unused_rst;
  assign unused_rst = rst_ni;

`ifndef SYNTHESIS
  // Addresses beyond the last row exist only when Words is not a power of two
  // (with a power of two the check would be a tautology evaluated every cycle).
  if ((1 << AddrW) != Words) begin : gen_range_chk
    for (genvar p = 0; p < NRd; p++) begin : gen_rd_chk
      assert property (@(posedge clk_i) disable iff (!rst_ni)
          rd_en_i[p] |-> 32'(rd_addr_i[p]) < Words)
        else $error("sa_mpram: read address out of range on port %0d", p);
    end
    for (genvar p = 0; p < NWr; p++) begin : gen_wr_chk
      assert property (@(posedge clk_i) disable iff (!rst_ni)
          wr_en_i[p] |-> 32'(wr_addr_i[p]) < Words)
        else $error("sa_mpram: write address out of range on port %0d", p);
    end
  end
`endif

endmodule
