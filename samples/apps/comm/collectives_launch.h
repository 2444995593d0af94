// Collectives::launch_with_block (a template, so kept out of the class declaration for readability).
#pragma once

#include "runtime/comm/local_sim.h"

namespace weft::samples {

template <class... Args>
void Collectives::launch_with_block(rt::Kernel& kernel, std::uint32_t block, const Args&... args) {
  rt::LaunchConfig cfg{.grid = {options_.ctas, 1, 1}, .block = {block, 1, 1}, .stream = options_.stream};
  if (auto* sim = dynamic_cast<rt::comm::LocalSim*>(&heap_)) return sim->launch(kernel, cfg, args...);
  kernel.launch(cfg, args...);
}

}  // namespace weft::samples
