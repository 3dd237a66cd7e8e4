#include "sasim/cosim/barrier.hpp"

#include <sstream>

namespace sasim::cosim {

SyncBarrier::SyncBarrier(unsigned cores) : cores_(cores) {
  if (cores == 0) throw std::invalid_argument("SyncBarrier: no cores");
}

void SyncBarrier::start(unsigned participants) {
  if (participants == 0 || participants > cores_.size())
    throw std::invalid_argument("SyncBarrier: " + std::to_string(participants) +
                                " participants for " + std::to_string(cores_.size()) + " cores");
  participants_ = participants;
  for (Core& c : cores_) c = Core{};
  waiting_ = 0;
  latest_ = 0;
  completed_ = 0;
  aborted_.clear();
}

std::uint64_t SyncBarrier::arrive(unsigned core, std::uint64_t cycle) {
  if (!aborted_.empty()) throw BarrierAborted(aborted_);
  Core& me = cores_.at(core);
  me.state = State::kWaiting;
  me.cycle = cycle;
  latest_ = waiting_ == 0 ? cycle : std::max(latest_, cycle);
  ++waiting_;
  for (unsigned i = 0; i < participants_; ++i) {
    if (cores_[i].state == State::kEnded) {
      std::ostringstream s;
      s << "core " << core << " reached SYNC #" << me.passed + 1 << " in cycle " << cycle
        << ", but core " << i << " had ended in cycle " << cores_[i].cycle << " (" << cores_[i].how
        << ") after " << cores_[i].passed << " SYNCs: the barrier can never complete\n"
        << describe();
      abort(s.str());
      throw BarrierAborted(aborted_);
    }
  }
  if (waiting_ < participants_) return kNever;
  const std::uint64_t release = latest_ + 1;
  for (unsigned i = 0; i < participants_; ++i) {
    cores_[i].state = State::kRunning;
    cores_[i].release = release;
    ++cores_[i].passed;
  }
  waiting_ = 0;
  ++completed_;
  released_.notify(sc_core::SC_ZERO_TIME);
  return release;
}

std::uint64_t SyncBarrier::wait_release(unsigned core) {
  Core& me = cores_.at(core);
  while (me.state == State::kWaiting && aborted_.empty()) sc_core::wait(released_);
  if (me.state == State::kWaiting) throw BarrierAborted(aborted_);
  return me.release;
}

void SyncBarrier::leave(unsigned core, std::uint64_t cycle, const std::string& how) {
  Core& me = cores_.at(core);
  const bool was_waiting = me.state == State::kWaiting;
  if (was_waiting) --waiting_;
  me.state = State::kEnded;
  me.cycle = cycle;
  me.how = how;
  if (waiting_ != 0 && aborted_.empty()) {
    std::ostringstream s;
    s << "core " << core << " ended in cycle " << cycle << " (" << how << ") after " << me.passed
      << " SYNCs while other cores wait at a SYNC: the barrier can never complete\n"
      << describe();
    abort(s.str());
  }
}

void SyncBarrier::abort(const std::string& why) {
  aborted_ = why;
  released_.notify(sc_core::SC_ZERO_TIME);
}

std::string SyncBarrier::describe() const {
  std::ostringstream s;
  for (unsigned i = 0; i < participants_; ++i) {
    const Core& c = cores_[i];
    s << "  core " << i << ": ";
    switch (c.state) {
      case State::kRunning:
        s << "running";
        break;
      case State::kWaiting:
        s << "waiting at SYNC #" << c.passed + 1 << " since cycle " << c.cycle;
        break;
      case State::kEnded:
        s << "ended in cycle " << c.cycle << " (" << c.how << ")";
        break;
    }
    s << ", " << c.passed << " SYNCs passed\n";
  }
  return s.str();
}

}  // namespace sasim::cosim
