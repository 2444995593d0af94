#include "dsl/comm/packet.h"

#include "dsl/ops.h"

namespace weft::comm {

const char* name(Elem e) { return e == Elem::f32 ? "f32" : "bf16"; }

Packet load_packet(KernelBuilder& k, Ptr<u32, Global> p, bool peer, Loc loc) {
  if (peer) return k.ld_vec<u32, Global, 4>(p, {q::relaxed, q::sys}, loc);
  return k.ld_vec<u32, Global, 4>(p, {}, loc);
}

void store_packet(KernelBuilder& k, Ptr<u32, Global> p, const Packet& v, bool peer, Loc loc) {
  if (peer) return k.st_vec(p, v, {q::relaxed, q::sys}, loc);
  k.st_vec(p, v, {}, loc);
}

PacketSum::PacketSum(KernelBuilder& k, Elem e, const Packet& first, Loc loc) : k_(&k), e_(e) {
  for (auto& r : unpack(first, loc)) acc_.push_back(k.let<f32>(r, loc));
}

PacketSum::PacketSum(KernelBuilder& k, Elem e, Loc loc) : k_(&k), e_(e) {
  for (std::uint32_t i = 0; i < elems_per_packet(e); ++i) acc_.push_back(k.let<f32>(0.0f, loc));
}

std::vector<Reg<f32>> PacketSum::unpack(const Packet& v, Loc loc) const {
  std::vector<Reg<f32>> out;
  for (const auto& w : v) {
    if (e_ == Elem::f32) {
      out.push_back(bitcast<f32>(w, loc));
    } else {
      // bf16 is the high half of an f32: shift the low element up, mask the high one in place.
      out.push_back(bitcast<f32>(w << 16u, loc));
      out.push_back(bitcast<f32>(w & 0xffff0000u, loc));
    }
  }
  return out;
}

void PacketSum::add(const Packet& v, Loc loc) {
  auto lanes = unpack(v, loc);
  for (std::size_t i = 0; i < acc_.size(); ++i) k_->assign(acc_[i], acc_[i] + Src<f32>(lanes[i], loc), loc);
}

void PacketSum::add(const Packet& v, Reg<f32> weight, Loc loc) {
  auto lanes = unpack(v, loc);
  for (std::size_t i = 0; i < acc_.size(); ++i)
    k_->assign(acc_[i], fma(lanes[i], Src<f32>(weight, loc), Src<f32>(acc_[i], loc)), loc);
}

Packet PacketSum::result(Loc loc) const {
  Packet out;
  for (std::size_t w = 0; w < 4; ++w) {
    if (e_ == Elem::f32) {
      out[w] = bitcast<u32>(acc_[w], loc);
    } else {
      auto pair = k_->fresh<bf16x2>();
      // cvt.rn.bf16x2.f32 d, hi, lo: the first source goes to the upper half.
      k_->instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn},
                {pair, acc_[2 * w + 1], acc_[2 * w]}, loc);
      out[w] = bitcast<u32>(pair, loc);
    }
  }
  return out;
}

}  // namespace weft::comm
