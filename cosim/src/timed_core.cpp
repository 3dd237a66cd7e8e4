// TimedCore: sa_core's control, register for register (timed_core.hpp). Every
// block below names the RTL module it mirrors; signal names are the RTL's.
// Each cycle() first computes the combinational signals from the registers
// and the bus inputs, then takes the clock edge.
#include "sasim/cosim/timed_core.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <bitset>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sasim/isa/encode.hpp"
#include "sasim/model/core_sram.hpp"

namespace sasim::cosim {

std::string_view to_string(Engine e) {
  switch (e) {
    case Engine::kRtl:
      return "rtl";
    case Engine::kModel:
      return "model";
    case Engine::kCheck:
      return "check";
  }
  return "?";
}

std::optional<Engine> parse_engine(std::string_view s) {
  static constexpr std::array<std::string_view, 3> kNames = {"rtl", "model", "check"};
  return model::parse_name<Engine>(s, kNames);
}

namespace {

using spec::CoreError;
using Id = spec::CounterId;

constexpr std::uint64_t kAddrMask = (std::uint64_t{1} << 40) - 1;

// A fixed-depth FIFO (sa_fifo): in_ready = not full, out_valid = not empty,
// no bypass.
template <class T, unsigned N>
struct Fifo {
  std::array<T, N> m{};
  unsigned rd = 0, wr = 0, n = 0;
  bool valid() const { return n != 0; }
  bool in_ready() const { return n != N; }
  const T& front() const { return m[rd]; }
  void push(const T& v) {
    m[wr] = v;
    wr = wr + 1 == N ? 0 : wr + 1;
    ++n;
  }
  void pop() {
    rd = rd + 1 == N ? 0 : rd + 1;
    --n;
  }
  void clear() { rd = wr = n = 0; }
};

// One decoded instruction word (sa_decode, sa_check and every unit's view).
struct Insn {
  std::uint32_t pc = 0;
  unsigned opcode = 0;
  isa::Queue queue = isa::Queue::kCtrl;
  CoreError chk = CoreError::kNone;
  bool pop_prev = false, pop_next = false, push_prev = false, push_next = false;
  // DMA
  bool acc = false, tr = false;
  std::uint32_t sram_row = 0, rows = 0, cols = 0;
  std::uint64_t dram_addr = 0, dram_stride = 0;
  // GEMM
  unsigned df = 0;
  bool reuse = false, accumulate = false;
  std::uint32_t pre_row = 0, in_row = 0, b_row = 0, len = 0, acc_row = 0;
  // VEC
  unsigned vop = 0;
  bool dst_spad = false;
  std::uint32_t src_row = 0, src2_row = 0, dst_row = 0, vrows = 0, imm = 0;
  // CONFIG
  unsigned shift = 0;
};

constexpr unsigned kOpLoad = static_cast<unsigned>(isa::Opcode::kLoad);
constexpr unsigned kOpStore = static_cast<unsigned>(isa::Opcode::kStore);
constexpr unsigned kOpGemm = static_cast<unsigned>(isa::Opcode::kGemm);
constexpr unsigned kOpVec = static_cast<unsigned>(isa::Opcode::kVec);
constexpr unsigned kOpConfig = static_cast<unsigned>(isa::Opcode::kConfig);
constexpr unsigned kOpFinish = static_cast<unsigned>(isa::Opcode::kFinish);
constexpr unsigned kOpSync = static_cast<unsigned>(isa::Opcode::kSync);
constexpr unsigned kDfOs = static_cast<unsigned>(isa::Dataflow::kOs);
constexpr unsigned kSramAcc = static_cast<unsigned>(isa::Sram::kAcc);
constexpr unsigned kSramSpad = static_cast<unsigned>(isa::Sram::kSpad);

struct RBeat {
  unsigned id = 0, resp = 0;
  bool last = false;
  AxiData data{};
};

struct StreamJob {
  bool os = false, first = false;
  std::uint32_t in_row = 0, b_row = 0, len = 0;
};
struct Tag {
  std::uint32_t acc_row = 0, count = 0;
  bool accumulate = false;
};
// sa_exec's completion FIFO entry and in-flight GEMM table entry.
struct ExecCpl {
  bool gemm = false, push_prev = false, push_next = false;
};
struct GemmRows {
  std::uint32_t acc_row = 0, count = 0, in_row = 0, b_row = 0, pre_row = 0, len = 0;
  bool os = false, pre = false;
};
// sa_fetch's inflight_q: CntW + 5 bits, CntW = $clog2(Depth + 1).
constexpr unsigned kInflightMask = (1u << (std::bit_width(isa::kFetchBufDepth) + 5)) - 1;
constexpr unsigned kGinD = isa::kExecGemmTable, kCplD = isa::kExecCplDepth;  // sa_exec's GinD, CplD
// [a, a + an) and [b, b + bn) intersect (sa_exec rows_meet).
inline bool rows_meet(std::uint32_t a, std::uint32_t an, std::uint32_t b, std::uint32_t bn) {
  return a < b + bn && b < a + an;
}
struct StepFlags {
  bool first = false, last = false;
};
// sa_dma_wr's completion FIFO entry: the AW count that ends a STORE.
struct StoreCpl {
  std::uint16_t cnt = 0;
  bool push_prev = false;
};
// sa_dma_wr's MaxStores (sa_core leaves it at its default, the contract's).
constexpr unsigned kMaxStores = isa::kStoreCplDepth;

class TimedCore final : public CoreModel {
 public:
  explicit TimedCore(const spec::CoreSpec& s)
      : spec_(s),
        R_(s.rows),
        C_(s.cols),
        W_(s.width()),
        ebs_(s.elem_bytes()),
        bus_(s.bus_bytes),
        bbits_(static_cast<unsigned>(std::countr_zero(s.bus_bytes))),
        ipb_(s.bus_bytes / 16),
        row_b_(std::max(s.width() * s.elem_bytes(), s.cols * 4)),
        sram_(s),
        ring_(s.rows + s.cols),
        rowbuf_(row_b_, 0),
        srow_(row_b_, 0) {
    spec::validate(s);
    reset();
  }

  const spec::CoreSpec& spec() const override { return spec_; }
  unsigned bus_bytes() const override { return bus_; }

  void reset() override {
    // Registers with a reset value (the data registers keep theirs; the SRAMs
    // keep their contents).
    running_q_ = done_q_ = finish_q_ = sync_q_ = false;
    err_q_ = CoreError::kNone;
    err_pc_q_ = len_q_ = disp_q_ = 0;
    rs_.clear();
    f_out_q_ = 0;
    ar_hold_q_ = false;
    inflight_q_ = 0;
    f_stopped_q_ = true;
    beat_valid_q_ = false;
    rleft_q_ = dleft_q_ = 0;
    fb_.clear();
    lq_.clear();
    eq_.clear();
    sq_.clear();
    tok_ = {};
    ar_lock_q_ = ar_grant_q_ = ar_last_q_ = false;
    // sa_dma_rd
    rq_active_q_ = false;
    l_out_q_ = 0;
    rxq_.clear();
    rx_active_q_ = false;
    l_err_q_ = false;
    // sa_exec
    df_q_ = 0;
    have_stat_q_ = false;
    e_err_q_ = false;
    sjq_.clear();
    pjq_.clear();
    tq_.clear();
    pre_active_q_ = pre_pend_q_ = false;
    pf_n_ = 0;
    st_active_q_ = st_pend_q_ = false;
    sf_.clear();
    oj_q_ = 0;
    dl_valid_q_ = 0;
    cq_.clear();
    gv_.reset();
    gw_ = gr_ = 0;
    gf_q_ = vf_q_ = 0;
    vec_active_q_ = v_pend_q_ = false;
    s1_valid_q_ = s2_valid_q_ = false;
    // sa_array
    pre_cnt_q_ = pre_cnt_arr_q_ = gap_q_ = pwait_q_ = emit_q_ = 0;
    os_open_q_ = false;
    std::fill(ring_.begin(), ring_.end(), 0);
    ring_pos_ = 0;
    ring_live_ = 0;
    // sa_dma_wr
    st_ = kIdle;
    awp_q_ = false;
    cpl_.clear();
    aw_cnt_q_ = b_cnt_q_ = 0;
    s_err_q_ = false;
    tpend_q_ = false;
    perf_ = {};
    sram_.have_stationary = false;
    sram_.int8_shift = 0;
    start_pending_ = false;
    progressed_ = false;
    events_ = {};
  }

