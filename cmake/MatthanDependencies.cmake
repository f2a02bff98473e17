# Finds every third-party dependency once; modules link the imported targets they need, PRIVATE.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(GST REQUIRED IMPORTED_TARGET gstreamer-1.0>=1.22 gstreamer-app-1.0 gstreamer-video-1.0)
pkg_check_modules(GST_RTSP_SERVER REQUIRED IMPORTED_TARGET gstreamer-rtsp-server-1.0)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libavutil)
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(cppzmq QUIET)

# OpenCV: we install only the modules we use (libopencv-dev pulls ~640 MiB), and those packages ship
# no CMake config, so find the headers and libraries directly.
find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
add_library(matthan_opencv INTERFACE)
target_include_directories(matthan_opencv SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR})
foreach(m core imgproc video imgcodecs dnn objdetect)
  find_library(OPENCV_${m}_LIBRARY opencv_${m} REQUIRED)
  target_link_libraries(matthan_opencv INTERFACE ${OPENCV_${m}_LIBRARY})
endforeach()
add_library(matthan::opencv ALIAS matthan_opencv)

# rapidjson is header-only (JSON Schema validator, draft 04).
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/schema.h REQUIRED)
add_library(matthan_rapidjson INTERFACE)
target_include_directories(matthan_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIR})
add_library(matthan::rapidjson ALIAS matthan_rapidjson)

# Helper: declare a Matthan module library with its alias and per-target warnings.
function(matthan_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(matthan_${name} STATIC ${M_SOURCES})
  add_library(matthan::${name} ALIAS matthan_${name})
  target_include_directories(matthan_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(matthan_${name} PUBLIC ${M_PUBLIC_DEPS} PRIVATE matthan::warnings ${M_PRIVATE_DEPS})
  set_target_properties(matthan_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
