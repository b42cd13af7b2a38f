# cmake --install: headers, static libraries, a CMake package (find_package(slotgate CONFIG)
# gives slotgate::slotgate, slotgate::core, slotgate::c, slotgate::sim, slotgate::posix,
# slotgate::cortex_m, slotgate::freertos, and slotgate::asio when Boost 1.80+ was found) and a
# pkg-config file (slotgate.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(slotgate_core PROPERTIES EXPORT_NAME core OUTPUT_NAME slotgate_core)
set_target_properties(slotgate_c PROPERTIES EXPORT_NAME c OUTPUT_NAME slotgate_c)
set_target_properties(slotgate PROPERTIES EXPORT_NAME slotgate)
set_target_properties(slotgate_port_sim PROPERTIES EXPORT_NAME sim)
set_target_properties(slotgate_port_posix PROPERTIES EXPORT_NAME posix)
set_target_properties(slotgate_port_cortex_m PROPERTIES EXPORT_NAME cortex_m)
set_target_properties(slotgate_port_freertos PROPERTIES EXPORT_NAME freertos)
set(slotgate_asio_target "")
if(SLOTGATE_HAS_ASIO)
  set_target_properties(slotgate_port_asio PROPERTIES EXPORT_NAME asio)
  set(slotgate_asio_target slotgate_port_asio)
endif()

install(TARGETS slotgate_core slotgate_c slotgate slotgate_port_sim slotgate_port_posix
                slotgate_port_cortex_m slotgate_port_freertos ${slotgate_asio_target}
        EXPORT slotgateTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/ports/sim/include/ ${PROJECT_SOURCE_DIR}/ports/posix/include/
                  ${PROJECT_SOURCE_DIR}/ports/cortex-m/include/
                  ${PROJECT_SOURCE_DIR}/ports/freertos/include/
                  ${PROJECT_SOURCE_DIR}/ports/asio/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/ports/cortex-m/profile/slotgate_profile.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/slotgate/profiles/cortex-m)
install(FILES ${PROJECT_SOURCE_DIR}/ports/cortex-m/src/armv6m_atomics.c
        DESTINATION ${CMAKE_INSTALL_DATADIR}/slotgate/cortex-m)

set(SLOTGATE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/slotgate)
install(EXPORT slotgateTargets NAMESPACE slotgate:: DESTINATION ${SLOTGATE_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/slotgateConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/slotgateConfig.cmake
                              INSTALL_DESTINATION ${SLOTGATE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/slotgateConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/slotgateConfig.cmake
              ${PROJECT_BINARY_DIR}/slotgateConfigVersion.cmake
        DESTINATION ${SLOTGATE_CMAKE_DIR})

# The .pc file finds its prefix relative to itself, so an install anywhere works.
file(RELATIVE_PATH SLOTGATE_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${CMAKE_CURRENT_LIST_DIR}/slotgate.pc.in ${PROJECT_BINARY_DIR}/slotgate.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/slotgate.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
