// sa_hs_chk: protocol assertions of one valid/ready channel (an AXI address or
// data channel): once valid rises it stays until ready, and the payload holds
// still meanwhile (AMBA AXI4 A3.2.1). Simulation only; instantiated on the
// request channels the DMA engines and the instruction fetch drive.
//
// The payload is compared in slices of at most 128 bits: Verilator 5.006
// miscompiles sampled copies wider than 256 bits (__Vilp, verilator#4057).
module sa_hs_chk #(
  parameter int unsigned Width = 8,
  parameter string       Name  = "channel"
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             valid_i,
  input  logic             ready_i,
  input  logic [Width-1:0] data_i
);

`ifndef SYNTHESIS
  localparam int unsigned SliceW  = 128;
  localparam int unsigned NSlices = (Width + SliceW - 1) / SliceW;

  assert property (@(posedge clk_i) disable iff (!rst_ni) valid_i && !ready_i |=> valid_i)
    else $error("%s: valid dropped before ready", Name);
  for (genvar s = 0; s < NSlices; s++) begin : gen_slice
    localparam int unsigned Lo = s * SliceW;
    localparam int unsigned Hi = (Lo + SliceW > Width) ? Width - 1 : Lo + SliceW - 1;
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        valid_i && !ready_i |=> $stable(data_i[Hi:Lo]))
      else $error("%s: payload bits %0d..%0d changed while waiting for ready", Name, Hi, Lo);
  end
`else
  logic unused;
  assign unused = ^{clk_i, rst_ni, valid_i, ready_i, data_i};
`endif

endmodule
