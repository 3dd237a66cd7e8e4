# Generates the ISA tables for the RTL (SystemVerilog package) and the firmware
# (C++ header) from firmware/isa/isa.json, the single definition of the ISA.
# Runs at configure time: Verilator needs the package when CMake configures the
# verilated libraries. Fields are validated here (inside the word, no overlap,
# enum values fit), so a broken definition stops the configure step.

function(_isa_camel name out)
  string(REPLACE "_" ";" parts "${name}")
  set(result "")
  foreach(p IN LISTS parts)
    string(SUBSTRING "${p}" 0 1 first)
    string(SUBSTRING "${p}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    string(APPEND result "${first}${rest}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

function(sasim_generate_isa json_file out_sv out_hpp out_md)
  file(READ "${json_file}" isa)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${json_file}")
  string(JSON width GET "${isa}" width)

  # --- opcodes -------------------------------------------------------------
  string(JSON n_op LENGTH "${isa}" opcodes)
  math(EXPR last_op "${n_op} - 1")
  set(sv_ops "")
  set(cpp_ops "")
  set(cpp_op_names "")
  foreach(i RANGE ${last_op})
    string(JSON name MEMBER "${isa}" opcodes ${i})
    string(JSON value GET "${isa}" opcodes ${name})
    string(TOLOWER "${name}" lname)
    _isa_camel("${lname}" cname)
    list(APPEND sv_ops "    OP_${name} = 4'd${value}")
    string(APPEND cpp_ops "  k${cname} = ${value},\n")
    string(APPEND cpp_op_names "    case Opcode::k${cname}: return \"${name}\";\n")
    string(APPEND md_ops "| ${name} | ${value} |\n")
  endforeach()
  list(JOIN sv_ops ",\n" sv_ops)

  # --- enums ----------------------------------------------------------------
  set(sv_enums "")
  set(cpp_enums "")
  string(JSON n_enum LENGTH "${isa}" enums)
  math(EXPR last_enum "${n_enum} - 1")
  foreach(i RANGE ${last_enum})
    string(JSON ename MEMBER "${isa}" enums ${i})
    string(JSON n_val LENGTH "${isa}" enums ${ename})
    math(EXPR last_val "${n_val} - 1")
    set(max 0)
    set(sv_vals "")
    set(cpp_vals "")
    string(TOUPPER "${ename}" uename)
    foreach(j RANGE ${last_val})
      string(JSON vname MEMBER "${isa}" enums ${ename} ${j})
      string(JSON v GET "${isa}" enums ${ename} ${vname})
      if(v GREATER max)
        set(max ${v})
      endif()
      string(TOLOWER "${vname}" lv)
      _isa_camel("${lv}" cv)
      list(APPEND sv_vals "${uename}_${vname} = ${v}")
      string(APPEND cpp_vals "  k${cv} = ${v},\n")
    endforeach()
    set(ENUM_MAX_${ename} ${max})
    set(ENUM_SV_${ename} "${sv_vals}")
    _isa_camel("${ename}" cename)
    string(APPEND cpp_enums "enum class ${cename} : std::uint8_t {\n${cpp_vals}};\n\n")
    list(APPEND enum_names ${ename})
  endforeach()

  # --- fields ---------------------------------------------------------------
  string(JSON n_common LENGTH "${isa}" common)
  math(EXPR last_common "${n_common} - 1")
  string(JSON n_fmt LENGTH "${isa}" formats)
  math(EXPR last_fmt "${n_fmt} - 1")
  set(sv_structs "")
  set(cpp_fields "")
  set(enum_width_done "")
  foreach(f RANGE ${last_fmt})
    string(JSON fmt MEMBER "${isa}" formats ${f})
    string(TOLOWER "${fmt}" lfmt)
    # Collect (lsb, width, name, enum) of the common and the format fields.
    set(entries "")
    set(used "")
    foreach(src IN ITEMS common format)
      if(src STREQUAL "common")
        set(path common)
        set(count ${n_common})
      else()
        set(path formats ${fmt})
        string(JSON count LENGTH "${isa}" formats ${fmt})
      endif()
      if(count EQUAL 0)
        continue()
      endif()
      math(EXPR last "${count} - 1")
      foreach(k RANGE ${last})
        string(JSON fname GET "${isa}" ${path} ${k} name)
        string(JSON lsb GET "${isa}" ${path} ${k} lsb)
        string(JSON w GET "${isa}" ${path} ${k} width)
        string(JSON en ERROR_VARIABLE no_enum GET "${isa}" ${path} ${k} enum)
        if(no_enum)
          set(en "")
        endif()
        math(EXPR msb "${lsb} + ${w} - 1")
        if(w LESS 1 OR msb GREATER_EQUAL width)
          message(FATAL_ERROR "${json_file}: ${fmt}.${fname}: bits ${lsb}..${msb} outside the ${width}-bit word")
        endif()
        foreach(b RANGE ${lsb} ${msb})
          if(b IN_LIST used)
            message(FATAL_ERROR "${json_file}: ${fmt}.${fname}: bit ${b} overlaps another field")
          endif()
          list(APPEND used ${b})
        endforeach()
        if(NOT en STREQUAL "")
          math(EXPR cap "1 << ${w}")
          if(NOT ENUM_MAX_${en} LESS cap)
            message(FATAL_ERROR "${json_file}: ${fmt}.${fname}: enum ${en} does not fit ${w} bits")
          endif()
          if(DEFINED ENUM_W_${en} AND NOT ENUM_W_${en} EQUAL w)
            message(FATAL_ERROR "${json_file}: ${fmt}.${fname}: enum ${en} used with two widths")
          endif()
          set(ENUM_W_${en} ${w})
        endif()
        # Sort key: zero-padded lsb.
        string(LENGTH "${lsb}" ll)
        set(key "${lsb}")
        while(ll LESS 4)
          set(key "0${key}")
          math(EXPR ll "${ll} + 1")
        endwhile()
        list(APPEND entries "${key}|${lsb}|${w}|${fname}|${en}")
        if(src STREQUAL "format")
          string(JSON fdoc ERROR_VARIABLE no_doc GET "${isa}" ${path} ${k} doc)
          if(no_doc)
            set(fdoc "")
          endif()
          set(enum_col "")
          if(NOT en STREQUAL "")
            set(enum_col "`${en}`")
          endif()
          string(APPEND md_rows "| `${fname}` | ${msb}:${lsb} | ${w} | ${enum_col} | ${fdoc} |\n")
        endif()
        if(src STREQUAL "format")
          _isa_camel("${fname}" cf)
          string(APPEND cpp_fields "  inline constexpr Field k${cf}{\"${lfmt}.${fname}\", ${lsb}, ${w}};\n")
        endif()
      endforeach()
    endforeach()
    list(SORT entries)
    list(REVERSE entries)
    # Packed struct, MSB first, reserved gaps named rsvd<lsb>.
    set(members "")
    set(next_msb ${width})
    math(EXPR next_msb "${width} - 1")
    foreach(e IN LISTS entries)
      string(REPLACE "|" ";" e "${e}")
      list(GET e 1 lsb)
      list(GET e 2 w)
      list(GET e 3 fname)
      list(LENGTH e elen)
      set(en "")
      if(elen GREATER 4)
        list(GET e 4 en)
      endif()
      math(EXPR msb "${lsb} + ${w} - 1")
      if(next_msb GREATER msb)
        math(EXPR gap_lsb "${msb} + 1")
        math(EXPR gap_w "${next_msb} - ${msb}")
        string(APPEND members "    logic [${gap_w}-1:0] rsvd${gap_lsb};\n")
      endif()
      if(fname STREQUAL "opcode")
        string(APPEND members "    opcode_e opcode;\n")
      elseif(NOT en STREQUAL "")
        string(APPEND members "    isa_${en}_e ${fname};\n")
      elseif(w EQUAL 1)
        string(APPEND members "    logic ${fname};\n")
      else()
        string(APPEND members "    logic [${w}-1:0] ${fname};\n")
      endif()
      math(EXPR next_msb "${lsb} - 1")
    endforeach()
    string(APPEND sv_structs "  typedef struct packed {\n${members}  } ${lfmt}_insn_t;\n\n")
    if(NOT cpp_fields STREQUAL "")
      set(cpp_ns_${lfmt} "${cpp_fields}")
    endif()
    string(APPEND cpp_all_fields "namespace ${lfmt} {\n${cpp_fields}}  // namespace ${lfmt}\n\n")
    string(JSON opv GET "${isa}" opcodes ${fmt})
    if(md_rows STREQUAL "")
      set(md_rows "| (common fields only) | | | | |\n")
    endif()
    string(APPEND md_formats "### ${fmt} (opcode ${opv})\n\n| field | bits | width | enum | meaning |\n|---|---|---|---|---|\n${md_rows}\n")
    set(md_rows "")
    set(cpp_fields "")
  endforeach()

  # Enum typedefs need their widths (from the fields using them).
  set(sv_enum_defs "")
  foreach(en IN LISTS enum_names)
    if(NOT DEFINED ENUM_W_${en})
      message(FATAL_ERROR "${json_file}: enum ${en} is not used by any field")
    endif()
    list(JOIN ENUM_SV_${en} ",\n    " vals)
    string(REPLACE "," "" valnames "${ENUM_SV_${en}}")
    set(members_in "")
    foreach(v IN LISTS ENUM_SV_${en})
      string(REGEX REPLACE " = .*" "" vn "${v}")
      list(APPEND members_in "${vn}")
    endforeach()
    list(JOIN members_in ", " members_in)
    string(APPEND sv_enum_defs "  typedef enum logic [${ENUM_W_${en}}-1:0] {\n    ${vals}\n  } isa_${en}_e;\n\n"
      "  // The field holds one of the values above.\n"
      "  function automatic logic isa_${en}_valid(logic [${ENUM_W_${en}}-1:0] v);\n"
      "    return v inside {${members_in}};\n"
      "  endfunction\n\n")
  endforeach()

  set(common_cpp "")
  foreach(k RANGE ${last_common})
    string(JSON fname GET "${isa}" common ${k} name)
    string(JSON lsb GET "${isa}" common ${k} lsb)
    string(JSON w GET "${isa}" common ${k} width)
    _isa_camel("${fname}" cf)
    string(APPEND common_cpp "  inline constexpr Field k${cf}{\"${fname}\", ${lsb}, ${w}};\n")
  endforeach()

  set(md_common "| field | bits | width | meaning |\n|---|---|---|---|\n")
  foreach(k RANGE ${last_common})
    string(JSON fname GET "${isa}" common ${k} name)
    string(JSON lsb GET "${isa}" common ${k} lsb)
    string(JSON w GET "${isa}" common ${k} width)
    string(JSON fdoc GET "${isa}" common ${k} doc)
    math(EXPR msb "${lsb} + ${w} - 1")
    string(APPEND md_common "| `${fname}` | ${msb}:${lsb} | ${w} | ${fdoc} |\n")
  endforeach()
  set(md_enums "")
  foreach(en IN LISTS enum_names)
    string(JSON n_val LENGTH "${isa}" enums ${en})
    math(EXPR last_val "${n_val} - 1")
    set(vals "")
    foreach(j RANGE ${last_val})
      string(JSON vname MEMBER "${isa}" enums ${en} ${j})
      string(JSON v GET "${isa}" enums ${en} ${vname})
      list(APPEND vals "${vname} = ${v}")
    endforeach()
    list(JOIN vals ", " vals)
    string(APPEND md_enums "- `${en}`: ${vals}\n")
  endforeach()
  string(JSON isa_doc GET "${isa}" doc)
  file(WRITE "${out_md}.tmp"
"<!-- Generated from firmware/isa/isa.json by cmake/isa_gen.cmake: do not edit.
     After changing isa.json: cp build/generated/isa.md docs/isa.md -->
# sasim ISA

${isa_doc}

Every instruction is ${width} bits. Semantics and hazards: [device.md](device.md).

## Opcodes

| opcode | value |
|---|---|
${md_ops}
## Common fields

${md_common}
## Enumerations

${md_enums}
## Formats

${md_formats}")
  file(COPY_FILE "${out_md}.tmp" "${out_md}" ONLY_IF_DIFFERENT)

  file(WRITE "${out_sv}.tmp"
"// Generated from firmware/isa/isa.json by cmake/isa_gen.cmake: do not edit.
package sa_isa_pkg;

  localparam int unsigned INSN_W = ${width};

  typedef enum logic [3:0] {
${sv_ops}
  } opcode_e;

${sv_enum_defs}${sv_structs}endpackage
")
  file(WRITE "${out_hpp}.tmp"
"// Generated from firmware/isa/isa.json by cmake/isa_gen.cmake: do not edit.
#pragma once

#include <cstdint>
#include <string_view>

#include \"sasim/isa/field.hpp\"

namespace sasim::isa {

inline constexpr unsigned kInsnBits = ${width};

enum class Opcode : std::uint8_t {
${cpp_ops}};

inline constexpr std::string_view to_string(Opcode op) {
  switch (op) {
${cpp_op_names}  }
  return \"?\";
}

${cpp_enums}namespace common {
${common_cpp}}  // namespace common

${cpp_all_fields}}  // namespace sasim::isa
")
  # Only touch the outputs when they change (no needless rebuilds).
  file(COPY_FILE "${out_sv}.tmp" "${out_sv}" ONLY_IF_DIFFERENT)
  file(COPY_FILE "${out_hpp}.tmp" "${out_hpp}" ONLY_IF_DIFFERENT)
endfunction()
