// sa_decode: first decode stage of the controller. Classifies a 128-bit
// instruction (layout generated from firmware/isa/isa.json into sa_isa_pkg)
// into its queue and extracts the dependency flags. Illegal: opcodes that are
// not in the ISA (zeroed memory decodes as illegal), and enumerated operand
// fields holding a value outside their enumeration (GEMM dataflow, VEC op,
// LOAD/STORE/VEC SRAM select).
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

  // Views of the enumerated operand fields (the rest is decoded downstream).
  /* verilator lint_off UNUSEDSIGNAL */
  gemm_insn_t  gemm;
  vec_insn_t   vec;
  load_insn_t  load;
  store_insn_t store;
  /* verilator lint_on UNUSEDSIGNAL */
  assign gemm  = gemm_insn_t'(insn_i);
  assign vec   = vec_insn_t'(insn_i);
  assign load  = load_insn_t'(insn_i);
  assign store = store_insn_t'(insn_i);

  always_comb begin
    illegal_o = 1'b0;
    unique case (insn.opcode)
      OP_LOAD: begin
        queue_o   = Q_LOAD;
        illegal_o = !isa_sram_valid(load.sram);
      end
      OP_GEMM: begin
        queue_o   = Q_EXEC;
        illegal_o = !isa_dataflow_valid(gemm.dataflow);
      end
      OP_VEC: begin
        queue_o   = Q_EXEC;
        illegal_o = !isa_vec_op_valid(vec.op) || !isa_sram_valid(vec.dst_sram);
      end
      OP_STORE: begin
        queue_o   = Q_STORE;
        illegal_o = !isa_sram_valid(store.sram);
      end
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
