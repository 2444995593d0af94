// The peer-pointer rule of the verifier: an access through an address in another GPU's memory must
// be at .sys scope, or the two GPUs may never see each other's writes (a weak or .gpu access is
// only ordered within one device). See DESIGN.md decision 10 and docs/comm.md.
#pragma once

#include <vector>

#include "codegen/diagnostic.h"
#include "codegen/ir/module.h"

namespace weft {

// Follows fn.peer_roots through every instruction that computes a register from them (add, mad,
// mov, cvta, selp, ...; a load's result is data, not an address, and stops the trail) and reports
// each ld/st/atom/red whose address derives from a peer pointer without .sys scope. Asynchronous
// bulk copies are exempt: they have no scope; their completion plus a .sys release orders them.
void check_peer_accesses(const ir::Function& fn, std::vector<Diagnostic>& out);

}  // namespace weft
