#include "dsl/debug_wait.h"

#include "dsl/ops.h"

namespace weft::detail {

void report_wait_timeout(KernelBuilder& k, debug_wait::Kind kind, Src<u32> id, Src<u32> expected,
                         Src<u32> observed, SourceLoc line, Loc loc) {
  using namespace debug_wait;
  auto holder = Ptr<u64, Global>(k.global_var(kSymbol, 8, 8, loc));
  auto report_addr = k.ld(holder, {}, loc);
  // Without an installed report (a null pointer: not loaded through weft::rt) the wait still traps.
  k.if_(report_addr != std::uint64_t{0}, [&] {
    auto report = Ptr<u32, Generic>(report_addr);
    auto first = k.atom_cas(report, 0u, 1u, {q::relaxed, q::sys}, loc);
    k.if_(first == 0u, [&] {
      auto put = [&](Word w, Src<u32> v) {
        k.st(report + static_cast<std::int64_t>(w), v.is_reg() ? v : Src<u32>(k.let<u32>(v, loc), loc), {q::volatile_}, loc);
      };
      put(Word::line, line.line);
      put(Word::id, id);
      put(Word::expected, expected);
      put(Word::kind, static_cast<std::uint32_t>(kind));
      put(Word::observed, observed);
      k.fence({q::sc, q::sys}, loc);
    }, loc);
  }, loc);
  k.trap(loc);
}

}  // namespace weft::detail
