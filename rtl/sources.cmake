# What every verilated sasim model is made of: the sources of the array and of
# the core, the Verilator flags and the datapath encoding. Included by
# rtl/CMakeLists.txt (the variants built into sasim_rtl) and by
# cosim/plugin/CMakeLists.txt (the variants built on demand into the variant
# cache), so that both verilate the same RTL the same way. Needs
# SASIM_GENERATED_DIR (the generated ISA package).

set(SASIM_RTL_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SASIM_ISA_PKG ${SASIM_GENERATED_DIR}/rtl/sa_isa_pkg.sv)
set(SASIM_ARRAY_SOURCES
  ${SASIM_RTL_DIR}/sa_pkg.sv
  ${SASIM_RTL_DIR}/sa_arith_pkg.sv
  ${SASIM_RTL_DIR}/sa_pe_array.sv
  ${SASIM_RTL_DIR}/sa_array.sv
)
set(SASIM_CORE_SOURCES
  ${SASIM_RTL_DIR}/sa_pkg.sv
  ${SASIM_RTL_DIR}/sa_arith_pkg.sv
  ${SASIM_ISA_PKG}
  ${SASIM_RTL_DIR}/sa_fifo.sv
  ${SASIM_RTL_DIR}/sa_pe_array.sv
  ${SASIM_RTL_DIR}/sa_array.sv
  ${SASIM_RTL_DIR}/sa_vpu.sv
  ${SASIM_RTL_DIR}/sa_decode.sv
  ${SASIM_RTL_DIR}/sa_check.sv
  ${SASIM_RTL_DIR}/sa_token.sv
  ${SASIM_RTL_DIR}/sa_perf.sv
  ${SASIM_RTL_DIR}/sa_hs_chk.sv
  ${SASIM_RTL_DIR}/sa_mpram.sv
  ${SASIM_RTL_DIR}/sa_accum.sv
  ${SASIM_RTL_DIR}/sa_fetch.sv
  ${SASIM_RTL_DIR}/sa_dma_rd.sv
  ${SASIM_RTL_DIR}/sa_dma_wr.sv
  ${SASIM_RTL_DIR}/sa_exec.sv
  ${SASIM_RTL_DIR}/sa_core.sv
)
# Flags shared by every verilated model: X values randomised so that tests can
# check results do not depend on initial state; SVA assertions compiled in.
# The PE loop of sa_pe_array is unrolled completely for arrays up to 32 x 32
# (constant indices everywhere: about 2x faster for int8 arrays).
# --comp-limit-members: the model's variables in one C++ struct, not in
# groups of 64. A group boundary that falls inside the PE grid's arrays pads
# it by 4 bytes, after which a PE's store and the next PE's load of another
# array meet at the same address modulo 4 KiB; the resulting false
# store-to-load dependences made the bf16 core 1.5x slower for an unrelated
# change elsewhere in the RTL (docs/performance.md, 2026-12-06).
set(SASIM_VERILATOR_FLAGS
  -O3 --x-assign unique --x-initial unique --assert
  --unroll-count 1024 --unroll-stmts 1000000 --comp-limit-members 100000
  ${SASIM_RTL_DIR}/sa_lint.vlt
)

# The RTL encoding of a datapath name (int8 0, bf16 1).
function(sasim_dp_value datapath out)
  if(datapath STREQUAL "int8")
    set(${out} 0 PARENT_SCOPE)
  else()
    set(${out} 1 PARENT_SCOPE)
  endif()
endfunction()

# One verilated variant of `top` (sa_array or sa_core) into `target`, with FST
# tracing; ARGN: further Verilator arguments (the -G parameters).
function(sasim_verilate_into target prefix top)
  set(sources ${SASIM_ARRAY_SOURCES})
  if(top STREQUAL "sa_core")
    set(sources ${SASIM_CORE_SOURCES})
  endif()
  verilate(${target}
    PREFIX ${prefix}
    TOP_MODULE ${top}
    TRACE_FST
    OPT_FAST -O2
    SOURCES ${sources}
    VERILATOR_ARGS ${SASIM_VERILATOR_FLAGS} ${ARGN}
  )
endfunction()

# The -G parameters of an array and of a core variant.
function(sasim_array_params out dp_val rows cols)
  set(${out} -GRows=${rows} -GCols=${cols} -GDatapath=${dp_val} PARENT_SCOPE)
endfunction()
function(sasim_core_params out dp_val rows cols spad acc bus)
  set(${out} -GRows=${rows} -GCols=${cols} -GDatapath=${dp_val} -GSpadRows=${spad}
      -GAccRows=${acc} -GBusBytes=${bus} PARENT_SCOPE)
endfunction()
