// 16-byte packets for communication kernels: the unit a thread moves per load or store (4 f32 or 8
// bf16), loaded from this rank's memory or through a peer pointer (ld.relaxed.sys: the verifier
// requires .sys there), and summed in f32 whatever the element type.
#pragma once

#include <array>
#include <vector>

#include "dsl/kernel_builder.h"

namespace weft::comm {

enum class Elem { f32, bf16 };
const char* name(Elem e);
inline std::uint32_t elems_per_packet(Elem e) { return e == Elem::f32 ? 4u : 8u; }

using Packet = std::array<Reg<u32>, 4>;

// `peer`: the address is (derived from) a peer pointer.
Packet load_packet(KernelBuilder& k, Ptr<u32, Global> p, bool peer, Loc loc = Loc::current());
void store_packet(KernelBuilder& k, Ptr<u32, Global> p, const Packet& v, bool peer, Loc loc = Loc::current());

// An f32 running sum of packets (4 or 8 lanes).
class PacketSum {
 public:
  PacketSum(KernelBuilder& k, Elem e, const Packet& first, Loc loc = Loc::current());
  // Starts at zero (for weighted sums).
  PacketSum(KernelBuilder& k, Elem e, Loc loc = Loc::current());
  void add(const Packet& v, Loc loc = Loc::current());
  // sum += weight * v (one fma per lane).
  void add(const Packet& v, Reg<f32> weight, Loc loc = Loc::current());
  // Rounds back to the element type (bf16: round to nearest even).
  Packet result(Loc loc = Loc::current()) const;

 private:
  std::vector<Reg<f32>> unpack(const Packet& v, Loc loc) const;
  KernelBuilder* k_;
  Elem e_;
  std::vector<Reg<f32>> acc_;
};

}  // namespace weft::comm
