#include "sasim/mem/interconnect.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "sasim/mem/config_check.hpp"

namespace sasim::mem {

namespace {

using sc_core::sc_time;
constexpr const char* kMsgType = "sasim/mem/interconnect";

// ---------------------------------------------------------------------------
// Arbitration policies
// ---------------------------------------------------------------------------

class RoundRobinArbiter : public Arbiter {
 public:
  unsigned pick(const std::vector<bool>& requesting) override {
    const auto n = static_cast<unsigned>(requesting.size());
    for (unsigned k = 0; k < n; ++k) {
      const unsigned port = (next_ + k) % n;
      if (requesting[port]) {
        next_ = (port + 1) % n;
        return port;
      }
    }
    throw std::logic_error("round_robin arbiter: no requester");
  }

 private:
  unsigned next_ = 0;  // the first port to consider
};

class FixedPriorityArbiter : public Arbiter {
 public:
  unsigned pick(const std::vector<bool>& requesting) override {
    for (unsigned port = 0; port < requesting.size(); ++port)
      if (requesting[port]) return port;
    throw std::logic_error("fixed_priority arbiter: no requester");
  }
};

using ArbiterFactory = std::function<std::unique_ptr<Arbiter>()>;

// The one registry of arbitration policies.
const std::map<std::string, ArbiterFactory>& arbiter_registry() {
  static const std::map<std::string, ArbiterFactory> registry = {
      {"round_robin", [] { return std::make_unique<RoundRobinArbiter>(); }},
      {"fixed_priority", [] { return std::make_unique<FixedPriorityArbiter>(); }},
  };
  return registry;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::vector<AddressRange> sorted_map(std::vector<AddressRange> map) {
  std::sort(map.begin(), map.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.base < b.base; });
  for (std::size_t k = 0; k < map.size(); ++k) {
    const AddressRange& r = map[k];
    if (r.size == 0) {
      throw std::invalid_argument("interconnect address map: empty range at " + hex(r.base));
    }
    if (r.base + r.size - 1 < r.base) {
      throw std::invalid_argument("interconnect address map: range at " + hex(r.base) +
                                  " wraps around the address space");
    }
    if (k > 0 && map[k - 1].base + map[k - 1].size > r.base) {
      throw std::invalid_argument("interconnect address map: ranges at " + hex(map[k - 1].base) +
                                  " and " + hex(r.base) + " overlap");
    }
  }
  return map;
}

}  // namespace

std::unique_ptr<Arbiter> make_arbiter(const std::string& name) {
  const auto& registry = arbiter_registry();
  const auto it = registry.find(name);
  if (it == registry.end()) {
    throw std::invalid_argument("unknown arbitration policy '" + name.substr(0, 60) +
                                "' (allowed: " + join(arbiter_names()) + ")");
  }
  return it->second();
}

std::vector<std::string> arbiter_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : arbiter_registry()) names.push_back(name);
  return names;
}

void InterconnectConfig::validate() const {
  check_real("clock_mhz", clock_mhz, 1, 100000);
  check_uint("width_bytes", width_bytes, 4, 1024);
  check_uint("latency_cycles", latency_cycles, 0, 1000);
  check_name("arbitration", [&] { make_arbiter(arbitration); });
}

// ---------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------

Interconnect::Interconnect(sc_core::sc_module_name name, const InterconnectConfig& config,
                           std::vector<AddressRange> address_map, mem::StatsRegistry& stats)
    : sc_core::sc_module(name),
      in("in"),
      out("out"),
      config_((config.validate(), config)),
      map_(sorted_map(std::move(address_map))),
      period_(sc_time(1.0 / config.clock_mhz, sc_core::SC_US)),
      arbiter_(make_arbiter(config.arbitration)),
      arrival_peq_("arrival_peq", this, &Interconnect::on_arrival),
      end_req_peq_("end_req_peq", this, &Interconnect::on_target_end_req),
      response_peq_("response_peq", this, &Interconnect::on_response),
      done_peq_("done_peq", this, &Interconnect::on_response_done),
      stats_(stats),
      requests_(stats.counter(std::string(this->name()) + ".requests")),
      bytes_(stats.counter(std::string(this->name()) + ".bytes")),
      address_errors_(stats.counter(std::string(this->name()) + ".address_errors")),
      stall_cycles_(stats.counter(std::string(this->name()) + ".stall_cycles")),
      busy_cycles_(stats.counter(std::string(this->name()) + ".busy_cycles")) {
  if (period_ == sc_core::SC_ZERO_TIME) {
    throw std::invalid_argument("interconnect: clock_mhz = " + std::to_string(config.clock_mhz) +
                                " gives a period below the time resolution");
  }
  mem::Callbacks::passthrough(in, out, this);

  SC_HAS_PROCESS(Interconnect);
  SC_METHOD(arbitrate);
  sensitive << arbitration_event_;
  dont_initialize();
  SC_METHOD(retry_responses);
  sensitive << response_retry_event_;
  dont_initialize();
}

