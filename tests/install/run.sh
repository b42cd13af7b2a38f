#!/usr/bin/env bash
# Install the build tree into a fresh prefix, then build and run a small consumer twice: with
# CMake's find_package(slotgate CONFIG), and with pkg-config.
set -euo pipefail
BUILD=$1 CONSUMER=$2 WORK=$3 CXX=$4 CC=$5
rm -rf "$WORK"
mkdir -p "$WORK"
cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null

echo "== find_package"
cmake -S "$CONSUMER" -B "$WORK/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_C_COMPILER="$CC" >/dev/null
cmake --build "$WORK/cmake-build" >/dev/null
"$WORK/cmake-build/consumer_cpp"
"$WORK/cmake-build/consumer_c"
"$WORK/cmake-build/consumer_asio"

echo "== pkg-config"
export PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig:$WORK/prefix/lib/x86_64-linux-gnu/pkgconfig"
FLAGS=$(pkg-config --cflags slotgate)
LIBS=$(pkg-config --libs slotgate)
"$CC" -std=c99 -Wall -Wextra -Werror -pedantic $FLAGS "$CONSUMER/consumer.c" $LIBS \
  -o "$WORK/consumer_c_pc"
"$WORK/consumer_c_pc"
"$CXX" -std=c++17 -Wall -Wextra -Werror $FLAGS "$CONSUMER/consumer.cpp" $LIBS -pthread \
  -o "$WORK/consumer_cpp_pc"
"$WORK/consumer_cpp_pc"
echo "install test passed"
