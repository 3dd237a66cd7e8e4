// sa_fifo: synchronous valid/ready FIFO, the one queue/skid buffer of sasim.
//
// Depth entries of Width bits, registered storage; in_ready_o = not full,
// out_valid_o = not empty (no combinational path from in to out, so a Depth 2
// FIFO is a full-throughput skid buffer). Push and pop may happen in the same
// cycle, also when full (the popped entry frees the slot only next cycle, so a
// full FIFO takes a push only after the pop has happened: in_ready_o depends
// on registers alone).
module sa_fifo #(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 2,
  // 1: the producer only pushes when in_ready_o is high (it never waits), which
  // is asserted instead of the payload-stability check. The cheaper property
  // for FIFOs inside a unit's own pipeline (the stability check samples the
  // whole payload every cycle, a noticeable cost in the verilated core).
  parameter bit          PushWhenReady = 1'b0,
  localparam int unsigned PtrW = (Depth > 1) ? $clog2(Depth) : 1,
  localparam int unsigned CntW = $clog2(Depth + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [Width-1:0] in_data_i,
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [Width-1:0] out_data_o,
  output logic [CntW-1:0]  count_o
);

  if (Depth < 1) begin : gen_bad_depth
    $error("sa_fifo: Depth must be at least 1");
  end

  logic [Width-1:0] mem_q [Depth];
  logic [PtrW-1:0]  rptr_q, rptr_d, wptr_q, wptr_d;
  logic [CntW-1:0]  cnt_q, cnt_d;
  logic             push, pop;

  assign in_ready_o  = (cnt_q != CntW'(Depth));
  assign out_valid_o = (cnt_q != '0);
  assign out_data_o  = mem_q[rptr_q];
  assign count_o     = cnt_q;
  assign push        = in_valid_i && in_ready_o;
  assign pop         = out_valid_o && out_ready_i;

  function automatic logic [PtrW-1:0] next_ptr(logic [PtrW-1:0] p);
    return (32'(p) == Depth - 1) ? '0 : p + 1'b1;
  endfunction

  always_comb begin
    wptr_d = push ? next_ptr(wptr_q) : wptr_q;
    rptr_d = pop ? next_ptr(rptr_q) : rptr_q;
    cnt_d  = cnt_q + CntW'(push) - CntW'(pop);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rptr_q <= '0;
      wptr_q <= '0;
      cnt_q  <= '0;
    end else begin
      rptr_q <= rptr_d;
      wptr_q <= wptr_d;
      cnt_q  <= cnt_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) begin
      mem_q[wptr_q] <= in_data_i;
    end
  end

`ifndef SYNTHESIS
  if (PushWhenReady) begin : gen_push_when_ready
    assert property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i |-> in_ready_o)
      else $error("sa_fifo: push while full");
  end else begin : gen_hold
    // The producer holds its payload while waiting.
    assert property (@(posedge clk_i) disable iff (!rst_ni)
        in_valid_i && !in_ready_o |=> in_valid_i && $stable(in_data_i))
      else $error("sa_fifo: input payload changed while valid && !ready");
  end
`endif

endmodule
