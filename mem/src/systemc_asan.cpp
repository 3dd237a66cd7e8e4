// AddressSanitizer builds only (SASIM_SANITIZE with `address`, see mem/CMakeLists.txt): corrects
// the stack-switch annotations of Debian's SystemC 2.3.4, whose QuickThreads coroutines tell ASan
// about two of their switches wrongly:
//  - a switch to the main coroutine (the simulation kernel, on the thread's own stack) announces
//    the stack (nullptr, 0), since SystemC does not know the main stack's bounds;
//  - a terminating SC_THREAD's last switch (sc_cor_pkg_qt::abort) is not announced at all.
// Either leaves ASan with stack bounds that do not contain the stack pointer: it then ignores the
// unpoisoning an exception's unwinding asks for ("ASan is ignoring requested
// __asan_handle_no_return") and reports stale redzones of unwound frames as stack-buffer-overflow
// or stack-use-after-scope (seen in every test whose simulation throws; a ten-line SystemC
// program that throws after sc_start() shows it too). Both fixes use symbol interposition: this
// executable's definitions come before libsystemc's and libasan's in the dynamic linker's search.
#if defined(__SANITIZE_ADDRESS__)

#include <dlfcn.h>
#include <pthread.h>
#include <sysc/kernel/sc_cor.h>

#include <cstddef>
#include <utility>

// libsystemc calls this (a weak reference) before each annotated switch; the real one is
// libasan's, found after this executable with RTLD_NEXT.
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack, const void* bottom,
                                               std::size_t size) {
  using Fn = void (*)(void**, const void*, std::size_t);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "__sanitizer_start_switch_fiber"));
  if (bottom == nullptr && size == 0) {  // to the main coroutine: the thread's own stack
    // Asked once (pthread_getattr_np reads /proc/self/maps for the main thread); SystemC runs on
    // one thread.
    static const std::pair<void*, std::size_t> main_stack = [] {
      pthread_attr_t attr;
      void* addr = nullptr;
      std::size_t bytes = 0;
      if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &bytes);
        pthread_attr_destroy(&attr);
      }
      return std::pair{addr, bytes};
    }();
    bottom = main_stack.first;
    size = main_stack.second;
  }
  if (real != nullptr) real(fake_stack, bottom, size);
}

// sc_core::sc_cor_pkg_qt::abort(sc_cor*), reached through the package's vtable (a symbol
// relocation, so this definition replaces libsystemc's): switches like yield(), which announces
// the switch; the terminated coroutine's saved stack pointer is never used again.
void sasim_abort_as_yield(sc_core::sc_cor_pkg* self, sc_core::sc_cor* next) __asm__(
    "_ZN7sc_core13sc_cor_pkg_qt5abortEPNS_6sc_corE");
void sasim_abort_as_yield(sc_core::sc_cor_pkg* self, sc_core::sc_cor* next) { self->yield(next); }

#endif
