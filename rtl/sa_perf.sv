// sa_perf: the performance counter bank of sa_core. One 64-bit counter per
// entry of the device contract's counter list (sa_isa_pkg::PERF_*, the same
// order as spec::kCounters), each its own register (a packed vector of all
// counters would be rebuilt as one wide word every cycle in the verilated
// model). add_i[i] (0..3) is added every cycle; clear_i zeroes them all (the
// start of a program). 64 bits do not wrap within a run (2^64 cycles at 10 GHz
// are 58 years).
module sa_perf
  import sa_isa_pkg::*;
(
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      clear_i,
  input  logic [NUM_PERF-1:0][1:0]  add_i,
  output logic [63:0]               perf_o [NUM_PERF]
);

  for (genvar i = 0; i < NUM_PERF; i++) begin : gen_cnt
    logic [63:0] cnt_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        cnt_q <= '0;
      end else if (clear_i) begin
        cnt_q <= '0;
      end else if (add_i[i] != 2'd0) begin
        cnt_q <= cnt_q + 64'(add_i[i]);
      end
    end
    assign perf_o[i] = cnt_q;
  end


endmodule