void Interconnect::end_of_elaboration() {
  const unsigned initiators = in.size();
  const unsigned targets = out.size();
  for (const AddressRange& r : map_) {
    if (r.target >= targets) {
      SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": address range at " + hex(r.base) +
                                 " maps to target port " + std::to_string(r.target) + " but " +
                                 std::to_string(targets) + " target(s) are bound")
                                    .c_str());
    }
  }
  pending_.assign(initiators, Pending{});
  port_free_at_.assign(initiators, sc_core::SC_ZERO_TIME);
  resp_queue_.assign(initiators, {});
  resp_owner_.assign(initiators, nullptr);
  resp_free_at_.assign(initiators, sc_core::SC_ZERO_TIME);
  granted_.assign(targets, 0);
  target_queue_.assign(targets, {});
  target_req_owner_.assign(targets, nullptr);
  const std::string prefix = name();
  for (unsigned k = 0; k < initiators; ++k)
    initiator_requests_.push_back(
        &stats_.counter(prefix + ".initiator" + std::to_string(k) + ".requests"));
  for (unsigned j = 0; j < targets; ++j)
    target_requests_.push_back(
        &stats_.counter(prefix + ".target" + std::to_string(j) + ".requests"));
}

unsigned Interconnect::transfer_cycles(unsigned bytes) const {
  return std::max(1u, (bytes + config_.width_bytes - 1) / config_.width_bytes);
}

int Interconnect::route(std::uint64_t addr, unsigned len) const {
  // The last range with base <= addr.
  auto it = std::upper_bound(map_.begin(), map_.end(), addr,
                             [](std::uint64_t a, const AddressRange& r) { return a < r.base; });
  if (it == map_.begin()) return -1;
  --it;
  const std::uint64_t offset = addr - it->base;
  const std::uint64_t n = std::max<std::uint64_t>(len, 1);
  if (offset >= it->size || n > it->size - offset) return -1;
  return static_cast<int>(it->target);
}

sc_time Interconnect::edge_at_or_after(sc_time t) const {
  const std::uint64_t p = period_.value();
  const std::uint64_t edges = (t.value() + p - 1) / p;
  return sc_time::from_value(edges * p);
}

// ---------------------------------------------------------------------------
// Initiator side
// ---------------------------------------------------------------------------

tlm::tlm_sync_enum Interconnect::nb_transport_fw(int port, Payload& gp, tlm::tlm_phase& phase,
                                                 sc_time& delay) {
  const auto k = static_cast<unsigned>(port);
  if (phase == tlm::END_RESP) {
    if (resp_owner_[k] != &gp) {
      SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": END_RESP from initiator port " +
                                 std::to_string(k) + " for a response not in progress")
                                    .c_str());
      return tlm::TLM_COMPLETED;
    }
    resp_owner_[k] = nullptr;
    resp_free_at_[k] = sc_core::sc_time_stamp() + delay;
    done_peq_.notify(gp, tlm::END_RESP, delay);
    return tlm::TLM_COMPLETED;
  }
  if (phase != tlm::BEGIN_REQ) {
    SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": unexpected phase on nb_transport_fw from " +
                               "initiator port " + std::to_string(k))
                                  .c_str());
    return tlm::TLM_ACCEPTED;
  }
  ++requests_;
  ++*initiator_requests_[k];
  const int target = route(gp.get_address(), gp.get_data_length());
  if (target < 0) {
    ++address_errors_;
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
  }
  if (pending_[k].gp != nullptr) {
    SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": BEGIN_REQ from initiator port " +
                               std::to_string(k) + " before END_REQ of its previous request")
                                  .c_str());
    return tlm::TLM_ACCEPTED;
  }
  gp.acquire();
  routes_[&gp] = Route{k, static_cast<unsigned>(target), false};
  // An initiator port cannot overlap its own transfers: eligible after its previous transfer.
  const sc_time eligible =
      std::max(edge_at_or_after(sc_core::sc_time_stamp() + delay), port_free_at_[k]);
  pending_[k] = Pending{&gp, eligible, static_cast<unsigned>(target)};
  schedule_arbitration(std::max(eligible, path_free_at_));
  return tlm::TLM_ACCEPTED;
}

