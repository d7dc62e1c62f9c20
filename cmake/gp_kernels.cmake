# Helpers that build one set of .cu sources for both targets.
#
# For the simulator, each .cu gets a generated wrapper .cpp that includes it, compiled
# by the C++ compiler with gpusim/runtime.h force-included: source properties are per
# directory, so the same .cu cannot be CUDA for one target and C++ for another.

# gp_sim_sources(OUT_VAR file.cu ...): wrapper .cpp files for the simulator build.
function(gp_sim_sources out_var)
  set(wrappers)
  foreach(src IN LISTS ARGN)
    get_filename_component(abs "${src}" ABSOLUTE)
    file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${abs}")
    string(REGEX REPLACE "[/.]" "_" flat "${rel}")
    set(wrapper "${CMAKE_CURRENT_BINARY_DIR}/sim/${flat}.cpp")
    file(GENERATE OUTPUT "${wrapper}" CONTENT "// generated: ${rel} compiled for the gpusim simulator\n#include \"${abs}\"\n")
    list(APPEND wrappers "${wrapper}")
  endforeach()
  set(${out_var} ${wrappers} PARENT_SCOPE)
endfunction()

# gp_use_simulator(target): compile the target's sources as simulator code.
function(gp_use_simulator target)
  target_link_libraries(${target} PUBLIC gpusim)
  target_compile_options(${target} PRIVATE -include gpusim/runtime.h)
  target_compile_definitions(${target} PRIVATE GP_KERNEL_NS=gp_sim)
endfunction()

# gp_use_cuda(target): nvcc flags shared by every GPU target.
function(gp_use_cuda target)
  set_target_properties(${target} PROPERTIES CUDA_ARCHITECTURES "${GP_CUDA_ARCHITECTURES}")
  target_compile_definitions(${target} PRIVATE GP_KERNEL_NS=gp_cuda)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>)
  if(GP_PTXAS_VERBOSE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-v>)
  endif()
  target_link_libraries(${target} PUBLIC CUDA::cudart_static)
endfunction()
