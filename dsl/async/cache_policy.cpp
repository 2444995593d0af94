#include "dsl/async/cache_policy.h"

namespace weft {

L2Policy l2_policy(KernelBuilder& k, q::Q priority, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  auto policy = k.reg<u64>(loc);
  k.instr("createpolicy", {isa::Type::b64}, {q::fractional, priority}, {policy}, loc);
  return L2Policy{policy};
}

}  // namespace weft
