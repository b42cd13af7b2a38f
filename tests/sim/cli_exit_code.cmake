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

# --seeds: a bad range, or with --seed or --svg, is refused; a good one prints one summary per
# scenario and writes a CSV row per seed and strategy, the seed in the last column.
foreach(bad "3-1" "-2" "2" "1-x")
  execute_process(COMMAND ${SIM} --seeds ${bad} RESULT_VARIABLE rc3 ERROR_VARIABLE err3
                  OUTPUT_VARIABLE out3)
  if(NOT rc3 EQUAL 2 OR NOT err3 MATCHES "--seeds wants FIRST-LAST")
    message(FATAL_ERROR "--seeds ${bad}: exit code ${rc3}, message: ${err3}")
  endif()
endforeach()
execute_process(COMMAND ${SIM} --seed 1 --seeds 1-2 RESULT_VARIABLE rc4 ERROR_VARIABLE err4
                OUTPUT_VARIABLE out4)
if(NOT rc4 EQUAL 2 OR NOT err4 MATCHES "exclude each other")
  message(FATAL_ERROR "--seed with --seeds: exit code ${rc4}, message: ${err4}")
endif()
execute_process(COMMAND ${SIM} --seeds 1-2 --svg ${WORK}/x.svg RESULT_VARIABLE rc5
                ERROR_VARIABLE err5 OUTPUT_VARIABLE out5)
if(NOT rc5 EQUAL 2)
  message(FATAL_ERROR "--seeds with --svg: exit code ${rc5}, expected 2")
endif()
execute_process(COMMAND ${SIM} --preset default --preset foreign --seeds 1-3
                        --strategies poll-one,slotgate --duration 60 --csv ${WORK}/seeds.csv
                RESULT_VARIABLE rc6 ERROR_VARIABLE err6 OUTPUT_VARIABLE out6)
if(NOT rc6 EQUAL 0)
  message(FATAL_ERROR "--seeds 1-3: exit code ${rc6}: ${err6}")
endif()
string(REGEX MATCHALL "seeds 1-3 \\(totals" summaries "${out6}")
list(LENGTH summaries n_summaries)
if(NOT n_summaries EQUAL 2 OR NOT out6 MATCHES "slotgate[^\n]*\\| [^\n]* of 3")
  message(FATAL_ERROR "--seeds 1-3: unexpected output:\n${out6}")
endif()
file(STRINGS ${WORK}/seeds.csv rows)
list(LENGTH rows n_rows)
if(NOT n_rows EQUAL 13)  # a header and 2 presets x 3 seeds x 2 strategies
  message(FATAL_ERROR "--seeds 1-3: ${n_rows} CSV lines, expected 13")
endif()
foreach(want "^foreign,slotgate,.*,3$" "^default,poll-one,.*,1$" "^default,slotgate,.*,2$")
  set(found FALSE)
  foreach(row IN LISTS rows)
    if(row MATCHES "${want}")
      set(found TRUE)
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "--seeds 1-3: no CSV row matches ${want}")
  endif()
endforeach()
