// Communication kernels: ranks and peer tables (dsl/comm/context.h) and flags (dsl/comm/flags.h).
#pragma once

#include "dsl/comm/context.h"
#include "dsl/comm/flags.h"
#include "dsl/comm/rendezvous.h"
#include "dsl/comm/packet.h"
#include "dsl/comm/bulk_copy.h"
