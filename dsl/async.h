// The async and tensor-core layer: mbarriers, pipelines, warp roles, TMA, swizzled tiles, MMA atoms.
#pragma once

#include "dsl/async/cache_policy.h"
#include "dsl/async/cluster.h"
#include "dsl/async/mbarrier.h"
#include "dsl/async/mma.h"
#include "dsl/async/pipeline.h"
#include "dsl/async/shared_layout.h"
#include "dsl/async/tcgen05.h"
#include "dsl/async/tma.h"
#include "dsl/async/warp_roles.h"
#include "dsl/async/wgmma_fp8.h"
