// sa_decode: first decode stage of the controller. Classifies a 128-bit
// instruction (layout generated from firmware/isa/isa.json into sa_isa_pkg)
// into its queue and extracts the dependency flags; opcodes that are not in
// the ISA are flagged illegal (zeroed memory decodes as illegal).
module sa_decode
  import sa_pkg::*;
  import sa_isa_pkg::*;
(
  input  logic [INSN_W-1:0] insn_i,
  output logic              illegal_o,
  output queue_e            queue_o,
  output logic              pop_prev_o,
  output logic              pop_next_o,
  output logic              push_prev_o,
  output logic              push_next_o
);

  // Every generated format spans exactly one instruction word.
  if ($bits(load_insn_t) != INSN_W || $bits(store_insn_t) != INSN_W ||
      $bits(gemm_insn_t) != INSN_W || $bits(vec_insn_t) != INSN_W ||
      $bits(config_insn_t) != INSN_W || $bits(finish_insn_t) != INSN_W) begin : gen_bad_format
    $error("sa_decode: an instruction format is not INSN_W bits wide");
  end

  // The ISA's dataflow encoding is the array's (sa_pkg::dataflow_e).
  if (int'(DATAFLOW_WS) != int'(DF_WS) || int'(DATAFLOW_OS) != int'(DF_OS) ||
      int'(DATAFLOW_IS) != int'(DF_IS)) begin : gen_bad_dataflow
    $error("sa_decode: isa.json dataflow encoding differs from sa_pkg::dataflow_e");
  end

  // Only the common fields are decoded here; the operand fields are decoded
  // by the unit that executes the instruction.
  /* verilator lint_off UNUSEDSIGNAL */
  finish_insn_t insn;
  /* verilator lint_on UNUSEDSIGNAL */
  assign insn = finish_insn_t'(insn_i);

  always_comb begin
    illegal_o = 1'b0;
    unique case (insn.opcode)
      OP_LOAD:              queue_o = Q_LOAD;
      OP_GEMM, OP_VEC:      queue_o = Q_EXEC;
      OP_STORE:             queue_o = Q_STORE;
      OP_CONFIG, OP_FINISH: queue_o = Q_CTRL;
      default: begin
        queue_o   = Q_CTRL;
        illegal_o = 1'b1;
      end
    endcase
    pop_prev_o  = insn.pop_prev;
    pop_next_o  = insn.pop_next;
    push_prev_o = insn.push_prev;
    push_next_o = insn.push_next;
  end

endmodule