  void start(std::uint64_t prog_addr, std::uint32_t n_insn) override {
    prog_addr_ = prog_addr;
    prog_len_ = n_insn;
    start_pending_ = true;
  }

  void cycle(const AxiIn& in, AxiOut& out) override;

  bool done() const override { return done_q_ && !start_pending_; }
  bool progressed() const override { return progressed_; }
  spec::CoreError error() const override { return err_q_; }
  std::uint32_t error_pc() const override { return err_pc_q_; }
  CorePerf perf() const override { return perf_; }
  std::uint64_t cycles() const override { return cycle_; }
  CoreEvents events() const override { return events_; }
  std::string dump_state() const override;

 private:
  enum StoreState { kIdle, kRd, kW, kFill, kEnd };

  Insn decode(const std::uint8_t* bytes, std::uint32_t pc) const;
  std::uint32_t row_beats(std::uint64_t a, std::uint64_t n) const {
    return static_cast<std::uint32_t>((((a + n - 1) & kAddrMask) >> bbits_) - (a >> bbits_) + 1) &
           0x1FFFu;
  }
  std::uint32_t burst_beats(std::uint64_t a, std::uint32_t left) const {
    const std::uint32_t to4k = (4096u - static_cast<std::uint32_t>(a & 0xFFFu)) >> bbits_;
    return std::min({left, isa::kMaxBurstBeats, to4k});
  }
  std::uint64_t align(std::uint64_t a) const { return a & ~std::uint64_t{bus_ - 1}; }
  unsigned row_bytes(const Insn& d) const { return d.cols * (d.acc ? 4u : ebs_); }
  void place_row(const Insn& d, std::uint32_t row);  // LOAD: the row buffer into the SRAM
  void exec_accept(const Insn& g);                   // EXEC: the instruction's effect
  void capture_store_row(std::uint32_t row);         // STORE: the SRAM read of a row
  std::uint32_t store_elem(std::uint32_t e) const;   // STORE, transposed: element e

  spec::CoreSpec spec_;
  const unsigned R_, C_, W_, ebs_, bus_, bbits_, ipb_, row_b_;
  model::CoreSram sram_;

  // Host interface.
  std::uint64_t prog_addr_ = 0;
  std::uint32_t prog_len_ = 0;
  bool start_pending_ = false, progressed_ = false;
  std::uint64_t cycle_ = 0;
  CoreEvents events_;
  CorePerf perf_{};

  // sa_core
  bool running_q_ = false, done_q_ = false, finish_q_ = false, sync_q_ = false;
  bool sync_o_ = false;  // sa_core sync_o of the last cycle (dump_state)
  CoreError err_q_ = CoreError::kNone;
  std::uint32_t err_pc_q_ = 0, len_q_ = 0, disp_q_ = 0;
  Fifo<RBeat, isa::kRSliceDepth> rs_;  // R register slice
  Fifo<Insn, isa::kInsnQueueDepth> lq_, eq_, sq_;
  std::array<std::uint16_t, 4> tok_{};  // ld->ex, ex->ld, ex->st, st->ex
  bool ar_lock_q_ = false, ar_grant_q_ = false, ar_last_q_ = false;

  // sa_fetch
  std::uint64_t raddr_q_ = 0, daddr_q_ = 0;
  std::uint32_t rleft_q_ = 0, dleft_q_ = 0, pc_q_ = 0, n_hold_q_ = 0;
  unsigned f_out_q_ = 0, inflight_q_ = 0;
  bool f_stopped_q_ = true, ar_hold_q_ = false, beat_valid_q_ = false;
  AxiData beat_q_{};
  Fifo<Insn, isa::kFetchBufDepth> fb_;

  // sa_dma_rd
  Insn rq_;
  bool rq_active_q_ = false;
  std::uint32_t rq_row_q_ = 0, rq_left_q_ = 0;
  std::uint64_t rq_ra_q_ = 0, rq_baddr_q_ = 0;
  unsigned l_out_q_ = 0;
  Fifo<Insn, isa::kLoadRxDepth> rxq_;
  bool rx_active_q_ = false, l_err_q_ = false;
  std::uint32_t rx_row_q_ = 0, rx_e_q_ = 0, rx_left_q_ = 0;
  std::uint64_t rx_ra_q_ = 0, rx_baddr_q_ = 0;

  // sa_exec (and sa_vpu's valid pipeline)
  unsigned df_q_ = 0;
  bool have_stat_q_ = false, e_err_q_ = false;
  Fifo<StreamJob, isa::kExecStreamJobs> sjq_;
  Fifo<std::uint32_t, isa::kExecPreloadJobs> pjq_;
  Fifo<Tag, isa::kExecTagDepth> tq_;
  bool pre_active_q_ = false, pre_pend_q_ = false;
  std::uint32_t pre_row_q_ = 0, pre_cnt_q_ = 0;
  unsigned pf_n_ = 0;  // preload skid buffer fill (its data is not modelled)
  bool st_active_q_ = false, st_pend_q_ = false, st_first_q_ = false, st_last_q_ = false;
  StreamJob st_job_;
  std::uint32_t st_i_q_ = 0;
  Fifo<StepFlags, isa::kExecSkidDepth> sf_;
  std::uint32_t oj_q_ = 0;
  unsigned dl_valid_q_ = 0;  // bit 0 / 1: the delay line's stages
  Fifo<ExecCpl, kCplD> cq_;
  std::array<GemmRows, kGinD> gin_{};
  std::bitset<kGinD> gv_;  // sa_exec gv_q
  unsigned gw_ = 0, gr_ = 0, gf_q_ = 0, vf_q_ = 0;
  bool vec_active_q_ = false, v_pend_q_ = false, s1_valid_q_ = false, s2_valid_q_ = false;
  Insn v_q_;
  std::uint32_t v_rd_q_ = 0, v_wr_q_ = 0;

  // sa_array (flags only): the output-token pipeline of R + C stages as a
  // ring (bit 0 ws_valid, bit 1 last, bit 2 os_drain).
  std::uint32_t pre_cnt_arr_q_ = 0;  // shadow rows loaded
  std::uint32_t gap_q_ = 0, pwait_q_ = 0, emit_q_ = 0;
  bool os_open_q_ = false;
  std::vector<std::uint8_t> ring_;
  unsigned ring_pos_ = 0, ring_live_ = 0;

  // sa_dma_wr
  StoreState st_ = kIdle;
  Insn in_q_;
  std::uint32_t row_q_ = 0, e_q_ = 0, left_q_ = 0, bleft_q_ = 0, tpe_q_ = 0;
  std::uint64_t ra_q_ = 0, baddr_q_ = 0;
  std::uint16_t aw_cnt_q_ = 0, b_cnt_q_ = 0;
  bool s_err_q_ = false, tpend_q_ = false;
  bool awp_q_ = false;  // the AW register
  std::uint64_t awa_q_ = 0;
  std::uint32_t awl_q_ = 0;
  Fifo<StoreCpl, kMaxStores> cpl_;
  AxiData tbuf_q_{};
  std::uint64_t tstrb_q_ = 0;

