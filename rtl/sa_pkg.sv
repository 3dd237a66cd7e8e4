// sasim shared package: datapath and dataflow encodings, widths, tile flags,
// the AXI burst rule: the constants the RTL modules share below the device
// contract. The instruction set, queues, counters, error codes and core
// parameter defaults are generated from spec/contract.json into sa_isa_pkg;
// sa_core checks at elaboration that DP_* and DF_* equal the contract's.
package sa_pkg;

  // ---------------------------------------------------------------------------
  // Datapaths (elaboration-time parameter `Datapath` of the array modules).
  // ---------------------------------------------------------------------------
  localparam int unsigned DP_INT8 = 0;  // int8 x int8 -> int32, wrap-around accumulate
  localparam int unsigned DP_BF16 = 1;  // bf16 x bf16 -> fp32, IEEE binary32 RNE accumulate

  // Accumulator / partial-sum width for every datapath.
  localparam int unsigned ACC_W = 32;

  // Operand width of a datapath (bits per array input element).
  function automatic int unsigned op_width(int unsigned dp);
    return (dp == DP_BF16) ? 16 : 8;
  endfunction

  // ---------------------------------------------------------------------------
  // Dataflows (run-time input `dataflow_i`, may change only while idle).
  // WS and IS use the same PE datapath (a stationary operand preloaded into
  // the PEs, the other operand streamed from the west, partial sums flowing
  // south); they differ in which GEMM operand is stationary. OS keeps the
  // accumulators in the PEs and streams both operands.
  // ---------------------------------------------------------------------------
  typedef enum logic [1:0] {
    DF_WS = 2'd0,
    DF_OS = 2'd1,
    DF_IS = 2'd2
  } dataflow_e;

  // Flags that travel with each streamed step through the array.
  typedef struct packed {
    logic valid;  // a real step (not a bubble)
    logic first;  // WS/IS: switch to the preloaded weights; OS: start accumulating
    logic last;   // WS/IS: end of tile (passed to the output); OS: end of tile, drain
  } step_flags_t;

  // AXI4 bursts of the DMA engines (sa_dma_rd, sa_dma_wr), bus words of
  // 2^bbits bytes. axi_row_beats: the words covering [a, a + n).
  // axi_burst_beats: the beats of the next INCR burst from word address a
  // (its low 12 bits) with `left` words to go: at most max_beats (the
  // contract's MAX_BURST_BEATS, passed by the callers), never across a 4 KiB
  // boundary.
  function automatic logic [12:0] axi_row_beats(logic [39:0] a, logic [13:0] n,
                                                int unsigned bbits);
    return 13'(((a + 40'(n) - 40'd1) >> bbits) - (a >> bbits) + 40'd1);
  endfunction
  function automatic logic [8:0] axi_burst_beats(logic [11:0] a, logic [12:0] left,
                                                 int unsigned bbits, int unsigned max_beats);
    logic [12:0] to4k, n;
    to4k = 13'((13'd4096 - 13'(a)) >> bbits);
    n    = (32'(left) < max_beats) ? left : 13'(max_beats);
    n    = (to4k < n) ? to4k : n;
    return 9'(n);
  endfunction

endpackage