void Interconnect::b_transport(int port, Payload& gp, sc_time& delay) {
  ++requests_;
  ++*initiator_requests_[static_cast<unsigned>(port)];
  const int target = route(gp.get_address(), gp.get_data_length());
  if (target < 0) {
    ++address_errors_;
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  bytes_ += gp.get_data_length();
  ++*target_requests_[static_cast<unsigned>(target)];
  delay += cycles(config_.latency_cycles + transfer_cycles(gp.get_data_length()) - 1);
  out[target]->b_transport(gp, delay);
}

unsigned Interconnect::transport_dbg(int, Payload& gp) {
  const int target = route(gp.get_address(), gp.get_data_length());
  return target < 0 ? 0 : out[target]->transport_dbg(gp);
}

bool Interconnect::get_direct_mem_ptr(int, Payload&, tlm::tlm_dmi&) { return false; }

// ---------------------------------------------------------------------------
// Request path
// ---------------------------------------------------------------------------

void Interconnect::schedule_arbitration(sc_time at) {
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time edge = edge_at_or_after(std::max(at, now));
  arbitration_event_.notify(edge - now);  // an earlier pending notification wins
}

bool Interconnect::has_room(unsigned target) const {
  return granted_[target] < config_.latency_cycles + 1;
}

bool Interconnect::any_pending() const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [](const Pending& p) { return p.gp != nullptr; });
}

void Interconnect::arbitrate() {
  const sc_time now = sc_core::sc_time_stamp();
  if (now < path_free_at_ || edge_at_or_after(now) != now) {
    schedule_arbitration(path_free_at_);
    return;
  }
  std::vector<bool> requesting(pending_.size(), false);
  bool any = false;
  sc_time next_eligible = sc_core::sc_max_time();
  for (unsigned k = 0; k < pending_.size(); ++k) {
    const Pending& p = pending_[k];
    if (p.gp == nullptr) continue;
    if (p.eligible_at > now) {
      next_eligible = std::min(next_eligible, p.eligible_at);
    } else if (has_room(p.target)) {
      requesting[k] = true;
      any = true;
    }  // else: waits for its target's END_REQ, which reschedules arbitration
  }
  if (any) {
    grant(arbiter_->pick(requesting));
    if (any_pending()) schedule_arbitration(path_free_at_);
  } else if (next_eligible != sc_core::sc_max_time()) {
    schedule_arbitration(next_eligible);
  }
}

void Interconnect::grant(unsigned port) {
  const sc_time now = sc_core::sc_time_stamp();
  Pending p = pending_[port];
  pending_[port] = Pending{};
  Payload& gp = *p.gp;
  const unsigned d = transfer_cycles(gp.get_data_length());
  stall_cycles_ += (now - p.eligible_at).value() / period_.value();
  busy_cycles_ += d;
  bytes_ += gp.get_data_length();
  ++*target_requests_[p.target];
  path_free_at_ = now + cycles(d);
  port_free_at_[port] = path_free_at_;
  ++granted_[p.target];
  arrival_peq_.notify(gp, tlm::BEGIN_REQ, cycles(config_.latency_cycles + d - 1));

  tlm::tlm_phase phase = tlm::END_REQ;
  sc_time delay = sc_core::SC_ZERO_TIME;
  in[static_cast<int>(port)]->nb_transport_bw(gp, phase, delay);
}

void Interconnect::on_arrival(Payload& gp, const tlm::tlm_phase&) {
  const unsigned j = routes_.at(&gp).target;
  target_queue_[j].push_back(&gp);
  send_request(j);
}

void Interconnect::send_request(unsigned j) {
  if (target_req_owner_[j] != nullptr || target_queue_[j].empty()) return;
  Payload& gp = *target_queue_[j].front();
  target_queue_[j].pop_front();
  target_req_owner_[j] = &gp;
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_time delay = sc_core::SC_ZERO_TIME;
  switch (out[static_cast<int>(j)]->nb_transport_fw(gp, phase, delay)) {
    case tlm::TLM_ACCEPTED:
      break;  // END_REQ or BEGIN_RESP follows on nb_transport_bw
    case tlm::TLM_UPDATED:
      if (phase == tlm::END_REQ) {
        end_req_peq_.notify(gp, tlm::END_REQ, delay);
      } else if (phase == tlm::BEGIN_RESP) {
        routes_.at(&gp).end_resp_owed = true;
        response_peq_.notify(gp, tlm::BEGIN_RESP, delay);  // implies END_REQ
      } else {
        SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": target port " + std::to_string(j) +
                                   " returned TLM_UPDATED with an illegal phase")
                                      .c_str());
      }
      break;
    case tlm::TLM_COMPLETED:
      routes_.at(&gp).end_resp_owed = false;
      response_peq_.notify(gp, tlm::BEGIN_RESP, delay);  // implies END_REQ
      break;
  }
}

