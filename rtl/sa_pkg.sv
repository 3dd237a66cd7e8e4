// sasim shared package: datapath and dataflow encodings, widths, tile flags.
// One source of truth for every constant the RTL modules share. The C++ side
// mirrors the encodings in model/include/sasim/model/types.hpp and drives the
// ports with them (rtl/CMakeLists.txt passes DP_* values as -GDatapath).
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

  // Instruction queues of the controller (decoupled load / execute / store,
  // see docs/device.md); CTRL takes CONFIG and FINISH.
  typedef enum logic [1:0] {
    Q_LOAD  = 2'd0,
    Q_EXEC  = 2'd1,
    Q_STORE = 2'd2,
    Q_CTRL  = 2'd3
  } queue_e;

  // AXI4 bursts of the DMA engines (sa_dma_rd, sa_dma_wr), bus words of
  // 2^bbits bytes. axi_row_beats: the words covering [a, a + n).
  // axi_burst_beats: the beats of the next INCR burst from word address a
  // (its low 12 bits) with `left` words to go: at most 16, never across a
  // 4 KiB boundary.
  function automatic logic [12:0] axi_row_beats(logic [39:0] a, logic [13:0] n,
                                                int unsigned bbits);
    return 13'(((a + 40'(n) - 40'd1) >> bbits) - (a >> bbits) + 40'd1);
  endfunction
  function automatic logic [8:0] axi_burst_beats(logic [11:0] a, logic [12:0] left,
                                                 int unsigned bbits);
    logic [12:0] to4k, n;
    to4k = 13'((13'd4096 - 13'(a)) >> bbits);
    n    = (left < 13'd16) ? left : 13'd16;
    n    = (to4k < n) ? to4k : n;
    return 9'(n);
  endfunction

  // Error codes of sa_core (err_code_o); the C++ side names them in
  // sim/src/device.cpp (core_error_name).
  typedef enum logic [3:0] {
    ERR_NONE      = 4'd0,
    ERR_ILLEGAL   = 4'd1,  // opcode or enumerated field not in the ISA
    ERR_RANGE     = 4'd2,  // count of 0, SRAM rows beyond the memory, row wider than the SRAM
    ERR_ALIGN     = 4'd3,  // DRAM address or stride not a multiple of the element size
    ERR_NO_FINISH = 4'd4,  // the program ended without FINISH
    ERR_REUSE     = 4'd5,  // GEMM reuse with no stationary operand loaded
    ERR_BUS_READ  = 4'd6,  // error response on the read channel
    ERR_BUS_WRITE = 4'd7   // error response on the write channel
  } core_err_e;

  // Performance counters of sa_core (perf_o[i]); names in sim/src/device.cpp.
  localparam int unsigned PERF_CYCLES       = 0;   // cycles from start to done
  localparam int unsigned PERF_EXEC_BUSY    = 1;   // execute unit working
  localparam int unsigned PERF_EXEC_WAIT_LD = 2;   // EXEC head waits for a LOAD token
  localparam int unsigned PERF_EXEC_WAIT_ST = 3;   // EXEC head waits for a STORE token
  localparam int unsigned PERF_EXEC_STARVED = 4;   // execute idle, EXEC queue empty
  localparam int unsigned PERF_STEPS        = 5;   // array steps (streamed vectors)
  localparam int unsigned PERF_VEC_ROWS     = 6;   // vector unit rows written
  localparam int unsigned PERF_LOAD_BUSY    = 7;   // load DMA working
  localparam int unsigned PERF_STORE_BUSY   = 8;   // store DMA working
  localparam int unsigned PERF_INSN_LOAD    = 9;   // instructions completed per queue
  localparam int unsigned PERF_INSN_EXEC    = 10;
  localparam int unsigned PERF_INSN_STORE   = 11;
  localparam int unsigned PERF_RD_BEATS     = 12;  // load data beats
  localparam int unsigned PERF_WR_BEATS     = 13;  // store data beats
  localparam int unsigned PERF_FETCH_BEATS  = 14;  // instruction beats
  localparam int unsigned PERF_SPAD_READS   = 15;  // scratchpad row reads
  localparam int unsigned PERF_SPAD_WRITES  = 16;  // scratchpad row writes
  localparam int unsigned PERF_ACC_READS    = 17;  // accumulator row reads
  localparam int unsigned PERF_ACC_WRITES   = 18;  // accumulator row writes and updates
  localparam int unsigned PERF_AR_STALL     = 19;  // read address waiting for the bus
  localparam int unsigned PERF_W_STALL      = 20;  // write address/data waiting for the bus
  localparam int unsigned NUM_PERF          = 21;

endpackage
