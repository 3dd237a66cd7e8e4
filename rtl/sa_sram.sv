// sa_sram: one bank of on-chip SRAM, the building block of the scratchpad and
// the accumulator (docs/device.md): Words words of Lanes x LaneW bits, one read
// port with a registered read (data in the cycle after the request), one write
// port with a per-lane write mask. A read and a write of the same word in one
// cycle return the old contents (read-first), like a single-cycle SRAM macro.
// The contents are not reset.
module sa_sram #(
  parameter int unsigned Words = 64,
  parameter int unsigned Lanes = 4,
  parameter int unsigned LaneW = 32,
  localparam int unsigned AddrW = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        rd_en_i,
  input  logic [AddrW-1:0]            rd_addr_i,
  output logic [Lanes-1:0][LaneW-1:0] rd_data_o,
  input  logic                        wr_en_i,
  input  logic [AddrW-1:0]            wr_addr_i,
  input  logic [Lanes-1:0]            wr_mask_i,
  input  logic [Lanes-1:0][LaneW-1:0] wr_data_i
);

  if (Words < 2 || Lanes < 1 || LaneW < 1) begin : gen_bad_params
    $error("sa_sram: need Words >= 2, Lanes >= 1, LaneW >= 1");
  end

  logic [Lanes-1:0][LaneW-1:0] mem_q [Words];
  logic [Lanes-1:0][LaneW-1:0] rd_q, merged;

  always_comb begin
    merged = mem_q[wr_addr_i];
    for (int unsigned l = 0; l < Lanes; l++) begin
      if (wr_mask_i[l]) begin
        merged[l] = wr_data_i[l];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (wr_en_i) begin
      mem_q[wr_addr_i] <= merged;
    end
    if (rd_en_i) begin
      rd_q <= mem_q[rd_addr_i];
    end
  end

  assign rd_data_o = rd_q;

`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni) rd_en_i |-> 32'(rd_addr_i) < Words)
    else $error("sa_sram: read address out of range");
  assert property (@(posedge clk_i) disable iff (!rst_ni) wr_en_i |-> 32'(wr_addr_i) < Words)
    else $error("sa_sram: write address out of range");
`endif

endmodule