void Interconnect::on_target_end_req(Payload& gp, const tlm::tlm_phase&) {
  const unsigned j = routes_.at(&gp).target;
  if (target_req_owner_[j] != &gp) return;  // already ended (implicitly, by BEGIN_RESP)
  target_req_owner_[j] = nullptr;
  --granted_[j];
  send_request(j);
  if (any_pending()) schedule_arbitration(std::max(sc_core::sc_time_stamp(), path_free_at_));
}

// ---------------------------------------------------------------------------
// Response path
// ---------------------------------------------------------------------------

tlm::tlm_sync_enum Interconnect::nb_transport_bw(int port, Payload& gp, tlm::tlm_phase& phase,
                                                 sc_time& delay) {
  const auto it = routes_.find(&gp);
  if (it == routes_.end() || it->second.target != static_cast<unsigned>(port)) {
    SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": nb_transport_bw from target port " +
                               std::to_string(port) + " for a transaction not routed there")
                                  .c_str());
    return tlm::TLM_ACCEPTED;
  }
  if (phase == tlm::END_REQ) {
    end_req_peq_.notify(gp, tlm::END_REQ, delay);
  } else if (phase == tlm::BEGIN_RESP) {
    it->second.end_resp_owed = true;
    response_peq_.notify(gp, tlm::BEGIN_RESP, delay);
  } else {
    SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": unexpected phase on nb_transport_bw " +
                               "from target port " + std::to_string(port))
                                  .c_str());
  }
  return tlm::TLM_ACCEPTED;
}

void Interconnect::on_response(Payload& gp, const tlm::tlm_phase& phase) {
  on_target_end_req(gp, phase);  // BEGIN_RESP implies END_REQ
  const unsigned k = routes_.at(&gp).initiator;
  resp_queue_[k].push_back(&gp);
  send_response(k);
}

void Interconnect::send_response(unsigned k) {
  const sc_time now = sc_core::sc_time_stamp();
  while (resp_owner_[k] == nullptr && !resp_queue_[k].empty()) {
    if (resp_free_at_[k] > now) {
      response_retry_event_.notify(resp_free_at_[k] - now);
      return;
    }
    Payload& gp = *resp_queue_[k].front();
    resp_queue_[k].pop_front();
    resp_owner_[k] = &gp;  // before the call: the initiator may answer END_RESP inside it
    tlm::tlm_phase phase = tlm::BEGIN_RESP;
    sc_time delay = sc_core::SC_ZERO_TIME;
    const tlm::tlm_sync_enum status = in[static_cast<int>(k)]->nb_transport_bw(gp, phase, delay);
    if (status == tlm::TLM_ACCEPTED) continue;  // END_RESP follows on nb_transport_fw
    // TLM_COMPLETED, or TLM_UPDATED with END_RESP: the response ends at now + delay.
    resp_owner_[k] = nullptr;
    resp_free_at_[k] = now + delay;
    done_peq_.notify(gp, tlm::END_RESP, delay);
  }
}

void Interconnect::retry_responses() {
  for (unsigned k = 0; k < resp_queue_.size(); ++k) send_response(k);
}

void Interconnect::on_response_done(Payload& gp, const tlm::tlm_phase&) {
  const auto it = routes_.find(&gp);
  const Route r = it->second;
  routes_.erase(it);
  if (r.end_resp_owed) {
    tlm::tlm_phase phase = tlm::END_RESP;
    sc_time delay = sc_core::SC_ZERO_TIME;
    out[static_cast<int>(r.target)]->nb_transport_fw(gp, phase, delay);
  }
  gp.release();
  send_response(r.initiator);
}

void Interconnect::invalidate_direct_mem_ptr(int, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (unsigned k = 0; k < in.size(); ++k) {
    in[static_cast<int>(k)]->invalidate_direct_mem_ptr(start, end);
  }
}

}  // namespace sasim::mem
