#include "dsl/comm/flags.h"

#include "dsl/debug_wait.h"
#include "dsl/ops.h"

namespace weft::comm {

void signal(KernelBuilder& k, Ptr<u32, Global> flag, Src<u32> epoch, Loc loc) {
  k.st(flag, epoch, {q::release, q::sys}, loc);
}

void wait_flag(KernelBuilder& k, Ptr<u32, Global> flag, Src<u32> epoch, Src<u32> id, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  const auto l = SourceLoc::from(loc);
  auto target = epoch.is_reg() ? epoch.reg() : k.let<u32>(epoch, loc);
  auto sleep_ns = k.let<u32>(32u, loc);
  Reg<u64> start;  // debug waits: bounded by time, like Mbarrier::wait (nanosleep's length varies)
  if (k.target().debug_waits) start = k.globaltimer(loc);
  auto retry = k.label("flag_wait", loc);
  auto done = k.label("flag_done", loc);
  k.place(retry, loc);
  auto value = k.ld(flag, {q::acquire, q::sys}, loc);
  auto ahead = bitcast<s32>(value - Src<u32>(target, loc), loc);
  k.bra_if(ahead >= 0, done, loc);
  k.nanosleep(sleep_ns, loc);
  k.assign(sleep_ns, min(sleep_ns + Src<u32>(sleep_ns, loc), 1024u), loc);
  if (k.target().debug_waits) {
    auto waited = k.globaltimer(loc) - start;
    k.bra_if(waited < debug_wait::kWaitLimitNs, retry, loc);
    detail::report_wait_timeout(k, debug_wait::Kind::flag, id, Src<u32>(target, loc), Src<u32>(value, loc), l, loc);
  } else {
    k.bra(retry, loc);
  }
  k.place(done, loc);
}

}  // namespace weft::comm
