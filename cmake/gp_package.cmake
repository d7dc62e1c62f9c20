# The public library and its installation (included from src/CMakeLists.txt once every
# internal archive is defined).
#
#   libguidingpainter.so.0  the engine's archives linked whole, only the public API
#                           exported (src/engine/exports.map); its own dependencies
#                           (the CUDA runtime, Boost.Context, libjpeg-turbo) are private
#   libguidingpainter.a     the same archives merged into one (users link its
#                           dependencies: the CMake package and `pkg-config --static` say which)
#   guidingpainter::guidingpainter (shared) and guidingpainter::guidingpainter_static in
#   the CMake package; guidingpainter.pc for pkg-config. The install tree is relocatable:
#   nothing in it names the prefix it was installed to.

set(gp_archives gp_engine gp_backend_sim gp_kernels_sim gpusim gp_plan gp_weights gp_image)
if(GP_HAVE_CUDA)
  list(APPEND gp_archives gp_backend_cuda gp_kernels_cuda)
endif()

# ---- shared ----
# SONAME libguidingpainter.so.<major> (.so.0 through 0.x, as the issue that asked for it
# says; the CMake package's SameMinorVersion is what keeps 0.2 users off a 0.3 build).
set(gp_soversion ${PROJECT_VERSION_MAJOR})
add_library(guidingpainter SHARED ${PROJECT_SOURCE_DIR}/src/engine/shared_library.cpp)
add_library(guidingpainter::guidingpainter ALIAS guidingpainter)
set(gp_exports ${PROJECT_SOURCE_DIR}/src/engine/exports.map)
target_link_options(guidingpainter PRIVATE
  "LINKER:--whole-archive" $<TARGET_FILE:gp_engine> $<TARGET_FILE:gp_image> "LINKER:--no-whole-archive"
  "LINKER:--version-script=${gp_exports}" "LINKER:--no-undefined")
target_link_libraries(guidingpainter PRIVATE gp_engine)
target_include_directories(guidingpainter INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(guidingpainter INTERFACE cxx_std_20)
set_target_properties(guidingpainter PROPERTIES
  VERSION ${PROJECT_VERSION} SOVERSION ${gp_soversion}
  LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
  LINK_DEPENDS ${gp_exports}
  LINKER_LANGUAGE CXX)

# ---- static: one archive from the internal ones (ar's MRI script) ----
set(gp_static ${PROJECT_BINARY_DIR}/lib/libguidingpainter.a)
set(gp_mri "create ${gp_static}\n")
foreach(a IN LISTS gp_archives)
  string(APPEND gp_mri "addlib $<TARGET_FILE:${a}>\n")
endforeach()
string(APPEND gp_mri "save\nend\n")
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/guidingpainter_static.mri CONTENT "${gp_mri}")
set(gp_archive_files)
foreach(a IN LISTS gp_archives)
  list(APPEND gp_archive_files $<TARGET_FILE:${a}>)
endforeach()
add_custom_command(
  OUTPUT ${gp_static}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/lib
  COMMAND ${CMAKE_COMMAND} -E rm -f ${gp_static}
  COMMAND sh -c "'${CMAKE_AR}' -M < '${PROJECT_BINARY_DIR}/guidingpainter_static.mri'"
  DEPENDS ${gp_archives} ${gp_archive_files}
  COMMENT "libguidingpainter.a from ${gp_archives}"
  VERBATIM)
add_custom_target(guidingpainter_static ALL DEPENDS ${gp_static})

# ---- install ----
set(gp_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/guidingpainter)
install(TARGETS guidingpainter EXPORT guidingpainter-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(FILES ${gp_static} DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES
  ${PROJECT_SOURCE_DIR}/include/guidingpainter/guidingpainter.h
  ${PROJECT_SOURCE_DIR}/include/guidingpainter/guidingpainter.hpp
  ${PROJECT_SOURCE_DIR}/include/guidingpainter/device.hpp
  ${PROJECT_SOURCE_DIR}/include/guidingpainter/error.hpp
  ${PROJECT_SOURCE_DIR}/include/guidingpainter/model_config.hpp
  ${PROJECT_SOURCE_DIR}/include/guidingpainter/precision.hpp
  ${PROJECT_BINARY_DIR}/include/guidingpainter/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/guidingpainter COMPONENT dev)
install(TARGETS guidingpainter_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/weights/${GP_MODEL_FILE} DESTINATION ${CMAKE_INSTALL_DATADIR}/guidingpainter
        COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/examples/samples/1F3E0-sketch.png ${PROJECT_SOURCE_DIR}/examples/samples/1F3E0-color.png
        DESTINATION ${CMAKE_INSTALL_DATADIR}/guidingpainter/samples COMPONENT runtime)

install(EXPORT guidingpainter-targets NAMESPACE guidingpainter:: DESTINATION ${gp_cmakedir} COMPONENT dev)
include(CMakePackageConfigHelpers)
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/guidingpainter-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
set(GP_STATIC_CUDA ${GP_HAVE_CUDA})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/guidingpainter-config.cmake.in
                              ${PROJECT_BINARY_DIR}/guidingpainter-config.cmake INSTALL_DESTINATION ${gp_cmakedir})
install(FILES ${PROJECT_BINARY_DIR}/guidingpainter-config.cmake ${PROJECT_BINARY_DIR}/guidingpainter-config-version.cmake
        DESTINATION ${gp_cmakedir} COMPONENT dev)

# pkg-config: prefix from the .pc file's own location (pcfiledir), so a moved tree works.
if(GP_HAVE_CUDA)
  set(GP_PC_CUDA_LIBS "-L${CUDAToolkit_LIBRARY_DIR} -lcudart_static")
endif()
file(RELATIVE_PATH GP_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${PROJECT_SOURCE_DIR}/cmake/guidingpainter.pc.in ${PROJECT_BINARY_DIR}/guidingpainter.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/guidingpainter.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
