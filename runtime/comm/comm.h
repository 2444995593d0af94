// weft::rt::comm in one include: bootstraps, the symmetric heap and its three backends. See
// docs/comm.md (Host API).
#pragma once

#include "runtime/comm/bootstrap.h"
#include "runtime/comm/heap.h"
#include "runtime/comm/ipc.h"
#include "runtime/comm/local_sim.h"
#include "runtime/comm/nccl_heap.h"
#include "runtime/comm/nccl_library.h"
#include "runtime/comm/peer_table.h"
#include "runtime/comm/socket_bootstrap.h"