  std::vector<std::uint8_t> rowbuf_;  // the load DMA's row buffer
  std::vector<std::uint8_t> srow_;    // the store DMA's SRAM read port output (a row)
};

Insn TimedCore::decode(const std::uint8_t* bytes, std::uint32_t pc) const {
  isa::Instruction w;
  for (unsigned k = 0; k < 2; ++k)
    for (unsigned b = 0; b < 8; ++b) w.words[k] |= std::uint64_t{bytes[8 * k + b]} << (8 * b);
  Insn d;
  d.pc = pc;
  d.opcode = static_cast<unsigned>(w.get(isa::common::kOpcode));
  d.pop_prev = w.get(isa::common::kPopPrev);
  d.pop_next = w.get(isa::common::kPopNext);
  d.push_prev = w.get(isa::common::kPushPrev);
  d.push_next = w.get(isa::common::kPushNext);
  d.acc = w.get(isa::dma::kSram) == kSramAcc;
  d.tr = w.get(isa::dma::kTranspose);
  d.sram_row = static_cast<std::uint32_t>(w.get(isa::dma::kSramRow));
  d.rows = static_cast<std::uint32_t>(w.get(isa::dma::kRows));
  d.cols = static_cast<std::uint32_t>(w.get(isa::dma::kCols));
  d.dram_addr = w.get(isa::dma::kDramAddr);
  d.dram_stride = w.get(isa::dma::kDramStride);
  d.df = static_cast<unsigned>(w.get(isa::gemm::kDataflow));
  d.reuse = w.get(isa::gemm::kReuse);
  d.accumulate = w.get(isa::gemm::kAccumulate);
  d.pre_row = static_cast<std::uint32_t>(w.get(isa::gemm::kPreRow));
  d.in_row = static_cast<std::uint32_t>(w.get(isa::gemm::kInRow));
  d.b_row = static_cast<std::uint32_t>(w.get(isa::gemm::kBRow));
  d.len = static_cast<std::uint32_t>(w.get(isa::gemm::kLen));
  d.acc_row = static_cast<std::uint32_t>(w.get(isa::gemm::kAccRow));
  d.vop = static_cast<unsigned>(w.get(isa::vec::kOp));
  d.dst_spad = w.get(isa::vec::kDstSram) == kSramSpad;
  d.src_row = static_cast<std::uint32_t>(w.get(isa::vec::kSrcRow));
  d.src2_row = static_cast<std::uint32_t>(w.get(isa::vec::kSrc2Row));
  d.dst_row = static_cast<std::uint32_t>(w.get(isa::vec::kDstRow));
  d.vrows = static_cast<std::uint32_t>(w.get(isa::vec::kRows));
  d.imm = static_cast<std::uint32_t>(w.get(isa::vec::kImm));
  d.shift = static_cast<unsigned>(w.get(isa::config::kInt8Shift));

  // sa_decode: the queue and the legality of the enumerated fields.
  const auto op = isa::opcode_from(d.opcode);
  bool illegal = !op.has_value();
  if (op) {
    d.queue = isa::queue_of(*op);
    if (*op == isa::Opcode::kGemm) illegal = !isa::dataflow_from(d.df).has_value();
    if (*op == isa::Opcode::kVec) illegal = !isa::vec_op_from(d.vop).has_value();
  }
  // sa_check.
  const auto beyond = [](std::uint64_t first, std::uint64_t n, std::uint64_t cap) {
    return first + n > cap;
  };
  const auto dma_beyond = [&](unsigned lanes, unsigned cap) {
    return d.tr ? (d.rows > lanes || beyond(d.sram_row, d.cols, cap))
                : (d.cols > lanes || beyond(d.sram_row, d.rows, cap));
  };
  if (illegal) {
    d.chk = CoreError::kIllegal;
  } else if (d.opcode == kOpLoad || d.opcode == kOpStore) {
    if (d.rows == 0 || d.cols == 0) {
      d.chk = CoreError::kRange;
    } else if (d.acc) {
      if (dma_beyond(C_, spec_.acc_rows))
        d.chk = CoreError::kRange;
      else if ((d.dram_addr & 3) != 0 || (d.dram_stride & 3) != 0)
        d.chk = CoreError::kAlign;
    } else {
      if (dma_beyond(W_, spec_.spad_rows))
        d.chk = CoreError::kRange;
      else if (ebs_ == 2 && ((d.dram_addr & 1) != 0 || (d.dram_stride & 1) != 0))
        d.chk = CoreError::kAlign;
    }
  } else if (d.opcode == kOpGemm) {
    if (d.len == 0) {
      d.chk = CoreError::kRange;
    } else if (d.df == kDfOs) {
      if (beyond(d.in_row, d.len, spec_.spad_rows) || beyond(d.b_row, d.len, spec_.spad_rows) ||
          beyond(d.acc_row, R_, spec_.acc_rows))
        d.chk = CoreError::kRange;
    } else {
      if (beyond(d.in_row, d.len, spec_.spad_rows) || beyond(d.acc_row, d.len, spec_.acc_rows) ||
          (!d.reuse && beyond(d.pre_row, R_, spec_.spad_rows)))
        d.chk = CoreError::kRange;
    }
  } else if (d.opcode == kOpVec) {
    const auto vop = static_cast<isa::VecOp>(d.vop);
    if (d.vrows == 0 || beyond(d.src_row, d.vrows, spec_.acc_rows) ||
        (isa::reads_src2(vop) && beyond(d.src2_row, d.vrows, spec_.acc_rows)) ||
        beyond(d.dst_row, d.vrows, d.dst_spad ? spec_.spad_rows : spec_.acc_rows))
      d.chk = CoreError::kRange;
  }
  return d;
}

void TimedCore::place_row(const Insn& d, std::uint32_t row) {
  const std::uint64_t r = std::uint64_t{d.sram_row} + row;
  if (d.acc) {
    std::uint32_t* a = sram_.acc_row_ptr(r);
    for (unsigned l = 0; l < d.cols; ++l) {
      const std::uint8_t* b = rowbuf_.data() + 4 * l;
      a[l] = std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 |
             std::uint32_t{b[3]} << 24;
    }
  } else {
    std::uint16_t* s = sram_.spad_row(r);
    for (unsigned l = 0; l < d.cols; ++l) {
      const std::uint8_t* b = rowbuf_.data() + ebs_ * l;
      s[l] = ebs_ == 2 ? static_cast<std::uint16_t>(b[0] | b[1] << 8) : b[0];
    }
  }
}

void TimedCore::capture_store_row(std::uint32_t row) {
  const std::uint64_t r = std::uint64_t{in_q_.sram_row} + row;
  std::fill(srow_.begin(), srow_.end(), 0);
  if (in_q_.acc) {
    const std::uint32_t* a = sram_.acc_row_ptr(r);
    for (unsigned l = 0; l < C_; ++l)
      for (unsigned b = 0; b < 4; ++b)
        srow_[4 * l + b] = static_cast<std::uint8_t>(a[l] >> (8 * b));
  } else {
    const std::uint16_t* s = sram_.spad_row(r);
    for (unsigned l = 0; l < W_; ++l)
      for (unsigned b = 0; b < ebs_; ++b)
        srow_[ebs_ * l + b] = static_cast<std::uint8_t>(s[l] >> (8 * b));
  }
}

std::uint32_t TimedCore::store_elem(std::uint32_t e) const {
  const std::uint64_t r = std::uint64_t{in_q_.sram_row} + e;
  if (in_q_.acc) return sram_.acc[r * C_ + row_q_];
  return sram_.spad[r * W_ + row_q_];
}

void TimedCore::exec_accept(const Insn& g) {
  if (g.opcode == kOpGemm) {
    if (g.df == kDfOs) {
      sram_.gemm_os(g.in_row, g.b_row, g.len, g.acc_row, g.accumulate);
    } else {
      if (!g.reuse) sram_.preload(g.pre_row);
      sram_.gemm_stream(g.in_row, g.len, g.acc_row, g.accumulate);
    }
  } else if (g.opcode == kOpVec) {
    sram_.vec(static_cast<isa::VecOp>(g.vop), g.dst_spad, g.src_row, g.src2_row, g.dst_row, g.vrows,
              g.imm);
  } else if (g.opcode == kOpConfig) {
    sram_.int8_shift = g.shift;
  }
}

void TimedCore::cycle(const AxiIn& in, AxiOut& out) {
  const bool err_none = err_q_ == CoreError::kNone;
  const bool stop = finish_q_ || !err_none;
  const bool start = start_pending_ && !running_q_;  // sa_fetch start_i, clear

  // ---- R register slice ----
  const bool rs_in_ready = rs_.in_ready();
  const bool r_valid = rs_.valid();
  const RBeat& rb = rs_.front();
  const bool f_r_valid = r_valid && rb.id == 0;
  const bool l_r_valid = r_valid && rb.id == 1;

  // ---- sa_fetch (combinational) ----
  const std::uint32_t first_slots = ipb_ - static_cast<std::uint32_t>((raddr_q_ & (bus_ - 1)) >> 4);
  std::uint32_t want;
  if (rleft_q_ <= first_slots)
    want = 1;
  else if (rleft_q_ > first_slots + isa::kMaxBurstBeats * ipb_)
    want = isa::kMaxBurstBeats;
  else
    want = 1 + (rleft_q_ - first_slots + ipb_ - 1) / ipb_;
  const std::uint32_t to4k = (4096u - static_cast<std::uint32_t>(raddr_q_ & 0xFFFu)) >> bbits_;
  const std::uint32_t used = fb_.n + inflight_q_ + (beat_valid_q_ ? ipb_ : 0u);
  const std::uint32_t room = used >= isa::kFetchBufDepth ? 0u : (isa::kFetchBufDepth - used) / ipb_;
  const std::uint32_t n = std::min({want, isa::kMaxBurstBeats, to4k, room});
  const std::uint32_t n_req = ar_hold_q_ ? n_hold_q_ : n;
  const bool f_ar_valid =
      ar_hold_q_ || (!f_stopped_q_ && rleft_q_ != 0 && n != 0 && f_out_q_ != isa::kFetchMaxBursts);
  const unsigned slot = static_cast<unsigned>((daddr_q_ & (bus_ - 1)) >> 4);
  const bool push = beat_valid_q_ && !f_stopped_q_ && fb_.in_ready();
  const bool beat_done = push && (slot == ipb_ - 1 || dleft_q_ == 1);
  const bool f_r_ready = !beat_valid_q_ || beat_done || f_stopped_q_;
  const bool f_busy = f_out_q_ != 0 || beat_valid_q_ || ar_hold_q_;
  const bool f_valid = fb_.valid();
  const Insn& fi = fb_.front();

  // ---- queue heads, tokens ----
  const bool lq_v = lq_.valid(), eq_v = eq_.valid(), sq_v = sq_.valid();
  const Insn& lh = lq_.front();
  const Insn& eh = eq_.front();
  const Insn& sh = sq_.front();
  const bool t_ld2ex = tok_[0] != 0, t_ex2ld = tok_[1] != 0, t_ex2st = tok_[2] != 0,
             t_st2ex = tok_[3] != 0;
  const bool l_ok = !lh.pop_next || t_ex2ld;
  const bool e_ok = (!eh.pop_prev || t_ld2ex) && (!eh.pop_next || t_st2ex);
  const bool s_ok = !sh.pop_prev || t_ex2st;

  // ---- sa_dma_rd (combinational) ----
  const std::uint32_t l_burst = burst_beats(rq_baddr_q_, rq_left_q_);
  const bool l_ar_valid = rq_active_q_ && l_out_q_ != isa::kLoadMaxBursts;
  const bool l_ready = !rq_active_q_ && rxq_.in_ready();
  const bool accept = lq_v && l_ok && err_none && l_ready;  // = lq_pop
  const Insn& rx = rxq_.front();
  bool l_r_ready = false, rx_tr = false, rx_row_end = false, rx_beat_end = true;
  std::uint32_t rx_eb = 0, rx_epos = 0;
  if (rx_active_q_) {
    rx_tr = rx.tr;
    rx_eb = rx.acc ? 4u : ebs_;
    rx_epos = static_cast<std::uint32_t>((std::uint64_t{rx_e_q_} * rx_eb + rx_ra_q_ - rx_baddr_q_) &
                                         0xFFFFu);
    rx_beat_end = rx_tr ? (rx_epos + rx_eb >= bus_ || rx_e_q_ + 1 == rx.cols) : true;
    rx_row_end = rx_tr ? (rx_e_q_ + 1 == rx.cols) : (rx_left_q_ == 1);
    l_r_ready = rx_beat_end;
  }
  const bool rx_last_row = rx_active_q_ && rx_row_q_ + 1 == rx.rows;
  const bool l_r_fire = l_r_valid && l_r_ready;
  const bool l_wr = rx_active_q_ && l_r_valid && (rx_tr || rx_row_end);
  const bool rx_pop = rx_active_q_ && l_r_valid && rx_row_end && rx_last_row && rx_beat_end;
  const bool l_done = rx_pop;
  const bool l_push_next = rx_active_q_ && rx.push_next;
  const bool l_busy = rq_active_q_ || rxq_.valid();

  // ---- sa_exec (combinational) ----
  const bool e_valid = eq_v && e_ok && err_none;
  const bool is_gemm = eh.opcode == kOpGemm, is_vec = eh.opcode == kOpVec,
             is_cfg = eh.opcode == kOpConfig;
  const bool df_os = df_q_ == kDfOs;
  // sa_array
  const bool sf_valid = sf_.valid();
  const StepFlags sfo = sf_.front();
  const bool ws_block = !df_os && sfo.first && pre_cnt_arr_q_ != R_;
  const bool os_block = df_os && sfo.last && gap_q_ != 0;
  const bool in_ready = !ws_block && !os_block;
  const bool pre_ready = pre_cnt_arr_q_ != R_ && pwait_q_ == 0;
  const bool in_fire = sf_valid && in_ready;
  const bool pf_valid = pf_n_ != 0;
  const bool pre_fire = pf_valid && pre_ready;
  const std::uint8_t tok_out = ring_[ring_pos_];
  const bool out_valid = (tok_out & 5u) != 0 || emit_q_ != 0;
  const bool array_idle = !os_open_q_ && emit_q_ == 0 && ring_live_ == 0;
  // job queues, issue
  const bool pipe_empty = !sjq_.valid() && !st_active_q_ && !st_pend_q_ && !sf_valid &&
                          !pjq_.valid() && !pre_active_q_ && !pre_pend_q_ && !pf_valid &&
                          !tq_.valid() && dl_valid_q_ == 0 && array_idle;
  const bool gemm_idle = !tq_.valid() && dl_valid_q_ == 0 && !sjq_.valid() && !st_active_q_ &&
                         !sf_valid && !st_pend_q_;
  const bool switch_df = is_gemm && e_valid && eh.df != df_q_ && pipe_empty && !vec_active_q_;
  bool vec_hazard = false;
  if (is_vec && gv_.any()) {
    const bool src2 = isa::reads_src2(static_cast<isa::VecOp>(eh.vop));
    for (unsigned e = 0; e < kGinD; ++e) {
      if (!gv_.test(e)) continue;
      const GemmRows& g = gin_[e];
      if (rows_meet(g.acc_row, g.count, eh.src_row, eh.vrows) ||
          (src2 && rows_meet(g.acc_row, g.count, eh.src2_row, eh.vrows)))
        vec_hazard = true;
      if (!eh.dst_spad) {
        if (rows_meet(g.acc_row, g.count, eh.dst_row, eh.vrows)) vec_hazard = true;
      } else if (rows_meet(g.in_row, g.len, eh.dst_row, eh.vrows) ||
                 (g.os && rows_meet(g.b_row, g.len, eh.dst_row, eh.vrows)) ||
                 (g.pre && rows_meet(g.pre_row, R_, eh.dst_row, eh.vrows))) {
        vec_hazard = true;
      }
    }
  }
  const bool dispatch_gemm = is_gemm && e_valid && eh.df == df_q_ && !vec_active_q_ &&
                             sjq_.in_ready() && tq_.in_ready() && cq_.in_ready() &&
                             (eh.reuse || eh.df == kDfOs || pjq_.in_ready());
  const bool dispatch_vec = is_vec && e_valid && !vec_active_q_ && !vec_hazard && cq_.in_ready();
  const bool dispatch_cfg = is_cfg && e_valid && gemm_idle && !vec_active_q_ && !cq_.valid();
  const bool e_ready = dispatch_gemm || dispatch_vec || dispatch_cfg;
  const bool pre_issue =
      pre_active_q_ && !df_os && (pf_n_ + (pre_pend_q_ ? 1u : 0u) < isa::kExecSkidDepth);
  const bool pjq_pop = !pre_active_q_ && pjq_.valid();
  const bool st_issue = st_active_q_ && (sf_.n + (st_pend_q_ ? 1u : 0u) < isa::kExecSkidDepth);
  const bool st_last = st_i_q_ + 1 == st_job_.len;
  const bool sjq_pop = !st_active_q_ && sjq_.valid();
  const Tag& tag = tq_.front();
  const bool tq_pop = out_valid && oj_q_ + 1 == tag.count;
  const bool v_issue = vec_active_q_ && v_rd_q_ != v_q_.vrows;
  const bool v_out_valid = s2_valid_q_;
  const bool v_last_wr = v_out_valid && v_wr_q_ + 1 == v_q_.vrows;
  const bool g_fin = (dl_valid_q_ & 2u) != 0;
  const ExecCpl cq_head = cq_.front();
  const bool retire =
      cq_.valid() && (cq_head.gemm ? (gf_q_ != 0 || g_fin) : (vf_q_ != 0 || v_last_wr));
  const bool e_done = retire || dispatch_cfg;
  const bool e_push_prev = retire ? cq_head.push_prev : eh.push_prev;
  const bool e_push_next = retire ? cq_head.push_next : eh.push_next;
  const bool e_busy = !pipe_empty || vec_active_q_ || v_pend_q_ || cq_.valid();

  // ---- sa_dma_wr (combinational) ----
  const bool s_acc = in_q_.acc, s_tr = in_q_.tr;
  const std::uint32_t s_eb = s_acc ? 4u : ebs_;
  const std::uint32_t s_rb = in_q_.cols * s_eb;
  const bool s_last_row = row_q_ + 1 == in_q_.rows;
  const bool aw_valid = awp_q_;
  const bool aw_free = !awp_q_ || in.aw_ready;
  const bool w_valid = st_ == kW && bleft_q_ != 0;
  const bool w_fire = w_valid && in.w_ready;
  const bool burst_end = w_fire && bleft_q_ == 1;
  const bool row_end = burst_end && left_q_ == 1;
  const bool insn_end = row_end && s_last_row;
  const bool b_fire = in.b_valid;
  const bool s_done =
      cpl_.valid() && static_cast<std::uint16_t>(b_cnt_q_ + (b_fire ? 1 : 0)) == cpl_.front().cnt;
  const bool e_more = e_q_ < in_q_.cols && std::uint64_t{e_q_} * s_eb + ra_q_ < baddr_q_ + bus_;
  const bool fill_done = st_ == kFill && !e_more && !tpend_q_;
  const std::uint64_t ra_next = (ra_q_ + in_q_.dram_stride) & kAddrMask;
  const std::uint64_t sb_addr = !burst_end     ? baddr_q_
                                : left_q_ == 1 ? align(ra_next)
                                               : (baddr_q_ + bus_) & kAddrMask;
  const std::uint32_t sb_left = !burst_end     ? left_q_
                                : left_q_ == 1 ? row_beats(ra_next, s_rb)
                                               : left_q_ - 1;
  const std::uint32_t sb_beats = s_tr ? 1u : burst_beats(sb_addr, sb_left);
  const bool start_burst =
      aw_free && (st_ == kRd ||
                  (st_ == kW && !s_tr && ((burst_end && !insn_end) || bleft_q_ == 0)) || fill_done);
  const bool cpl_push =
      (st_ == kW && insn_end && aw_free) || (st_ == kEnd && aw_valid && in.aw_ready);
  const bool s_rd_row = !s_tr && (st_ == kRd || (row_end && !insn_end));
  const bool s_rd = s_rd_row || (st_ == kFill && e_more);
  const bool s_ready = st_ == kIdle && cpl_.in_ready();
  const bool s_valid = sq_v && s_ok && err_none;

  // ---- issue from the queues ----
  const bool lq_pop = accept;
  const bool eq_pop = eq_v && e_ok && e_ready && err_none;
  const bool sq_pop = sq_v && s_ok && s_ready && err_none;

  // ---- AXI read address arbitration ----
  bool ar_sel;
  if (ar_lock_q_)
    ar_sel = ar_grant_q_;
  else if (f_ar_valid && l_ar_valid)
    ar_sel = !ar_last_q_;
  else
    ar_sel = l_ar_valid;
  out.ar_valid = ar_sel ? l_ar_valid : f_ar_valid;
  out.ar_id = ar_sel ? 1u : 0u;
  out.ar_addr = ar_sel ? rq_baddr_q_ : align(raddr_q_);
  out.ar_len = ar_sel ? (l_burst - 1) & 0xFFu : (n_req - 1) & 0xFFu;
  const bool l_ar_fire = l_ar_valid && ar_sel && in.ar_ready;
  const bool f_ar_fire = f_ar_valid && !ar_sel && in.ar_ready;

  // ---- R routing ----
  const bool r_ready = !err_none || (rb.id == 0 ? f_r_ready : l_r_ready);
  const bool f_r_fire = f_r_valid && f_r_ready;
  out.r_ready = rs_in_ready;

  // ---- write channels ----
  out.aw_valid = aw_valid;
  out.aw_id = 0;
  out.aw_addr = awa_q_;
  out.aw_len = awl_q_;
  out.w_valid = w_valid;
  out.w_last = bleft_q_ == 1;
  out.b_ready = true;
  if (w_valid) {
    if (s_tr) {
      out.w_data = tbuf_q_;
      out.w_strb = tstrb_q_;
    } else {
      std::uint64_t strb = 0;
      const std::int64_t off =
          static_cast<std::int64_t>(baddr_q_) - static_cast<std::int64_t>(ra_q_);
      for (unsigned j = 0; j < bus_; ++j) {
        const std::int64_t idx = off + j;
        const bool in_row = idx >= 0 && idx < static_cast<std::int64_t>(row_b_);
        out.w_data[j] = in_row ? srow_[static_cast<std::size_t>(idx)] : 0;
        if (idx >= 0 && idx < static_cast<std::int64_t>(s_rb)) strb |= std::uint64_t{1} << j;
      }
      out.w_strb = strb;
    }
  }
  const bool aw_fire = aw_valid && in.aw_ready;

  // ---- dispatch ----
  bool target_ready = true;
  if (fi.queue == isa::Queue::kLoad)
    target_ready = lq_.in_ready();
  else if (fi.queue == isa::Queue::kExec)
    target_ready = eq_.in_ready();
  else if (fi.queue == isa::Queue::kStore)
    target_ready = sq_.in_ready();
  const bool disp =
      running_q_ && !stop && !sync_q_ && f_valid && fi.chk == CoreError::kNone && target_ready;
  const bool f_ready = disp || (running_q_ && stop);
  const bool is_finish = fi.opcode == kOpFinish;
  const bool is_sync = fi.opcode == kOpSync;

  // ---- errors, run control ----
  CoreError err_d = err_q_;
  if (err_none && running_q_) {
    if (!stop && f_valid && fi.chk != CoreError::kNone)
      err_d = fi.chk;
    else if (e_err_q_)
      err_d = CoreError::kReuse;
    else if (l_err_q_)
      err_d = CoreError::kBusRead;
    else if (s_err_q_)
      err_d = CoreError::kBusWrite;
    else if (!finish_q_ && disp_q_ == len_q_ && !f_valid)
      err_d = CoreError::kNoFinish;
  }
  const bool s_busy = st_ != kIdle || cpl_.valid();
  const bool all_idle = !lq_v && !eq_v && !sq_v && !l_busy && !e_busy && !s_busy && !f_busy;
  out.sync = running_q_ && sync_q_ && all_idle && !f_ar_valid && err_none;
  sync_o_ = out.sync;

  // ---- performance counters, events ----
  std::uint32_t inc = 0;
  const auto bit = [&](Id i, bool v) { inc |= std::uint32_t{v} << static_cast<unsigned>(i); };
  bit(Id::kCycles, running_q_);
  bit(Id::kExecBusy, running_q_ && e_busy);
  const bool wait_load = running_q_ && !e_busy && eq_v && eh.pop_prev && !t_ld2ex;
  bit(Id::kExecWaitLoad, wait_load);
  bit(Id::kExecWaitStore,
      running_q_ && !e_busy && eq_v && !(eh.pop_prev && !t_ld2ex) && eh.pop_next && !t_st2ex);
  bit(Id::kExecStarved, running_q_ && !e_busy && !eq_v);
  bit(Id::kArraySteps, in_fire);
  bit(Id::kVecRows, v_out_valid);
  bit(Id::kLoadBusy, running_q_ && l_busy);
  bit(Id::kStoreBusy, running_q_ && s_busy);
  bit(Id::kInsnLoad, l_done);
  bit(Id::kInsnExec, e_done);
  bit(Id::kInsnStore, s_done);
  bit(Id::kInsnCtrl, disp && (is_finish || is_sync));
  bit(Id::kSyncWait, running_q_ && sync_q_);
  bit(Id::kLoadBeats, l_r_fire);
  bit(Id::kStoreBeats, w_fire);
  bit(Id::kFetchBeats, f_r_fire);
  bit(Id::kArStall, out.ar_valid && !in.ar_ready);
  bit(Id::kWStall, (aw_valid && !in.aw_ready) || (w_valid && !in.w_ready));
  events_.counted = inc;
  events_.started = (lq_pop ? 1u : 0u) | (eq_pop ? 2u : 0u) | (sq_pop ? 4u : 0u);
  const bool e_sp_re1 = df_os ? st_issue : pre_issue;
  const unsigned spad_reads = unsigned{st_issue} + unsigned{e_sp_re1} + unsigned{s_rd && !s_acc};
  const unsigned spad_writes = unsigned{l_wr && !rx.acc} + unsigned{v_out_valid && v_q_.dst_spad};
  const unsigned acc_reads = (v_issue ? 2u : 0u) + unsigned{s_rd && s_acc};
  const unsigned acc_writes =
      unsigned{out_valid} + unsigned{l_wr && rx.acc} + unsigned{v_out_valid && !v_q_.dst_spad};
  const int d_ld2ex = int{l_done && l_push_next} - int{eq_pop && eh.pop_prev};
  const int d_ex2ld = int{e_done && e_push_prev} - int{lq_pop && lh.pop_next};
  const int d_ex2st = int{e_done && e_push_next} - int{sq_pop && sh.pop_prev};
  const int d_st2ex = int{s_done && cpl_.front().push_prev} - int{eq_pop && eh.pop_next};
  const RBeat& beat = rb;  // the R slice's head: it pops at the very end
  progressed_ = disp || l_done || e_done || s_done || in_fire || v_out_valid ||
                (in.r_valid && rs_in_ready) || w_fire || in.b_valid || in.sync_go;

  // =====================================================================
  // Clock edge.
  // =====================================================================
  if (start) {
    perf_ = {};
  } else {
    for (std::uint32_t b = inc; b != 0; b &= b - 1)
      ++perf_[static_cast<unsigned>(std::countr_zero(b))];
    perf_[static_cast<unsigned>(Id::kSpadReads)] += spad_reads;
    perf_[static_cast<unsigned>(Id::kSpadWrites)] += spad_writes;
    perf_[static_cast<unsigned>(Id::kAccReads)] += acc_reads;
    perf_[static_cast<unsigned>(Id::kAccWrites)] += acc_writes;
  }

  // ---- sa_dma_rd: receive side (before the R slice pops its beat) ----
  if (l_r_valid && rx_active_q_) {
    if (rx_tr) {
      // One element a cycle from the beat at rx_epos.
      std::uint32_t elem = 0;
      for (unsigned b = 0; b < 4; ++b)
        if (rx_epos + b < bus_) elem |= std::uint32_t{rb.data[rx_epos + b]} << (8 * b);
      const std::uint64_t r = std::uint64_t{rx.sram_row} + rx_e_q_;
      if (rx.acc)
        sram_.acc_row_ptr(r)[rx_row_q_] = elem;
      else
        sram_.spad_row(r)[rx_row_q_] =
            static_cast<std::uint16_t>(ebs_ == 2 ? elem & 0xFFFFu : elem & 0xFFu);
    } else {
      const std::int64_t off =
          static_cast<std::int64_t>(rx_baddr_q_) - static_cast<std::int64_t>(rx_ra_q_);
      for (unsigned j = 0; j < bus_; ++j) {
        const std::int64_t idx = off + j;
        if (idx >= 0 && idx < static_cast<std::int64_t>(row_b_))
          rowbuf_[static_cast<std::size_t>(idx)] = rb.data[j];
      }
      if (rx_row_end) place_row(rx, rx_row_q_);
    }
  }
  if (l_r_fire && rb.resp != 0) l_err_q_ = true;

  // ---- sa_fetch ----
  {
    const bool r_last = f_r_fire && beat.last;
    f_out_q_ = f_out_q_ + (f_ar_fire ? 1u : 0u) - (r_last ? 1u : 0u);
    ar_hold_q_ = f_ar_valid && !(!ar_sel && in.ar_ready);
    if (push) fb_.push(decode(beat_q_.data() + 16 * slot, pc_q_));
    if (f_r_fire) beat_q_ = beat.data;
    if (start) {
      f_stopped_q_ = false;
      rleft_q_ = prog_len_;
      dleft_q_ = prog_len_;
      inflight_q_ = 0;
    } else {
      if (stop) f_stopped_q_ = true;
      if (f_ar_fire) {
        const std::uint64_t take = first_slots + std::uint64_t{n_req - 1} * ipb_;
        rleft_q_ = rleft_q_ > take ? static_cast<std::uint32_t>(rleft_q_ - take) : 0u;
      }
      inflight_q_ =
          (inflight_q_ + (f_ar_fire ? n_req * ipb_ : 0u) - (f_r_fire ? ipb_ : 0u)) & kInflightMask;
      if (push) --dleft_q_;
    }
    if (f_r_fire && !f_stopped_q_)
      beat_valid_q_ = true;
    else if (beat_done || f_stopped_q_)
      beat_valid_q_ = false;
    if (start) {
      raddr_q_ = prog_addr_;
      daddr_q_ = prog_addr_;
      pc_q_ = 0;
    } else {
      if (f_ar_fire) raddr_q_ = (align(raddr_q_) + std::uint64_t{n_req} * bus_) & kAddrMask;
      if (push) {
        daddr_q_ = (daddr_q_ + 16) & kAddrMask;
        ++pc_q_;
      }
    }
    n_hold_q_ = n_req;
  }

  // ---- sa_dma_rd: request side ----
  l_out_q_ = l_out_q_ + (l_ar_fire ? 1u : 0u) - ((l_r_fire && beat.last) ? 1u : 0u);
  if (accept) {
    rq_active_q_ = true;
    rq_ = lh;
    rq_row_q_ = 0;
    rq_ra_q_ = lh.dram_addr;
    rq_baddr_q_ = align(lh.dram_addr);
    rq_left_q_ = row_beats(lh.dram_addr, row_bytes(lh));
  } else if (l_ar_fire) {
    if (l_burst == rq_left_q_) {
      if (rq_row_q_ + 1 == rq_.rows) rq_active_q_ = false;
      rq_row_q_ = (rq_row_q_ + 1) & 0xFFFu;
      rq_ra_q_ = (rq_ra_q_ + rq_.dram_stride) & kAddrMask;
      rq_baddr_q_ = align(rq_ra_q_);
      rq_left_q_ = row_beats(rq_ra_q_, row_bytes(rq_));
    } else {
      rq_baddr_q_ = (rq_baddr_q_ + std::uint64_t{l_burst} * bus_) & kAddrMask;
      rq_left_q_ -= l_burst;
    }
  }
  // ---- sa_dma_rd: receive side registers ----
  if (!rx_active_q_ && rxq_.valid()) {
    rx_active_q_ = true;
    rx_row_q_ = 0;
    rx_e_q_ = 0;
    rx_ra_q_ = rx.dram_addr;
    rx_baddr_q_ = align(rx.dram_addr);
    rx_left_q_ = row_beats(rx.dram_addr, row_bytes(rx));
  } else if (rx_active_q_ && l_r_valid) {
    if (rx_row_end && rx_beat_end) {
      rx_row_q_ = (rx_row_q_ + 1) & 0xFFFu;
      rx_e_q_ = 0;
      rx_ra_q_ = (rx_ra_q_ + rx.dram_stride) & kAddrMask;
      rx_baddr_q_ = align(rx_ra_q_);
      rx_left_q_ = row_beats(rx_ra_q_, row_bytes(rx));
    } else {
      if (rx_tr) rx_e_q_ = (rx_e_q_ + 1) & 0xFFFu;
      if (l_r_fire) {
        rx_baddr_q_ = (rx_baddr_q_ + bus_) & kAddrMask;
        rx_left_q_ -= 1;
      }
    }
    if (rx_pop) rx_active_q_ = false;
  }
  if (rx_pop) rxq_.pop();
  if (accept) rxq_.push(lh);

  // ---- sa_exec ----
  if (e_valid && is_gemm && eh.reuse && !have_stat_q_ && eh.df != kDfOs) e_err_q_ = true;
  if (dispatch_gemm || dispatch_vec || dispatch_cfg) exec_accept(eh);
  if (dispatch_gemm) {
    sjq_.push(StreamJob{eh.df == kDfOs, !eh.reuse, eh.in_row, eh.b_row, eh.len});
    if (!eh.reuse && eh.df != kDfOs) pjq_.push(eh.pre_row);
    tq_.push(Tag{eh.acc_row, eh.df == kDfOs ? R_ : eh.len, eh.accumulate});
    gin_[gw_] = GemmRows{
        eh.acc_row,     eh.df == kDfOs ? R_ : eh.len, eh.in_row, eh.b_row, eh.pre_row, eh.len,
        eh.df == kDfOs, !eh.reuse && eh.df != kDfOs};
    if (!eh.reuse && eh.df != kDfOs) have_stat_q_ = true;
  }
  if (switch_df) df_q_ = eh.df;
  // preload issue
  if (pjq_pop) {
    pre_active_q_ = true;
    pre_row_q_ = pjq_.front();
    pre_cnt_q_ = 0;
    pjq_.pop();
  } else if (pre_issue) {
    if (pre_cnt_q_ == R_ - 1) pre_active_q_ = false;
    pre_row_q_ = (pre_row_q_ + 1) & 0xFFFFu;
    ++pre_cnt_q_;
  }
  pf_n_ = pf_n_ + (pre_pend_q_ ? 1u : 0u) - (pre_fire ? 1u : 0u);
  pre_pend_q_ = pre_issue;
  // stream issue
  if (in_fire) sf_.pop();
  if (st_pend_q_) sf_.push(StepFlags{st_first_q_, st_last_q_});
  if (st_issue) {
    st_first_q_ = st_i_q_ == 0 && (st_job_.os || st_job_.first);
    st_last_q_ = st_last;
  }
  if (sjq_pop) {
    st_active_q_ = true;
    st_job_ = sjq_.front();
    st_i_q_ = 0;
    sjq_.pop();
  } else if (st_issue) {
    if (st_last) st_active_q_ = false;
    st_i_q_ = (st_i_q_ + 1) & 0xFFFu;
  }
  st_pend_q_ = st_issue;
  // sa_array
  {
    if (in_fire && !df_os && sfo.first)
      pre_cnt_arr_q_ = 0;
    else if (pre_fire)
      ++pre_cnt_arr_q_;
    if (in_fire && !df_os && sfo.first)
      pwait_q_ = C_ - 1;
    else if (pwait_q_ != 0)
      --pwait_q_;
    if (in_fire && df_os && sfo.last)
      gap_q_ = R_ - 1;
    else if (gap_q_ != 0)
      --gap_q_;
    if (in_fire && df_os) os_open_q_ = !sfo.last;
    if ((tok_out & 4u) != 0)
      emit_q_ = R_ - 1;
    else if (emit_q_ != 0)
      --emit_q_;
    const std::uint8_t tok_in =
        static_cast<std::uint8_t>((in_fire && !df_os ? 1u : 0u) | (in_fire && sfo.last ? 2u : 0u) |
                                  (in_fire && df_os && sfo.last ? 4u : 0u));
    ring_live_ = ring_live_ - ((tok_out & 5u) != 0 ? 1u : 0u) + ((tok_in & 5u) != 0 ? 1u : 0u);
    ring_[ring_pos_] = tok_in;
    ring_pos_ = ring_pos_ + 1 == ring_.size() ? 0 : ring_pos_ + 1;
  }
  // in-flight GEMMs, completion FIFO
  if (g_fin) {
    gv_.reset(gr_);
    gr_ = (gr_ + 1) % kGinD;
  }
  if (dispatch_gemm) {
    gv_.set(gw_);
    gw_ = (gw_ + 1) % kGinD;
  }
  if (retire) cq_.pop();
  if (dispatch_gemm || dispatch_vec) cq_.push(ExecCpl{is_gemm, eh.push_prev, eh.push_next});
  gf_q_ = gf_q_ + (g_fin ? 1u : 0u) - ((retire && cq_head.gemm) ? 1u : 0u);
  vf_q_ = vf_q_ + (v_last_wr ? 1u : 0u) - ((retire && !cq_head.gemm) ? 1u : 0u);
  // output tags, completion delay line
  dl_valid_q_ = ((dl_valid_q_ << 1) | (tq_pop ? 1u : 0u)) & 3u;
  if (out_valid) oj_q_ = tq_pop ? 0u : (oj_q_ + 1) & 0xFFFu;
  if (tq_pop) tq_.pop();
  // vector unit
  s2_valid_q_ = s1_valid_q_;
  s1_valid_q_ = v_pend_q_;
  v_pend_q_ = v_issue;
  if (dispatch_vec) {
    vec_active_q_ = true;
    v_q_ = eh;
    v_rd_q_ = 0;
    v_wr_q_ = 0;
  } else {
    if (v_last_wr) vec_active_q_ = false;
    if (v_issue) v_rd_q_ = (v_rd_q_ + 1) & 0xFFFu;
    if (v_out_valid) v_wr_q_ = (v_wr_q_ + 1) & 0xFFFu;
  }

  // ---- sa_dma_wr ----
  if (b_fire && in.b_resp != 0) s_err_q_ = true;
  if (b_fire) ++b_cnt_q_;
  if (s_done) cpl_.pop();
  if (cpl_push)
    cpl_.push(StoreCpl{static_cast<std::uint16_t>(aw_cnt_q_ + (aw_fire ? 1 : 0)), in_q_.push_prev});
  if (aw_fire) ++aw_cnt_q_;
  if (start_burst)
    awp_q_ = true;
  else if (aw_fire)
    awp_q_ = false;
  const bool tpend_prev = tpend_q_;
  tpend_q_ = st_ == kFill && e_more;
  if (s_rd_row) capture_store_row(st_ == kRd ? row_q_ : row_q_ + 1);
  const StoreState st_prev = st_;
  switch (st_prev) {
    case kIdle:
      if (s_valid && s_ready) st_ = sh.tr ? kFill : kRd;
      break;
    case kRd:
      st_ = kW;
      break;
    case kW:
      if (insn_end)
        st_ = aw_free ? kIdle : kEnd;
      else if (burst_end && s_tr)
        st_ = kFill;
      break;
    case kFill:
      if (start_burst) st_ = kW;
      break;
    case kEnd:
      if (aw_fire) st_ = kIdle;
      break;
  }
  if (st_prev == kIdle && s_valid && s_ready) {
    in_q_ = sh;
    row_q_ = 0;
    e_q_ = 0;
    ra_q_ = sh.dram_addr;
    baddr_q_ = align(sh.dram_addr);
    left_q_ = row_beats(sh.dram_addr, row_bytes(sh));
    bleft_q_ = 0;
    tbuf_q_ = {};
    tstrb_q_ = 0;
  }
  if (start_burst) {
    awa_q_ = sb_addr;
    awl_q_ = (sb_beats - 1) & 0xFFu;
  }
  if (st_prev == kFill) {
    if (tpend_prev) {
      const std::uint32_t elem = store_elem(tpe_q_);
      const std::uint64_t epos = std::uint64_t{tpe_q_} * s_eb + ra_q_ - baddr_q_;
      for (unsigned b = 0; b < s_eb; ++b) {
        tbuf_q_[epos + b] = static_cast<std::uint8_t>(elem >> (8 * b));
        tstrb_q_ |= std::uint64_t{1} << (epos + b);
      }
    }
    if (e_more) {
      tpe_q_ = e_q_;
      e_q_ = (e_q_ + 1) & 0xFFFu;
    }
  }
  if (start_burst)
    bleft_q_ = sb_beats;
  else if (w_fire)
    bleft_q_ -= 1;
  if (w_fire) {
    if (row_end) {
      row_q_ = (row_q_ + 1) & 0xFFFu;
      e_q_ = 0;
      ra_q_ = ra_next;
      baddr_q_ = align(ra_q_);
      left_q_ = row_beats(ra_q_, s_rb);
    } else {
      baddr_q_ = (baddr_q_ + bus_) & kAddrMask;
      left_q_ -= 1;
    }
    if (s_tr) {
      tbuf_q_ = {};
      tstrb_q_ = 0;
    }
  }

  // ---- sa_core: queues, tokens, run control ----
  if (f_ready && f_valid) {
    if (disp) {
      if (fi.queue == isa::Queue::kLoad)
        lq_.push(fi);
      else if (fi.queue == isa::Queue::kExec)
        eq_.push(fi);
      else if (fi.queue == isa::Queue::kStore)
        sq_.push(fi);
    }
    // fi (the buffer's head) is still read below (err_pc); it pops after
    // that, and the fetch's push above went to another slot (not full).
  }
  if (lq_pop) lq_.pop();
  if (eq_pop) eq_.pop();
  if (sq_pop) sq_.pop();
  if (start) {
    tok_ = {};
  } else {
    tok_[0] = static_cast<std::uint16_t>(tok_[0] + d_ld2ex);
    tok_[1] = static_cast<std::uint16_t>(tok_[1] + d_ex2ld);
    tok_[2] = static_cast<std::uint16_t>(tok_[2] + d_ex2st);
    tok_[3] = static_cast<std::uint16_t>(tok_[3] + d_st2ex);
  }
  ar_lock_q_ = out.ar_valid && !in.ar_ready;
  ar_grant_q_ = ar_sel;
  if (out.ar_valid && in.ar_ready) ar_last_q_ = ar_sel;

  if (start) {
    running_q_ = true;
    done_q_ = false;
    finish_q_ = false;
    sync_q_ = false;
    err_q_ = CoreError::kNone;
    err_pc_q_ = 0;
    disp_q_ = 0;
    len_q_ = prog_len_;
  } else if (running_q_) {
    if (err_none && err_d != CoreError::kNone) err_pc_q_ = f_valid ? fi.pc : disp_q_;
    err_q_ = err_d;
    const bool finish_q = finish_q_;  // the register's value in this cycle
    if (disp) {
      ++disp_q_;
      if (is_finish) finish_q_ = true;
      if (is_sync) sync_q_ = true;
    }
    if (in.sync_go) sync_q_ = false;
    // finish_q, not finish_q_: a FINISH dispatched into an idle core (after a
    // SYNC) is done one cycle later, as in the RTL.
    if (!err_none || (finish_q && all_idle)) {
      running_q_ = false;
      done_q_ = true;
    }
  }
  if (f_ready && f_valid) fb_.pop();

  // ---- R slice ----
  if (r_valid && r_ready) rs_.pop();
  if (in.r_valid && rs_in_ready) {
    RBeat nb;
    nb.id = in.r_id;
    nb.resp = in.r_resp;
    nb.last = in.r_last;
    std::memcpy(nb.data.data(), in.r_data.data(), bus_);
    rs_.push(nb);
  }

  start_pending_ = false;
  ++cycle_;
}

std::string TimedCore::dump_state() const {
  const bool f_valid = fb_.valid();
  const bool f_busy = f_out_q_ != 0 || beat_valid_q_ || ar_hold_q_;
  const bool l_busy = rq_active_q_ || rxq_.valid();
  const bool array_idle = !os_open_q_ && emit_q_ == 0 && ring_live_ == 0;
  const bool pipe_empty = !sjq_.valid() && !st_active_q_ && !st_pend_q_ && !sf_.valid() &&
                          !pjq_.valid() && !pre_active_q_ && !pre_pend_q_ && pf_n_ == 0 &&
                          !tq_.valid() && dl_valid_q_ == 0 && array_idle;
  const bool e_busy = !pipe_empty || vec_active_q_ || v_pend_q_ || cq_.valid();
  const bool lq_v = lq_.valid(), eq_v = eq_.valid(), sq_v = sq_.valid();
  const Insn& lh = lq_.front();
  const Insn& eh = eq_.front();
  const Insn& sh = sq_.front();
  std::ostringstream s;
  s << "core state at cycle " << cycle_ << ": next instruction "
    << (f_valid ? fb_.front().pc : disp_q_)
    << (done_q_      ? ", done"
        : running_q_ ? ", running"
                     : ", idle")
    << "\n"
    << "  queues: fetched " << (f_valid ? 1 : 0) << ", LOAD " << lq_.n << ", EXEC " << eq_.n
    << ", STORE " << sq_.n << "\n"
    << "  tokens: load->exec " << tok_[0] << ", exec->load " << tok_[1] << ", exec->store "
    << tok_[2] << ", store->exec " << tok_[3] << "\n"
    << "  busy: fetch " << f_busy << ", load " << l_busy << ", exec " << e_busy << ", store "
    << (st_ != kIdle) << " (" << cpl_.n << " STORE(s) waiting for write responses)\n"
    << "  heads waiting for a token: LOAD " << (lq_v && lh.pop_next && tok_[1] == 0)
    << ", EXEC from LOAD " << (eq_v && eh.pop_prev && tok_[0] == 0) << ", EXEC from STORE "
    << (eq_v && eh.pop_next && tok_[3] == 0) << ", STORE " << (sq_v && sh.pop_prev && tok_[2] == 0)
    << "\n";
  if (sync_q_)
    s << "  at a SYNC: " << (sync_o_ ? "drained, waiting for the other cores" : "draining") << "\n";
  return s.str();
}

// Engine::kCheck: the RTL drives the bus; the model gets the same inputs and
// must produce the same outputs, events and counters in every cycle.
class CheckedCore final : public CoreModel {
 public:
  CheckedCore(std::unique_ptr<CoreModel> rtl, std::unique_ptr<CoreModel> model)
      : rtl_(std::move(rtl)), model_(std::move(model)) {}

