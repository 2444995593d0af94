// Communication kernels: ranks, peer tables and the launch convention (DESIGN.md decision 10).
//
// Every communication kernel takes `rank_base` (u32), `nranks` (u32) and one u64 pointer parameter
// per symmetric buffer: its peer table, `rows * nranks` addresses, row r holding the buffer's base on
// every rank as seen from rank `rank_base + r`. A kernel's rank is `rank_base + %ctaid.y` and it reads
// row `%ctaid.y`. One process per GPU launches grid.y = 1 with its own rank and a one-row table;
// LocalSim launches all N virtual ranks of one GPU in one launch (grid.y = N, N rows), so their
// CTAs are co-resident and spin-waits between them cannot deadlock. The PTX is the same for both;
// runtime/comm/ builds the tables and launches.
#pragma once

#include <string>

#include "dsl/kernel_builder.h"
#include "dsl/ops.h"

namespace weft::comm {

// One symmetric buffer's peer table.
class PeerTable {
 public:
  PeerTable(KernelBuilder& k, Ptr<u64, Global> table, Reg<u32> row_first, Reg<u32> rank)
      : k_(&k), table_(table), row_first_(row_first), rank_(rank) {}

  // The buffer on rank `r` as a peer pointer: every ld/st/atom/red through it (and through addresses
  // computed from it) must be at .sys scope, which the verifier checks. r may be this rank.
  template <DataType T>
  Ptr<T, Global> peer(Src<u32> r, Loc loc = Loc::current()) const {
    return Ptr<T, Global>(entry(r, /*peer=*/true, loc));
  }
  // This rank's own buffer: ordinary accesses are fine (other ranks' writes to it still need an
  // acquire before they are read; see wait_flag).
  template <DataType T>
  Ptr<T, Global> local(Loc loc = Loc::current()) const {
    return Ptr<T, Global>(entry(rank_, /*peer=*/false, loc));
  }

 private:
  Reg<u64> entry(Src<u32> r, bool peer, Loc loc) const;

  KernelBuilder* k_;
  Ptr<u64, Global> table_;
  Reg<u32> row_first_;  // row * nranks
  Reg<u32> rank_;
};

class CommContext {
 public:
  // Declares the `rank_base` and `nranks` parameters and computes this CTA's rank.
  explicit CommContext(KernelBuilder& k, Loc loc = Loc::current());

  Reg<u32> rank() const { return rank_; }
  Reg<u32> nranks() const { return nranks_; }
  Reg<u32> row() const { return row_; }  // %ctaid.y: the virtual rank's row (0 with one rank per process)
  // Declares a peer-table parameter named `name` for one symmetric buffer.
  PeerTable table(const std::string& name, Loc loc = Loc::current());

 private:
  KernelBuilder* k_;
  Reg<u32> nranks_;
  Reg<u32> row_;
  Reg<u32> rank_;
  Reg<u32> row_first_;
};

// A communication kernel runs one CTA of `threads` threads per SM of its budget: .reqntid, and
// .minnctapersm 1, without which ptxas aims at full occupancy (two 1024-thread CTAs per SM, 32
// registers) and spills.
inline void one_cta_per_sm(KernelBuilder& k, std::uint32_t threads, Loc loc = Loc::current()) {
  k.reqntid(threads, 1, 1, loc);
  k.minnctapersm(1, loc);
}

}  // namespace weft::comm
