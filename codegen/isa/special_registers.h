// PTX special registers (%tid.x, %clock64, %cluster_ctarank, ...) as data: name, type, targets.
#pragma once

#include <span>
#include <string_view>

#include "codegen/isa/target.h"
#include "codegen/isa/types.h"

namespace weft::isa {

struct SpecialReg {
  std::string_view name;  // with the % and any component: "%tid.x"
  Type type;              // u32 or u64
  TargetSet targets;
  PtxVersion min_ptx;
  std::string_view summary;
};

std::span<const SpecialReg> special_registers();
const SpecialReg* find_special_register(std::string_view name);  // "%tid.x"

}  // namespace weft::isa
