# CMake functions for projects that write kernels with weft (installed with the package).
#
#   weft_add_kernels(<target> SOURCES <kernel sources...>)
#       Builds the kernel sources (each registers kernels with WEFT_KERNEL) into an OBJECT library
#       <target>, and a project-local CLI <target>_weft (the weft CLI with exactly these kernels).
#
#   weft_emit_ptx(<target> KERNEL_TARGET <kernels target> KERNELS <names...> ARCHS <sm_...>
#                 [PARAMS <name=value>...] [EMBED <header.h>] [DEBUG_WAITS])
#       Emits <name>.<arch>.ptx at build time into ${CMAKE_CURRENT_BINARY_DIR}/<target>/, again
#       whenever the kernel sources change. A DSL error fails this build step with the diagnostics
#       (file:line: error: ...). <target> is an INTERFACE library: link it to get the files built
#       and, with EMBED, the generated header on the include path (the PTX as string constants, so
#       the program needs no files at run time).

set(_weft_functions_dir "${CMAKE_CURRENT_LIST_DIR}")

function(weft_add_kernels target)
  cmake_parse_arguments(W "" "" "SOURCES" ${ARGN})
  if(NOT W_SOURCES)
    message(FATAL_ERROR "weft_add_kernels(${target}): give the kernel sources with SOURCES")
  endif()
  add_library(${target} OBJECT ${W_SOURCES})
  target_link_libraries(${target} PUBLIC weft::dsl)
  target_compile_features(${target} PUBLIC cxx_std_20)
  add_executable(${target}_weft $<TARGET_OBJECTS:${target}>)
  target_link_libraries(${target}_weft PRIVATE weft::cli_main weft::dsl)
endfunction()

function(weft_emit_ptx target)
  cmake_parse_arguments(W "DEBUG_WAITS" "KERNEL_TARGET;EMBED" "KERNELS;ARCHS;PARAMS" ${ARGN})
  if(NOT W_KERNEL_TARGET OR NOT TARGET ${W_KERNEL_TARGET}_weft)
    message(FATAL_ERROR "weft_emit_ptx(${target}): KERNEL_TARGET must name a weft_add_kernels target")
  endif()
  if(NOT W_KERNELS OR NOT W_ARCHS)
    message(FATAL_ERROR "weft_emit_ptx(${target}): give KERNELS and ARCHS")
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target})
  set(outputs "")
  foreach(k IN LISTS W_KERNELS)
    foreach(a IN LISTS W_ARCHS)
      list(APPEND outputs ${dir}/${k}.${a}.ptx)
    endforeach()
  endforeach()
  list(JOIN W_ARCHS "," archs)
  set(params "")
  foreach(p IN LISTS W_PARAMS)
    list(APPEND params --param ${p})
  endforeach()
  set(extra "")
  if(W_DEBUG_WAITS)
    set(extra --debug-waits)
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND $<TARGET_FILE:${W_KERNEL_TARGET}_weft> emit ${W_KERNELS} --arch ${archs} -o ${dir} ${params} ${extra}
    DEPENDS ${W_KERNEL_TARGET}_weft
    COMMENT "weft: emitting ${W_KERNELS} for ${archs}"
    VERBATIM)
  set(all ${outputs})
  if(W_EMBED)
    add_custom_command(
      OUTPUT ${dir}/${W_EMBED}
      COMMAND ${CMAKE_COMMAND} -DOUT=${dir}/${W_EMBED} "-DINPUTS=${outputs}" -P ${_weft_functions_dir}/weftEmbed.cmake
      DEPENDS ${outputs} ${_weft_functions_dir}/weftEmbed.cmake
      COMMENT "weft: embedding PTX into ${W_EMBED}"
      VERBATIM)
    list(APPEND all ${dir}/${W_EMBED})
  endif()
  add_custom_target(${target}_files DEPENDS ${all})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_files)
  target_include_directories(${target} INTERFACE ${dir})
endfunction()
