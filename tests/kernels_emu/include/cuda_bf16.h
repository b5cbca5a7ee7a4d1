// cuda_bf16.h for the CPU emulator: its types come with cuda_emu.h.
#pragma once
#include "cuda_emu.h"