  const spec::CoreSpec& spec() const override { return rtl_->spec(); }
  unsigned bus_bytes() const override { return rtl_->bus_bytes(); }
  void reset() override {
    rtl_->reset();
    model_->reset();
  }
  void start(std::uint64_t prog_addr, std::uint32_t n_insn) override {
    rtl_->start(prog_addr, n_insn);
    model_->start(prog_addr, n_insn);
  }
  void cycle(const AxiIn& in, AxiOut& out) override {
    rtl_->cycle(in, out);
    model_->cycle(in, mout_);
    compare(out);
  }
  bool done() const override { return rtl_->done(); }
  bool progressed() const override { return rtl_->progressed(); }
  spec::CoreError error() const override { return rtl_->error(); }
  std::uint32_t error_pc() const override { return rtl_->error_pc(); }
  CorePerf perf() const override { return rtl_->perf(); }
  std::uint64_t cycles() const override { return rtl_->cycles(); }
  CoreEvents events() const override { return rtl_->events(); }
  std::string dump_state() const override {
    return "RTL:\n" + rtl_->dump_state() + "model:\n" + model_->dump_state();
  }

 private:
  void compare(const AxiOut& o) {
    const AxiOut& m = mout_;
    const unsigned bus = rtl_->bus_bytes();
    std::ostringstream d;
    const auto diff = [&](const char* what, std::uint64_t r, std::uint64_t v) {
      if (r != v && d.tellp() == 0) d << what << ": RTL " << r << ", model " << v;
    };
    diff("ar_valid", o.ar_valid, m.ar_valid);
    if (o.ar_valid) {
      diff("ar_id", o.ar_id, m.ar_id);
      diff("ar_addr", o.ar_addr, m.ar_addr);
      diff("ar_len", o.ar_len, m.ar_len);
    }
    diff("r_ready", o.r_ready, m.r_ready);
    diff("aw_valid", o.aw_valid, m.aw_valid);
    if (o.aw_valid) {
      diff("aw_addr", o.aw_addr, m.aw_addr);
      diff("aw_len", o.aw_len, m.aw_len);
    }
    diff("w_valid", o.w_valid, m.w_valid);
    if (o.w_valid) {
      diff("w_strb", o.w_strb, m.w_strb);
      diff("w_last", o.w_last, m.w_last);
      for (unsigned b = 0; b < bus; ++b)
        if ((o.w_strb >> b) & 1u) diff("w_data byte", o.w_data[b], m.w_data[b]);
    }
    diff("b_ready", o.b_ready, m.b_ready);
    diff("sync", o.sync, m.sync);
    diff("progress", rtl_->progressed(), model_->progressed());
    diff("counter events", rtl_->events().counted, model_->events().counted);
    diff("queue pops", rtl_->events().started, model_->events().started);
    diff("done", rtl_->done(), model_->done());
    diff("error", static_cast<unsigned>(rtl_->error()), static_cast<unsigned>(model_->error()));
    const CorePerf pr = rtl_->perf(), pm = model_->perf();
    for (std::size_t i = 0; i < pr.size(); ++i)
      if (pr[i] != pm[i] && d.tellp() == 0)
        d << "counter " << spec::kCounters[i].name << ": RTL " << pr[i] << ", model " << pm[i];
    if (d.tellp() != 0) {
      throw EngineMismatch("engine check: the model left the RTL in cycle " +
                           std::to_string(rtl_->cycles() - 1) + " (" + d.str() + ")\n" +
                           dump_state());
    }
  }

  std::unique_ptr<CoreModel> rtl_, model_;
  AxiOut mout_;
};

}  // namespace

std::unique_ptr<CoreModel> make_timed_core(const spec::CoreSpec& s) {
  return std::make_unique<TimedCore>(s);
}

std::unique_ptr<CoreModel> make_engine_core(Engine engine, const spec::CoreSpec& s,
                                            const CoreModelOptions& options) {
  if (engine == Engine::kModel) {
    if (!options.wave_file.empty())
      throw std::invalid_argument("waves need the RTL: run.engine is model (use rtl or check)");
    return make_timed_core(s);
  }
  auto rtl = make_core_model(s, options);
  if (engine == Engine::kRtl) return rtl;
  return make_checked_core(std::move(rtl), make_timed_core(s));
}

std::unique_ptr<CoreModel> make_checked_core(std::unique_ptr<CoreModel> reference,
                                             std::unique_ptr<CoreModel> model) {
  if (reference->bus_bytes() != model->bus_bytes())
    throw std::invalid_argument("engine check: the two cores have different buses");
  return std::make_unique<CheckedCore>(std::move(reference), std::move(model));
}

}  // namespace sasim::cosim
