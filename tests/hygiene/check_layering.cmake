# cmake -DINCLUDE_DIR=<repo>/include -P check_layering.cmake
# The dependency rule of docs/design.md, checked on the include lines of every header:
#
#   core  <-  kernels  <-  autograd  <-  ops  <-  nn  <-  {losses, models}
#   core  <-  optim (sees only Var/Tensor)
#   core, kernels  <-  data  (data may read files through io/png, io/file)
#
# plus: gan headers are included as "gan/..." (never by relative path), only gan.hpp
# includes gan.hpp, and every header starts its code with #pragma once.
# A layer is the first directory under include/gan; top-level files (config.hpp,
# version.hpp) count as `config` and `version`, util/ and detail/ are helpers.

if(NOT INCLUDE_DIR)
  message(FATAL_ERROR "check_layering.cmake: pass -DINCLUDE_DIR=<repo>/include")
endif()

# ALLOWED_<layer>: the only gan layers its headers may include (its own always allowed).
# FORBIDDEN_<layer>: layers it must not include (for layers whose full set is still open).
set(base config version detail util)
set(ALLOWED_core    ${base})
set(ALLOWED_kernels ${base} core)
set(ALLOWED_data    ${base} core kernels io)  # kernels/resample (resize), io/png (decoding)
set(FORBIDDEN_autograd ops nn losses models optim data io)
set(FORBIDDEN_ops      nn losses models optim data io)
set(FORBIDDEN_nn       losses models optim data io)
set(FORBIDDEN_optim    nn ops losses models data io)
set(FORBIDDEN_losses   models optim data io)
set(FORBIDDEN_config   core kernels autograd ops nn losses models optim data io util)
set(FORBIDDEN_version  ${FORBIDDEN_config} config)

file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/gan/*.hpp")
list(SORT headers)
set(errors "")
set(checked 0)
foreach(header IN LISTS headers)
  math(EXPR checked "${checked} + 1")
  string(REGEX REPLACE "^gan/([^/]+)(/.*)?$" "\\1" layer "${header}")
  string(REGEX REPLACE "\\.hpp$" "" layer "${layer}")
  get_filename_component(header_dir "${INCLUDE_DIR}/${header}" DIRECTORY)
  file(STRINGS "${INCLUDE_DIR}/${header}" lines REGEX "^[ \t]*#[ \t]*(include|pragma)")

  list(FIND lines "#pragma once" has_once)
  if(has_once EQUAL -1)
    string(APPEND errors "  ${header}: no `#pragma once`\n")
  endif()

  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      continue()
    endif()
    set(target "${CMAKE_MATCH_1}")
    if(NOT target MATCHES "^gan/")
      # A quoted include that resolves next to the header is a relative gan include.
      if(line MATCHES "\"" AND EXISTS "${header_dir}/${target}")
        string(APPEND errors "  ${header}: `${line}` - include gan headers as \"gan/...\"\n")
      endif()
      continue()
    endif()
    if(target STREQUAL "gan/gan.hpp" AND NOT header STREQUAL "gan/gan.hpp")
      string(APPEND errors "  ${header}: includes the umbrella header gan/gan.hpp\n")
      continue()
    endif()
    string(REGEX REPLACE "^gan/([^/]+)(/.*)?$" "\\1" dep "${target}")
    string(REGEX REPLACE "\\.hpp$" "" dep "${dep}")
    if(dep STREQUAL layer OR header STREQUAL "gan/gan.hpp")
      continue()
    endif()
    set(bad FALSE)
    if(DEFINED ALLOWED_${layer})
      list(FIND ALLOWED_${layer} "${dep}" at)
      if(at EQUAL -1)
        set(bad TRUE)
      endif()
    elseif(DEFINED FORBIDDEN_${layer})
      list(FIND FORBIDDEN_${layer} "${dep}" at)
      if(NOT at EQUAL -1)
        set(bad TRUE)
      endif()
    endif()
    if(bad)
      string(APPEND errors "  ${header}: includes ${target} - `${layer}` must not depend on `${dep}`\n")
    endif()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "no headers found under ${INCLUDE_DIR}/gan")
endif()
if(errors)
  message(FATAL_ERROR "dependency rule (docs/design.md) broken:\n${errors}")
endif()
message(STATUS "layering: ${checked} headers follow the dependency rule")
