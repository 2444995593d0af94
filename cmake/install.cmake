# `cmake --install`: headers, libraries, the weft CLI, and a CMake package (find_package(weft CONFIG))
# with targets weft::dsl, weft::codegen, weft::runtime, weft::comm (and weft::llvm where built), plus the
# functions of weftFunctions.cmake for user projects.
include(CMakePackageConfigHelpers)

set(weft_exported weft_signature weft_codegen weft_tma_desc weft_dsl weft_runtime weft_comm)
if(TARGET weft_cli_main)
  list(APPEND weft_exported weft_cli_main)
endif()
set(WEFT_PACKAGE_HAS_LLVM OFF)
if(TARGET weft_llvm)
  list(APPEND weft_exported weft_llvm)
  set(WEFT_PACKAGE_HAS_LLVM ON)  # the package then needs LLVM 19 where it is used (weftConfig.cmake)
endif()
foreach(t IN LISTS weft_exported)
  string(REPLACE "weft_" "" short ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${short})
  # A sanitizer build's libraries need the sanitizer runtimes wherever they are linked.
  if(WEFT_SANITIZE)
    target_link_options(${t} INTERFACE -fsanitize=address,undefined)
  endif()
endforeach()

install(TARGETS ${weft_exported} EXPORT weftTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET weft)
  install(TARGETS weft RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY codegen dsl runtime DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

set(weft_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/weft)
install(EXPORT weftTargets NAMESPACE weft:: DESTINATION ${weft_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/weftConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/weftConfig.cmake INSTALL_DESTINATION ${weft_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/weftConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/weftConfig.cmake ${PROJECT_BINARY_DIR}/weftConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/weftFunctions.cmake ${PROJECT_SOURCE_DIR}/cmake/weftEmbed.cmake
        DESTINATION ${weft_cmake_dir})
