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
      put(Word::complete, 1u);
    }, loc);
    // A trap ends the whole grid, and every thread of a stuck warpgroup times out at about the same
    // moment: the threads that lost the claim wait (briefly, bounded) for the winner's report to be
    // complete before trapping, or their trap could cut its writes short (the emulator showed a
    // report with only `taken` written).
    auto start = k.globaltimer(loc);
    auto again = k.label("report_wait", loc);
    auto written = k.label("report_written", loc);
    k.place(again, loc);
    auto complete = k.ld(report + static_cast<std::int64_t>(Word::complete), {q::volatile_}, loc);
    k.bra_if(complete != 0u, written, loc);
    k.bra_if(k.globaltimer(loc) - start < kReportWaitNs, again, loc);
    k.place(written, loc);
  }, loc);
  k.trap(loc);
}

}  // namespace weft::detail
