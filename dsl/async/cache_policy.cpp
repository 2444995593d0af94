#include "dsl/async/cache_policy.h"

namespace weft {

const char* l2_evict_name(L2Evict priority) {
  switch (priority) {
    case L2Evict::first: return "L2::evict_first";
    case L2Evict::normal: return "L2::evict_normal";
    case L2Evict::last: return "L2::evict_last";
    case L2Evict::unchanged: return "L2::evict_unchanged";
  }
  return "L2::evict_normal";
}

L2Policy l2_policy(KernelBuilder& k, L2Evict priority, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  auto policy = k.reg<u64>(loc);
  k.instr("createpolicy", {isa::Type::b64}, {q::fractional, q::make(isa::QualKind::policy, l2_evict_name(priority))},
          {policy}, loc);
  return L2Policy{policy};
}

}  // namespace weft
