# Helpers that make one folder = one module = one target.
#
#   fmq_module(NAME store SRCS a.cc b.cc DEPS fmq_base fmq_io [PUBLIC_LIBS ...])
#     -> static library fmq_store. DEPS lists the FerryMQ modules it may use; scripts/check_deps.py checks
#        that the #includes of the folder agree with the rule in docs/architecture.md.
#   fmq_test(NAME store_test SRCS x_test.cc DEPS fmq_store LABELS unit)
#     -> a GoogleTest binary registered with ctest under the given labels.
#
# Include paths are rooted at the repository: #include "broker/store/commit_log.h".

function(fmq_module)
  cmake_parse_arguments(M "" "NAME" "SRCS;DEPS;PUBLIC_LIBS" ${ARGN})
  add_library(fmq_${M_NAME} STATIC ${M_SRCS})
  target_include_directories(fmq_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(fmq_${M_NAME} PUBLIC ${M_DEPS} ${M_PUBLIC_LIBS})
endfunction()

function(fmq_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT FMQ_BUILD_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()
