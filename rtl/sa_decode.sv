// sa_decode: first decode stage of the controller. Classifies a 128-bit
// instruction (layout generated from spec/contract.json into sa_isa_pkg) into
// its queue (sa_isa_pkg::opcode_queue, the contract's opcode -> queue) and
// extracts the dependency flags. Illegal: opcodes that are not in the ISA
// (zeroed memory decodes as illegal), and enumerated operand fields holding a
// value outside their enumeration (GEMM dataflow, VEC op, LOAD/STORE/VEC SRAM
// select).
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
  if ($bits(dma_insn_t) != INSN_W || $bits(gemm_insn_t) != INSN_W ||
      $bits(vec_insn_t) != INSN_W || $bits(config_insn_t) != INSN_W ||
      $bits(finish_insn_t) != INSN_W) begin : gen_bad_format
    $error("sa_decode: an instruction format is not INSN_W bits wide");
  end

  // The contract's dataflow encoding is the array's (sa_pkg::dataflow_e).
  if (int'(DATAFLOW_WS) != int'(DF_WS) || int'(DATAFLOW_OS) != int'(DF_OS) ||
      int'(DATAFLOW_IS) != int'(DF_IS)) begin : gen_bad_dataflow
    $error("sa_decode: the contract's dataflow encoding differs from sa_pkg::dataflow_e");
  end

  // Views of the word: the common fields and the enumerated operand fields
  // (the other operand fields are decoded by the unit that executes it).
  /* verilator lint_off UNUSEDSIGNAL */
  finish_insn_t insn;
  gemm_insn_t   gemm;
  vec_insn_t    vec;
  dma_insn_t    dma;
  /* verilator lint_on UNUSEDSIGNAL */
  assign insn = finish_insn_t'(insn_i);
  assign gemm = gemm_insn_t'(insn_i);
  assign vec  = vec_insn_t'(insn_i);
  assign dma  = dma_insn_t'(insn_i);

  always_comb begin
    queue_o = opcode_queue(insn.opcode);
    unique case (insn.opcode)
      OP_LOAD, OP_STORE: illegal_o = !isa_sram_valid(dma.sram);
      OP_GEMM:           illegal_o = !isa_dataflow_valid(gemm.dataflow);
      OP_VEC:            illegal_o = !isa_vec_op_valid(vec.op) || !isa_sram_valid(vec.dst_sram);
      OP_CONFIG, OP_SYNC, OP_FINISH: illegal_o = 1'b0;
      default:           illegal_o = 1'b1;
    endcase
    pop_prev_o  = insn.pop_prev;
    pop_next_o  = insn.pop_next;
    push_prev_o = insn.push_prev;
    push_next_o = insn.push_next;
  end

endmodule
