// Stands in for CUDA's cuda_bf16.h: the types and conversions are in cuda_host.h.
#pragma once
#include "cuda_host.h"
