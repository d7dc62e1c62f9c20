// gpusim shim: CUDA headers resolve to the simulator when compiling for the CPU.
#pragma once
#include "gpusim/runtime.h"
