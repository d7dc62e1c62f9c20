# Helpers that build one set of .cu sources for both targets.
#
# For the simulator, each .cu is rewritten by scripts/sim_rewrite.py (the pass
# scripts/simcc runs: inline PTX to gpusim::ptx calls, <<<>>> launches, foreign extern
# __shared__ arrays) into a generated .cpp, with copies of the project headers it
# includes, and compiled by the C++ compiler with gpusim/runtime.h force-included.
# `#line` directives keep compiler errors and the simulator's messages on the original
# files and lines; a depfile re-runs the rewrite when the source or a header changes.
find_program(GP_REWRITE_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
set(GP_SIM_REWRITE ${CMAKE_CURRENT_LIST_DIR}/../scripts/sim_rewrite.py)

# gp_sim_sources(OUT_VAR file.cu ...): rewritten .cpp files for the simulator build.
function(gp_sim_sources out_var)
  set(outputs)
  foreach(src IN LISTS ARGN)
    get_filename_component(abs "${src}" ABSOLUTE)
    file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${abs}")
    string(REGEX REPLACE "[/.]" "_" flat "${rel}")
    set(out "${CMAKE_CURRENT_BINARY_DIR}/sim/${flat}.cpp")
    add_custom_command(
      OUTPUT "${out}"
      COMMAND ${GP_REWRITE_PYTHON} ${GP_SIM_REWRITE} --source "${abs}" --out "${out}"
              --depfile "${out}.d" --root "${PROJECT_SOURCE_DIR}"
      DEPENDS "${abs}" ${GP_SIM_REWRITE}
      DEPFILE "${out}.d"
      COMMENT "gpusim rewrite of ${rel}"
      VERBATIM)
    list(APPEND outputs "${out}")
  endforeach()
  set(${out_var} ${outputs} PARENT_SCOPE)
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
