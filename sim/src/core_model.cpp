#include "sasim/sim/core_model.hpp"

namespace sasim::sim {

std::string to_string(const CoreShape& s) {
  return std::string(model::to_string(s.datapath)) + " " + std::to_string(s.rows) + "x" +
         std::to_string(s.cols) + ", spad " + std::to_string(s.spad_rows) + " rows, acc " +
         std::to_string(s.acc_rows) + " rows, " + std::to_string(s.bus_bytes) + "-byte bus";
}

std::string_view describe(CoreError e) {
  switch (e) {
    case CoreError::kNone:
      return "no error";
    case CoreError::kIllegal:
      return "illegal instruction (opcode or enumerated field not in the ISA)";
    case CoreError::kRange:
      return "operand out of range (count of 0, SRAM rows beyond the memory, row wider than the "
             "SRAM)";
    case CoreError::kAlign:
      return "DRAM address or stride not a multiple of the element size";
    case CoreError::kNoFinish:
      return "the program ended without FINISH";
    case CoreError::kReuse:
      return "GEMM reuse with no stationary operand loaded";
    case CoreError::kBusRead:
      return "error response on a bus read";
    case CoreError::kBusWrite:
      return "error response on a bus write";
  }
  return "unknown error code";
}

}  // namespace sasim::sim
