// libsystemc's own main() refers to sc_main, so every executable that links
// SystemC must define it. sasim's executables have their own main() and drive
// SystemC explicitly; this definition only satisfies the linker.
#include <stdexcept>
#include <systemc>

int sc_main(int /*argc*/, char** /*argv*/) {
  throw std::logic_error("sasim executables do not enter through sc_main");
}
