// sa_check: the controller's legality check of a decoded instruction against
// the core's configuration (docs/isa.md; model::FunctionalDevice applies the
// same rules): ERR_ILLEGAL for what sa_decode flags, ERR_RANGE for a count of
// 0, SRAM rows beyond the memory or a row wider than the SRAM, ERR_ALIGN for a
// DRAM address or stride that is not a multiple of the element size. Purely
// combinational; the first failing instruction stops the core.
module sa_check
  import sa_pkg::*;
  import sa_isa_pkg::*;
#(
  parameter int unsigned Rows     = CORE_ROWS_DEFAULT,
  parameter int unsigned Cols     = CORE_COLS_DEFAULT,
  parameter int unsigned SpadRows = CORE_SPAD_ROWS_DEFAULT,
  parameter int unsigned AccRows  = CORE_ACC_ROWS_DEFAULT,
  parameter int unsigned EbS      = 1,  // bytes of a scratchpad element (1 int8, 2 bf16)
  localparam int unsigned W       = (Rows > Cols) ? Rows : Cols
) (
  input  logic [INSN_W-1:0] insn_i,
  input  logic              illegal_i,  // from sa_decode
  output core_err_e         err_o
);

  // Views of the word; each check reads the fields it needs.
  /* verilator lint_off UNUSEDSIGNAL */
  dma_insn_t  dma;
  gemm_insn_t gemm;
  vec_insn_t  vec;
  /* verilator lint_on UNUSEDSIGNAL */
  assign dma  = dma_insn_t'(insn_i);
  assign gemm = gemm_insn_t'(insn_i);
  assign vec  = vec_insn_t'(insn_i);

  // Rows [first, first + n) reach beyond an SRAM of cap rows.
  function automatic logic beyond(logic [15:0] first, logic [12:0] n, int unsigned cap);
    return (32'(first) + 32'(n)) > cap;
  endfunction

  // A DMA block: `along` rows of `width` elements (transposed: the SRAM rows
  // are the block's columns) inside an SRAM of cap rows of lanes elements.
  /* verilator lint_off UNUSEDSIGNAL */  // reads the fields of the block only
  function automatic logic dma_beyond(dma_insn_t d, int unsigned lanes, int unsigned cap);
    return d.transpose ? (32'(d.rows) > lanes || beyond(d.sram_row, 13'(d.cols), cap))
                       : (32'(d.cols) > lanes || beyond(d.sram_row, 13'(d.rows), cap));
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  always_comb begin
    err_o = ERR_NONE;
    if (illegal_i) begin
      err_o = ERR_ILLEGAL;
    end else begin
      unique case (gemm.opcode)
        OP_LOAD, OP_STORE: begin
          if (dma.rows == '0 || dma.cols == '0) err_o = ERR_RANGE;
          else if (dma.sram == SRAM_ACC) begin
            if (dma_beyond(dma, Cols, AccRows)) err_o = ERR_RANGE;
            else if (dma.dram_addr[1:0] != 2'b00 || dma.dram_stride[1:0] != 2'b00) err_o = ERR_ALIGN;
          end else begin
            if (dma_beyond(dma, W, SpadRows)) err_o = ERR_RANGE;
            else if (EbS == 2 && (dma.dram_addr[0] || dma.dram_stride[0])) err_o = ERR_ALIGN;
          end
        end
        OP_GEMM: begin
          if (gemm.len == '0) err_o = ERR_RANGE;
          else if (dataflow_e'(gemm.dataflow) == DF_OS) begin
            if (beyond(gemm.in_row, 13'(gemm.len), SpadRows) ||
                beyond(gemm.b_row, 13'(gemm.len), SpadRows) ||
                beyond(gemm.acc_row, 13'(Rows), AccRows)) err_o = ERR_RANGE;
          end else begin
            if (beyond(gemm.in_row, 13'(gemm.len), SpadRows) ||
                beyond(gemm.acc_row, 13'(gemm.len), AccRows) ||
                (!gemm.reuse && beyond(gemm.pre_row, 13'(Rows), SpadRows))) err_o = ERR_RANGE;
          end
        end
        OP_VEC: begin
          if (vec.rows == '0 || beyond(vec.src_row, 13'(vec.rows), AccRows) ||
              (vec_op_reads_src2(vec.op) && beyond(vec.src2_row, 13'(vec.rows), AccRows)) ||
              beyond(vec.dst_row, 13'(vec.rows), (vec.dst_sram == SRAM_SPAD) ? SpadRows : AccRows))
            err_o = ERR_RANGE;
        end
        default: err_o = ERR_NONE;
      endcase
    end
  end

endmodule
