// sa_fetch: instruction fetch of sa_core. After `start_i` it reads the program
// of len_i 16-byte instructions at addr_i (16-byte aligned) with INCR bursts
// (up to MAX_BURST_BEATS beats, never crossing 4 KiB) and delivers the instructions in order
// with their index (pc) on a valid/ready stream, at most one per cycle. Bursts
// are requested only while the instruction buffer has room for their data
// (Depth instructions, data in flight included). `stop_i` (FINISH decoded or an
// error) ends requesting; responses still in flight are taken and dropped.
module sa_fetch
  import sa_isa_pkg::*;
#(
  parameter int unsigned BusBytes = 16,
  localparam int unsigned Depth   = FETCH_BUF_DEPTH,   // sizes from the device contract
  localparam int unsigned MaxOut  = FETCH_MAX_BURSTS,
  localparam int unsigned BusW    = BusBytes * 8
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              start_i,
  input  logic [39:0]       addr_i,
  input  logic [31:0]       len_i,
  input  logic              stop_i,
  output logic              busy_o,    // requests or responses outstanding
  // AXI read channels (id assigned by the core).
  output logic              ar_valid_o,
  input  logic              ar_ready_i,
  output logic [39:0]       ar_addr_o,
  output logic [7:0]        ar_len_o,
  input  logic              r_valid_i,
  output logic              r_ready_o,
  input  logic [BusW-1:0]   r_data_i,
  input  logic              r_last_i,
  // Instructions.
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [INSN_W-1:0] out_insn_o,
  output logic [31:0]       out_pc_o
);

  localparam int unsigned Ipb   = BusBytes / 16;  // instructions per beat
  localparam int unsigned BBits = $clog2(BusBytes);
  localparam int unsigned SlotW = (Ipb > 1) ? $clog2(Ipb) : 1;
  localparam int unsigned CntW  = $clog2(Depth + 1);
  localparam int unsigned OutW  = $clog2(MaxOut + 1);

  if (BusBytes < 16 || BusBytes > 64 || (1 << BBits) != BusBytes) begin : gen_bad_bus
    $error("sa_fetch: BusBytes must be 16, 32 or 64");
  end

  // Request side.
  logic [39:0]     raddr_q;      // next byte address to request (bus aligned after the first)
  logic [31:0]     rleft_q;      // instructions not yet requested
  logic [OutW-1:0] out_q;        // bursts outstanding
  logic [CntW+4:0] inflight_q;   // instruction slots reserved by requested beats
  logic [CntW-1:0] fifo_count;
  logic            stopped_q;
  logic [12:0]     to4k, n, want, room;
  // An AR that waits for ready keeps its burst length (AXI: the payload holds
  // still while valid && !ready; `room` only grows meanwhile), also across a
  // stop: the burst is then accepted and its beats drained.
  logic            ar_hold_q;
  logic [12:0]     n_hold_q, n_req;
  logic [31:0]     first_slots;  // instructions delivered by the first beat at raddr_q
  logic [31:0]     used;         // instruction slots in use (see room)
  logic            ar_fire, r_fire, push, fifo_ready;
  logic            beat_valid_q;   // a response beat is held (its instructions being pushed)

  always_comb begin
    first_slots = 32'(Ipb) - (32'(raddr_q[BBits-1:0]) >> 4);
    // Beats needed for the remaining instructions.
    // (capped at a full burst: long programs must not wrap the 13-bit count)
    if (rleft_q <= first_slots) want = 13'd1;
    else if (rleft_q > first_slots + 32'(MAX_BURST_BEATS) * Ipb) want = 13'(MAX_BURST_BEATS);
    else want = 13'(1 + (rleft_q - first_slots + 32'(Ipb) - 1) / 32'(Ipb));
    to4k = 13'((13'd4096 - 13'(raddr_q[11:0])) >> BBits);
    // Slots in use: buffered, reserved by requested beats, and the held beat's
    // (counted whole although part of it may already be buffered: with more
    // than one instruction per beat the sum can pass Depth, so the room
    // saturates at 0 instead of wrapping to a huge burst; found by the model
    // engine's correlation suite on a 32-byte bus, where it deadlocked R).
    used = 32'(fifo_count) + 32'(inflight_q) + (beat_valid_q ? 32'(Ipb) : 32'd0);
    room = (used >= 32'(Depth)) ? 13'd0 : 13'((32'(Depth) - used) / 32'(Ipb));
    n    = (want < 13'(MAX_BURST_BEATS)) ? want : 13'(MAX_BURST_BEATS);
    n    = (to4k < n) ? to4k : n;
    n    = (room < n) ? room : n;
    n_req = ar_hold_q ? n_hold_q : n;
  end

  assign ar_valid_o = ar_hold_q ||
                      (!stopped_q && (rleft_q != 0) && (n != 0) && (out_q != OutW'(MaxOut)));
  assign ar_addr_o  = {raddr_q[39:BBits], BBits'(0)};
  assign ar_len_o   = 8'(n_req - 13'd1);
  assign ar_fire    = ar_valid_o && ar_ready_i;

  // Response side: one beat held, its instructions pushed one per cycle.
  logic [BusW-1:0]   beat_q;
  logic [39:0]       daddr_q;    // byte address of the next instruction to deliver
  logic [31:0]       dleft_q;    // instructions still to deliver
  logic [31:0]       pc_q;
  logic [SlotW-1:0]  slot;
  logic              beat_done;

  assign slot      = SlotW'(daddr_q[BBits-1:0] >> 4);
  assign beat_done = push && ((32'(slot) == Ipb - 1) || (dleft_q == 32'd1));
  assign push      = beat_valid_q && !stopped_q && fifo_ready;
  assign r_ready_o = !beat_valid_q || beat_done || stopped_q;
  assign r_fire    = r_valid_i && r_ready_o;
  assign busy_o    = (out_q != '0) || beat_valid_q || ar_hold_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      out_q        <= '0;
      ar_hold_q    <= 1'b0;
      inflight_q   <= '0;
      stopped_q    <= 1'b1;
      beat_valid_q <= 1'b0;
      rleft_q      <= '0;
      dleft_q      <= '0;
    end else begin
      out_q <= out_q + OutW'(ar_fire) - OutW'(r_fire && r_last_i);
      ar_hold_q <= ar_valid_o && !ar_ready_i;
      if (start_i) begin
        stopped_q <= 1'b0;
        rleft_q   <= len_i;
        dleft_q   <= len_i;
        inflight_q <= '0;
      end else begin
        if (stop_i) stopped_q <= 1'b1;
        if (ar_fire) begin
          // Slots of the requested beats that carry instructions of the program.
          rleft_q <= (rleft_q > first_slots + (32'(n_req) - 1) * 32'(Ipb))
                       ? rleft_q - first_slots - (32'(n_req) - 1) * 32'(Ipb) : 32'd0;
        end
        inflight_q <= inflight_q + (ar_fire ? (CntW+5)'(32'(n_req) * 32'(Ipb)) : '0)
                                 - (r_fire ? (CntW+5)'(Ipb) : '0);
        if (push) dleft_q <= dleft_q - 32'd1;
      end
      if (r_fire && !stopped_q) beat_valid_q <= 1'b1;
      else if (beat_done || stopped_q) beat_valid_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      raddr_q <= addr_i;
      daddr_q <= addr_i;
      pc_q    <= '0;
    end else begin
      if (ar_fire) raddr_q <= {raddr_q[39:BBits], BBits'(0)} + 40'(n_req) * 40'(BusBytes);
      if (push) begin
        daddr_q <= daddr_q + 40'd16;
        pc_q    <= pc_q + 32'd1;
      end
    end
    if (r_fire) beat_q <= r_data_i;
    n_hold_q <= n_req;
  end

  sa_fifo #(.Width(INSN_W + 32), .Depth(Depth), .PushWhenReady(1'b1)) u_buf (
    .clk_i, .rst_ni,
    .in_valid_i (push),
    .in_ready_o (fifo_ready),
    .in_data_i  ({pc_q, beat_q[32'(slot) * INSN_W +: INSN_W]}),
    .out_valid_o(out_valid_o),
    .out_ready_i(out_ready_i),
    .out_data_o ({out_pc_o, out_insn_o}),
    .count_o    (fifo_count)
  );

  sa_hs_chk #(.Width(48), .Name("sa_fetch AR")) u_ar_chk (
    .clk_i, .rst_ni, .valid_i(ar_valid_o), .ready_i(ar_ready_i), .data_i({ar_addr_o, ar_len_o}));

endmodule
