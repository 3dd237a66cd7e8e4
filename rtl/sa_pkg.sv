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

endpackage
