# Runs slotgate-sim on a bad scenario file: it must exit 2 and name the file, line and key.
file(WRITE ${WORK}/bad.scenario "cap = 4\nagents = 0\n")
execute_process(COMMAND ${SIM} --scenario ${WORK}/bad.scenario RESULT_VARIABLE rc
                ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "exit code ${rc}, expected 2")
endif()
if(NOT err MATCHES "bad.scenario:2: agents: must be at least 1")
  message(FATAL_ERROR "unexpected message: ${err}")
endif()
execute_process(COMMAND ${SIM} --preset nope RESULT_VARIABLE rc2 ERROR_VARIABLE err2
                OUTPUT_VARIABLE out2)
if(NOT rc2 EQUAL 2)
  message(FATAL_ERROR "unknown preset: exit code ${rc2}, expected 2")
endif()
message(STATUS "bad input rejected with exit code 2: ${err}")
