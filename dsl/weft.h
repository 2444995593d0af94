// The one header kernel authors include.
#pragma once

#include "dsl/kernel_builder.h"
#include "dsl/ops.h"
#include "dsl/qualifiers.h"
#include "dsl/types.h"
#include "dsl/values.h"
