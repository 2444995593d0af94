// A kernel with a DSL error (elect.sync does not exist on sm_80): building with
// -DWEFT_EXAMPLE_BROKEN=ON fails the emission step with this file's line.
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace example {
using namespace weft;

WEFT_KERNEL(broken, "a deliberate DSL error", {}) {
  KernelBuilder k{"broken", target};
  k.elect_sync();  // sm_90+ only
  return k.build();
}

}  // namespace example
