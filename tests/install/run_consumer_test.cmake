# Installs feral into a scratch prefix, then builds and runs a tiny project that
# uses it through find_package(feral CONFIG REQUIRED) — what a user does.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} -S ${FERAL_SOURCE_DIR} -B ${WORK_DIR}/feral-build -DCMAKE_CXX_COMPILER=${CXX}
    -DFERAL_BUILD_TESTS=OFF -DFERAL_BUILD_BENCHMARKS=OFF -DFERAL_BUILD_EXAMPLES=OFF
    -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/feral-build)
run(${CMAKE_COMMAND} -S ${FERAL_SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/consumer-build
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run(${WORK_DIR}/consumer-build/consumer)
