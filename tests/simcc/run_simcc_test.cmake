# Compiles one foreign CUDA file with scripts/simcc and runs it, at test time.
#   -DSIMCC=scripts/simcc -DSRC=a.cu@@b.cu -DBIN=out -DLIB=libgpusim.a -DFLAGS=extra@@flags
#   -DEXPECT=run_ok|run_fail|compile_fail   -DREGEX=re1@@re2...
# Every regex must match the output (stdout and stderr) of the step that is expected
# to end the test: the run, or the compilation for compile_fail.
set(ENV{SIMCC_LIB} "${LIB}")
set(ENV{SIMCC_VERBOSE} 1)
set(ENV{LC_ALL} C)  # ASCII quotes in compiler messages
string(REPLACE "@@" ";" sources "${SRC}")
string(REPLACE "@@" ";" flags "${FLAGS}")
string(REPLACE "@@" ";" regexes "${REGEX}")
file(REMOVE "${BIN}")
execute_process(COMMAND "${SIMCC}" ${sources} -o "${BIN}" ${flags}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(EXPECT STREQUAL "compile_fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "simcc compiled ${SRC}, but it must not compile")
  endif()
  set(text "${out}${err}")
else()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "simcc failed on ${SRC} (exit ${rc})")
  endif()
  execute_process(COMMAND "${BIN}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  set(text "${out}${err}")
  if(EXPECT STREQUAL "run_ok" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${BIN} exited with ${rc}, expected 0")
  elseif(EXPECT STREQUAL "run_fail" AND (rc EQUAL 0 OR NOT rc MATCHES "^[0-9]+$"))
    message(FATAL_ERROR "${BIN} ended with '${rc}', expected a nonzero exit code (not a crash)")
  endif()
endif()
foreach(re IN LISTS regexes)
  if(NOT text MATCHES "${re}")
    message(FATAL_ERROR "output does not match: ${re}")
  endif()
endforeach()
