// The libFuzzer entry point every target defines. With SY_FUZZ (clang) libFuzzer drives it;
// otherwise replay_main.cpp runs it over a corpus directory as an ordinary test.
// A target reports a violated invariant with abort().
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
