// sa_token: one dependency-token channel between two instruction queues of
// sa_core (VTA-style: the producer's unit pushes a token when an instruction
// with the push flag completes, the consumer's queue pops one to issue an
// instruction with the pop flag). A 16-bit count; a push and a pop in the same
// cycle cancel. Overflow (more than 65535 tokens in flight) and underflow (a
// pop without a token: the issue logic checks avail_o first) are asserted.
module sa_token (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,  // start of a program
  input  logic        push_i,
  input  logic        pop_i,
  output logic        avail_o,  // at least one token
  output logic [15:0] count_o
);

  logic [15:0] cnt_q, cnt_d;

  always_comb begin
    cnt_d = cnt_q + 16'(push_i) - 16'(pop_i);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '0;
    end else if (clear_i) begin
      cnt_q <= '0;
    end else begin
      cnt_q <= cnt_d;
    end
  end

  assign avail_o = (cnt_q != '0);
  assign count_o = cnt_q;

`ifndef SYNTHESIS
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      !clear_i && push_i && !pop_i |-> cnt_q != 16'hFFFF)
    else $error("sa_token: token counter overflow (65535 tokens in flight)");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      !clear_i && pop_i && !push_i |-> cnt_q != 16'h0000)
    else $error("sa_token: token counter underflow (pop without a token)");
`endif

endmodule
