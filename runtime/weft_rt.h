// The weft runtime in one include: driver, devices, modules and launches, memory, streams, tensor
// maps and the cubin cache. See docs/runtime.md.
#pragma once

#include "runtime/autotune.h"
#include "runtime/device.h"
#include "runtime/disk_cache.h"
#include "runtime/driver.h"
#include "runtime/error.h"
#include "runtime/memory.h"
#include "runtime/module.h"
#include "runtime/stream.h"
#include "runtime/tensor_map.h"
#include "runtime/timing.h"
