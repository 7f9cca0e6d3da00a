# cmake/install.cmake — what `cmake --install` puts where (included by the top
# CMakeLists.txt).  Everything installed is relocatable: the package config and
# the pkg-config file find their prefix from their own location, so
# `cmake --install build --prefix /any/where` works without reconfiguring.
#
#   lib/libdasf-profiler.so*, lib/libdasf-profiler.a
#   include/dasf/profiler.h                        the public C header
#   include/dasf/profiler.hpp                      its C++ layer (header-only)
#   include/dasf/dasf.f90                          the Fortran module, as source
#                                                  (a .mod is compiler-specific)
#   lib/cmake/dasf-profiler/                       find_package(dasf-profiler):
#       dasf-profilerConfig.cmake, ...ConfigVersion.cmake, ...Targets*.cmake
#       → dasf::profiler (shared), dasf::profiler_static
#   lib/pkgconfig/dasf-profiler.pc                 pkg-config [--static] dasf-profiler
#   bin/dasf-trace                                 (tools/CMakeLists.txt)
include(CMakePackageConfigHelpers)

set(DASF_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/dasf-profiler
    CACHE STRING "Where the CMake package config is installed (relative to the prefix)")

set_target_properties(dasf_profiler PROPERTIES EXPORT_NAME profiler)
set_target_properties(dasf_profiler_static PROPERTIES EXPORT_NAME profiler_static)

install(TARGETS dasf_profiler dasf_profiler_static
        EXPORT dasf-profilerTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/dasf/profiler.h
              ${PROJECT_SOURCE_DIR}/include/dasf/profiler.hpp
              ${PROJECT_SOURCE_DIR}/fortran/dasf.f90
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dasf)

install(EXPORT dasf-profilerTargets
        NAMESPACE dasf::
        FILE dasf-profilerTargets.cmake
        DESTINATION ${DASF_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/dasf-profilerConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dasf-profilerConfig.cmake
  INSTALL_DESTINATION ${DASF_INSTALL_CMAKEDIR})
# 0.x: minor versions may break the API, so only the same minor is compatible.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/dasf-profilerConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dasf-profilerConfig.cmake
              ${PROJECT_BINARY_DIR}/dasf-profilerConfigVersion.cmake
        DESTINATION ${DASF_INSTALL_CMAKEDIR})

# pkg-config: prefix relative to the .pc file's own directory (${pcfiledir}).
set(DASF_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${DASF_PC_DIR}")
  set(DASF_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH DASF_PC_UP "/prefix/${DASF_PC_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" DASF_PC_UP "${DASF_PC_UP}")
  set(DASF_PC_PREFIX "\${pcfiledir}/${DASF_PC_UP}")
endif()
foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(DASF_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(DASF_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/dasf-profiler.pc.in
               ${PROJECT_BINARY_DIR}/dasf-profiler.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/dasf-profiler.pc DESTINATION ${DASF_PC_DIR})

# The CLI (bin/dasf-trace) is installed by tools/CMakeLists.txt, next to its target.

# tests/test_install.c gets this build's compilers and flags from tests/CMakeLists.txt.
