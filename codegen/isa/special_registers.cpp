#include "codegen/isa/special_registers.h"

#include <deque>
#include <string>
#include <vector>

namespace weft::isa {

namespace {
std::vector<SpecialReg> build() {
  std::vector<SpecialReg> v;
  const auto all = TargetSet::all();
  const auto hopper = TargetSet::from_sm(90);
  auto xyz = [&](std::string_view base, TargetSet t, PtxVersion ver, std::string_view what) {
    static const char* comps[] = {".x", ".y", ".z"};
    // Names must outlive the table; a deque never moves its elements.
    static std::deque<std::string> names;
    for (auto c : comps) {
      names.push_back(std::string(base) + c);
      v.push_back({names.back(), Type::u32, t, ver, what});
    }
  };
  xyz("%tid", all, 10, "thread index in the CTA");
  xyz("%ntid", all, 10, "CTA shape (threads per dimension)");
  xyz("%ctaid", all, 10, "CTA index in the grid");
  xyz("%nctaid", all, 10, "grid shape (CTAs per dimension)");
  xyz("%clusterid", hopper, 78, "cluster index in the grid");
  xyz("%nclusterid", hopper, 78, "grid shape in clusters");
  xyz("%cluster_ctaid", hopper, 78, "CTA index in its cluster");
  xyz("%cluster_nctaid", hopper, 78, "cluster shape in CTAs");
  v.push_back({"%laneid", Type::u32, all, 10, "lane in the warp (0..31)"});
  v.push_back({"%warpid", Type::u32, all, 10, "warp slot on the SM (not stable; for tracing only)"});
  v.push_back({"%nwarpid", Type::u32, all, 20, "warp slots per SM"});
  v.push_back({"%smid", Type::u32, all, 10, "SM the thread runs on (for tracing and budgets)"});
  v.push_back({"%nsmid", Type::u32, all, 20, "upper bound of %smid"});
  v.push_back({"%gridid", Type::u64, all, 30, "launch identifier"});
  v.push_back({"%clock", Type::u32, all, 10, "32-bit SM cycle counter"});
  v.push_back({"%clock64", Type::u64, all, 20, "64-bit SM cycle counter"});
  v.push_back({"%globaltimer", Type::u64, all, 31, "global nanosecond timer"});
  v.push_back({"%dynamic_smem_size", Type::u32, all, 41, "dynamic shared memory of this launch, bytes"});
  v.push_back({"%total_smem_size", Type::u32, all, 41, "shared memory of this CTA, bytes"});
  v.push_back({"%lanemask_eq", Type::u32, all, 20, "bit of this lane"});
  v.push_back({"%lanemask_le", Type::u32, all, 20, "bits of lanes <= this lane"});
  v.push_back({"%lanemask_lt", Type::u32, all, 20, "bits of lanes < this lane"});
  v.push_back({"%lanemask_ge", Type::u32, all, 20, "bits of lanes >= this lane"});
  v.push_back({"%lanemask_gt", Type::u32, all, 20, "bits of lanes > this lane"});
  v.push_back({"%cluster_ctarank", Type::u32, hopper, 78, "CTA rank in its cluster"});
  v.push_back({"%cluster_nctarank", Type::u32, hopper, 78, "CTAs in the cluster"});
  return v;
}
}  // namespace

std::span<const SpecialReg> special_registers() {
  static const std::vector<SpecialReg> table = build();
  return table;
}

const SpecialReg* find_special_register(std::string_view name) {
  for (const auto& r : special_registers())
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace weft::isa
