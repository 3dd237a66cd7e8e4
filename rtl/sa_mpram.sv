// sa_mpram: the scratchpad SRAM of sa_core (docs/device.md): Words rows of
// Lanes x LaneW bits with NRd registered read ports (data in the cycle after
// the request) and two write ports with per-lane masks. Read-first: a read and
// a write of one row in the same cycle return the old contents. Write port 1
// wins over port 0 on a lane both write in the same cycle (the controller's
// dependency tokens keep programs from doing that). Contents are not reset.
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
  localparam int unsigned AddrW = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                                  clk_i,
  input  logic                                  rst_ni,
  input  logic [NRd-1:0]                        rd_en_i,
  input  logic [NRd-1:0][AddrW-1:0]             rd_addr_i,
  output logic [NRd-1:0][Lanes-1:0][LaneW-1:0]  rd_data_o,
  input  logic [1:0]                            wr_en_i,
  input  logic [1:0][AddrW-1:0]                 wr_addr_i,
  input  logic [1:0][Lanes-1:0]                 wr_mask_i,
  input  logic [1:0][Lanes-1:0][LaneW-1:0]      wr_data_i
);

  if (Words < 2 || Lanes < 1 || LaneW < 1 || NRd < 1) begin : gen_bad_params
    $error("sa_mpram: need Words >= 2, Lanes >= 1, LaneW >= 1, NRd >= 1");
  end

  typedef logic [Lanes-1:0][LaneW-1:0] row_t;

  row_t mem_q [Words];
  row_t merged0, merged1;

  always_comb begin
    // Merged only for a port that writes (simulation speed).
    merged0 = '0;
    merged1 = '0;
    if (wr_en_i[0]) begin
      merged0 = mem_q[wr_addr_i[0]];
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (wr_mask_i[0][l]) merged0[l] = wr_data_i[0][l];
      end
    end
    if (wr_en_i[1]) begin
      merged1 = mem_q[wr_addr_i[1]];
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (wr_mask_i[1][l]) merged1[l] = wr_data_i[1][l];
      end
    end
    // Both ports on one row: port 1's lanes over port 0's.
    if (wr_en_i[0] && wr_en_i[1] && wr_addr_i[0] == wr_addr_i[1]) begin
      for (int unsigned l = 0; l < Lanes; l++) begin
        if (!wr_mask_i[1][l]) merged1[l] = merged0[l];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (wr_en_i[0]) mem_q[wr_addr_i[0]] <= merged0;
    if (wr_en_i[1]) mem_q[wr_addr_i[1]] <= merged1;
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
    for (genvar p = 0; p < 2; p++) begin : gen_wr_chk
      assert property (@(posedge clk_i) disable iff (!rst_ni)
          wr_en_i[p] |-> 32'(wr_addr_i[p]) < Words)
        else $error("sa_mpram: write address out of range on port %0d", p);
    end
  end
`endif

endmodule
