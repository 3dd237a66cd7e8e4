// Registration of a module's TLM-2.0 callbacks on its sockets, by their
// standard names: a target registers nb_transport_fw, b_transport and
// transport_dbg; a pass-through hop (one target socket in, one initiator
// socket out) also get_direct_mem_ptr, and nb_transport_bw and
// invalidate_direct_mem_ptr on its initiator side. Works for the simple and
// the multi-passthrough sockets (whose callbacks take the port first). A
// module whose callbacks are private declares `friend struct mem::Callbacks;`.
#pragma once

namespace sasim::mem {

struct Callbacks {
  template <typename Socket, typename Module>
  static void target(Socket& socket, Module* m) {
    socket.register_nb_transport_fw(m, &Module::nb_transport_fw);
    socket.register_b_transport(m, &Module::b_transport);
    socket.register_transport_dbg(m, &Module::transport_dbg);
  }

  template <typename In, typename Out, typename Module>
  static void passthrough(In& in, Out& out, Module* m) {
    target(in, m);
    in.register_get_direct_mem_ptr(m, &Module::get_direct_mem_ptr);
    out.register_nb_transport_bw(m, &Module::nb_transport_bw);
    out.register_invalidate_direct_mem_ptr(m, &Module::invalidate_direct_mem_ptr);
  }
};

}  // namespace sasim::mem
