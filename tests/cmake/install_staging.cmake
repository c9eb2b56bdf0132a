# cmake -DBUILD_DIR=<gan build tree> -DPREFIX=<dir> -P install_staging.cmake
# Installs only the `gan` component (headers + CMake package files), so it works on a build
# tree whose examples or benchmarks were never built.
foreach(var BUILD_DIR PREFIX)
  if(NOT ${var})
    message(FATAL_ERROR "install_staging.cmake: pass -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" --component gan
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${rc})")
endif()
file(GLOB_RECURSE config "${PREFIX}/*/ganConfig.cmake")
file(GLOB_RECURSE header "${PREFIX}/include/gan/core/tensor.hpp")
if(NOT config OR NOT header)
  message(FATAL_ERROR "install into ${PREFIX} has no ganConfig.cmake or gan/core/tensor.hpp")
endif()
message(STATUS "installed gan into ${PREFIX}: ${config}")
