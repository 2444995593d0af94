#include "dsl/async/tma.h"

#include <bit>

#include <fmt/format.h>

#include "codegen/isa/database.h"
#include "runtime/error.h"

namespace weft {

namespace {
std::vector<ir::RegId> coordinate_regs(KernelBuilder& k, std::initializer_list<Src<s32>> coords, Loc loc) {
  std::vector<ir::RegId> ids;
  for (const auto& c : coords) ids.push_back(c.is_reg() ? c.reg().id() : k.let<s32>(c, loc).id());
  return ids;
}
isa::Quals dims(std::size_t rank) {
  isa::Quals q;
  q.set(isa::QualKind::dim, static_cast<std::uint8_t>(rank));
  return q;
}
// .L2::cache_hint and its policy operand (the form's last) when a policy is given.
isa::Quals with_policy(const std::optional<L2Policy>& policy, std::vector<ir::Operand>& ops) {
  isa::Quals q;
  if (policy) {
    q.set(isa::QualKind::l2hint, "L2::cache_hint");
    ops.push_back(ir::Operand::r(policy->reg.id()));
  }
  return q;
}
void check_rank(KernelBuilder& k, const TmaTensor& t, std::size_t n, Loc loc) {
  if (n != t.desc.rank)
    k.diagnose(SourceLoc::from(loc), fmt::format("tensor '{}' has rank {} but {} coordinates were given", t.name,
                                                 t.desc.rank, n));
}
}  // namespace

TmaTensor tma_param(KernelBuilder& k, std::string name, const rt::TmaDesc& desc, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  try {
    // Only the box, type and swizzle are known when the kernel is built: check those, on a tensor
    // exactly one box large (the host's encode checks the real shape at launch).
    auto box_only = desc;
    std::uint64_t stride = rt::tma_dtype_bytes(desc.dtype);
    for (std::uint32_t i = 0; i < desc.rank && i < 5; ++i) {
      box_only.global_dims[i] = desc.box_dims[i];
      if (i > 0) box_only.global_strides_bytes[i - 1] = (stride + 15) / 16 * 16;
      stride = (i > 0 ? box_only.global_strides_bytes[i - 1] : stride) * desc.box_dims[i];
    }
    rt::check_tma(box_only, 1024);  // any aligned address: the real one is the host's
  } catch (const rt::Error& e) {
    k.diagnose(SourceLoc::from(loc), fmt::format("tensor map '{}': {}", name, e.what()));
  }
  auto map = k.param_tensor_map(name, rt::tma_box_key(desc), loc);
  return TmaTensor{std::move(name), map, desc};
}

TmaTensor tma_param(KernelBuilder& k, std::string name, const SharedLayout& tile, Loc loc) {
  rt::TmaDesc d;
  switch (tile.elem) {
    case isa::Type::bf16: d.dtype = rt::TmaDtype::bf16; break;
    case isa::Type::f16: d.dtype = rt::TmaDtype::f16; break;
    case isa::Type::f32: d.dtype = rt::TmaDtype::f32; break;
    case isa::Type::f64: d.dtype = rt::TmaDtype::f64; break;
    case isa::Type::u8: case isa::Type::s8: case isa::Type::b8: case isa::Type::e4m3: case isa::Type::e5m2:
      d.dtype = rt::TmaDtype::u8; break;
    case isa::Type::u16: case isa::Type::b16: d.dtype = rt::TmaDtype::u16; break;
    case isa::Type::u32: case isa::Type::b32: d.dtype = rt::TmaDtype::u32; break;
    case isa::Type::s32: d.dtype = rt::TmaDtype::s32; break;
    default:
      k.diagnose(SourceLoc::from(loc), fmt::format("tensor map '{}': no TMA element type for .{}", name, isa::name(tile.elem)));
  }
  d.rank = 2;
  d.box_dims = {tile.cols, tile.rows, 1, 1, 1};
  d.swizzle = tile.tma_swizzle();
  return tma_param(k, std::move(name), d, loc);
}

void tma_load(KernelBuilder& k, const TmaTensor& t, Reg<u32> dst, std::initializer_list<Src<s32>> coords,
              const Mbarrier& bar, Pipeline* pipe, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  check_rank(k, t, coords.size(), loc);
  k.emit("cp.async.bulk.tensor", isa::Type::none, isa::Type::none, dims(coords.size()),
         {ir::Operand::mem(dst.id()), ir::Operand::tensor(t.map.id(), coordinate_regs(k, coords, loc)),
          ir::Operand::mem(bar.address().id())},
         SourceLoc::from(loc));
  if (pipe) pipe->note_copy(t.box_bytes(), SourceLoc::from(loc));
}

void tma_load_multicast(KernelBuilder& k, const TmaTensor& t, Reg<u32> dst, std::initializer_list<Src<s32>> coords,
                        const Mbarrier& bar, Src<u32> cta_mask, Pipeline* pipe, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  check_rank(k, t, coords.size(), loc);
  auto q = dims(coords.size());
  q.set(isa::QualKind::multicast, "multicast::cluster");
  auto mask = k.reg<b16>(loc);
  k.emit("cvt", isa::Type::u16, isa::Type::u32, {}, {ir::Operand::r(mask.id()), cta_mask.is_reg() ? cta_mask.operand() : ir::Operand::r(k.let<u32>(cta_mask, loc).id())},
         SourceLoc::from(loc));
  k.emit("cp.async.bulk.tensor", isa::Type::none, isa::Type::none, q,
         {ir::Operand::mem(dst.id()), ir::Operand::tensor(t.map.id(), coordinate_regs(k, coords, loc)),
          ir::Operand::mem(bar.address().id()), ir::Operand::r(mask.id())},
         SourceLoc::from(loc));
  // Each CTA of the mask issues one such box (the symmetric pattern), so each receives box x CTAs.
  // A mask in a register is not static: the expect_tx check is then skipped (a 0-byte note).
  if (pipe)
    pipe->note_copy(cta_mask.is_reg() ? 0u : t.box_bytes() * static_cast<std::uint32_t>(std::popcount(
                                                                  static_cast<std::uint32_t>(cta_mask.value()))),
                    SourceLoc::from(loc));
}

void tma_store(KernelBuilder& k, const TmaTensor& t, Reg<u32> src, std::initializer_list<Src<s32>> coords, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  check_rank(k, t, coords.size(), loc);
  const auto* f = &isa::form("cp.async.bulk.tensor.s2g");
  k.emit_form(f->id, isa::Type::none, isa::Type::none, dims(coords.size()),
              {ir::Operand::tensor(t.map.id(), coordinate_regs(k, coords, loc)), ir::Operand::mem(src.id())},
              SourceLoc::from(loc));
}

void tma_prefetch(KernelBuilder& k, const TmaTensor& t, std::initializer_list<Src<s32>> coords, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  check_rank(k, t, coords.size(), loc);
  k.emit_form("cp.async.bulk.prefetch.tensor", isa::Type::none, isa::Type::none, dims(coords.size()),
              {ir::Operand::tensor(t.map.id(), coordinate_regs(k, coords, loc))}, SourceLoc::from(loc));
}

void prefetch_tensor_map(KernelBuilder& k, const TmaTensor& t, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  k.emit_form("prefetch.tensormap", isa::Type::none, isa::Type::none, {}, {ir::Operand::mem(t.map.id())},
              SourceLoc::from(loc));
}

void bulk_commit(KernelBuilder& k, Loc loc) { k.instr("cp.async.bulk.commit_group", {}, {}, {}, loc); }

void bulk_wait(KernelBuilder& k, std::uint32_t pending, bool read_only, Loc loc) {
  if (read_only)
    k.instr("cp.async.bulk.wait_group", {}, {q::make(isa::QualKind::read, "read")}, {static_cast<std::int64_t>(pending)}, loc);
  else
    k.instr("cp.async.bulk.wait_group", {}, {}, {static_cast<std::int64_t>(pending)}, loc);
}

void fence_proxy_async_shared(KernelBuilder& k, Loc loc) {
  k.instr("fence.proxy.async", {}, {q::shared_cta}, {}, loc);
}

void fence_proxy_async_global(KernelBuilder& k, Loc loc) { k.instr("fence.proxy.async", {}, {q::global}, {}, loc); }

void bulk_load(KernelBuilder& k, Reg<u32> dst, Ptr<u8, Global> src, Src<u32> bytes, const Mbarrier& bar,
               Pipeline* pipe, std::optional<L2Policy> policy, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  std::vector<ir::Operand> ops = {ir::Operand::mem(dst.id()), src.operand(), bytes.operand(),
                                  ir::Operand::mem(bar.address().id())};
  const auto quals = with_policy(policy, ops);  // before ops is moved
  k.emit_form("cp.async.bulk.g2s", isa::Type::none, isa::Type::none, quals, std::move(ops),
              SourceLoc::from(loc));
  // A register size is not known at build time: 0 tells the pipeline the check cannot be made.
  if (pipe) pipe->note_copy(bytes.is_reg() ? 0u : static_cast<std::uint32_t>(bytes.value()), SourceLoc::from(loc));
}

void bulk_store(KernelBuilder& k, Ptr<u8, Global> dst, Reg<u32> src, Src<u32> bytes, std::optional<L2Policy> policy,
                Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  std::vector<ir::Operand> ops = {dst.operand(), ir::Operand::mem(src.id()), bytes.operand()};
  const auto quals = with_policy(policy, ops);  // before ops is moved
  k.emit_form("cp.async.bulk.s2g", isa::Type::none, isa::Type::none, quals, std::move(ops),
              SourceLoc::from(loc));
}

void cp_async_16(KernelBuilder& k, Reg<u32> dst, Ptr<u8, Global> src, std::optional<Src<u32>> src_bytes, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  isa::Quals q;
  q.set(isa::QualKind::cop, "cg");
  std::vector<ir::Operand> ops = {ir::Operand::mem(dst.id()), src.operand(), ir::Operand::imm(16)};
  if (src_bytes) ops.push_back(src_bytes->operand());
  k.emit_form(src_bytes ? "cp.async.cg.zfill" : "cp.async.cg", isa::Type::none, isa::Type::none, q, std::move(ops),
              SourceLoc::from(loc));
}

}  // namespace weft
