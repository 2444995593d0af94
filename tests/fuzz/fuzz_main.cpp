// weft_fuzz: the program fuzzer and the mutation fuzzer (docs/reliability.md).
//
//   weft_fuzz [--first N] [--count N] [--mode programs|mutations|all] [--targets sm_80,...]
//             [--batch N] [--sm-every N] [--jobs N] [--keep DIR] [--quiet]
//
// programs:  each seed makes a random program (two in three through the DSL, one in three from
//            instruction-database instances) for target known_targets()[seed % 11]. It is built,
//            verified and emitted; a DiagnosticError is counted (the verifier refused it), any other
//            exception is a failure. Emitted programs are assembled by ptxas, many files per call,
//            with -arch compute_XX (parse and check only, docs/decisions.md) and every --sm-every-th
//            batch also with -arch sm_XX (code generation). A rejection is a failure.
// mutations: each seed makes a DSL program and injects one misuse; the build must throw
//            DiagnosticError with a diagnostic at the injected file and line, and print no PTX.
// Every failure prints its seed and a minimised program (statements dropped while it persists).
// Exit status: 0 when nothing failed, 1 otherwise, 2 for usage errors.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <unistd.h>

#include "codegen/isa/target.h"
#include "codegen/printer.h"
#include "codegen/ptxas.h"
#include "tests/fuzz/fuzz.h"

using namespace weft;
using namespace weft::fuzz;
namespace fs = std::filesystem;

namespace {

// The seed being built, for a report if the process dies (a crash the C++ runtime cannot catch).
std::atomic<std::uint64_t> g_seed{0};
std::atomic<int> g_phase{0};  // 0 idle, 1 program, 2 mutation
void on_fatal(int sig) {
  char buf[160];
  const int n = std::snprintf(buf, sizeof buf, "\nweft_fuzz: FATAL signal %d while building %s seed %llu\n", sig,
                              g_phase == 2 ? "mutation" : "program", static_cast<unsigned long long>(g_seed.load()));
  if (n > 0) [[maybe_unused]] auto w = ::write(2, buf, static_cast<std::size_t>(n));
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct Options {
  std::uint64_t first = 1, count = 1000;
  std::string mode = "all";
  std::vector<isa::Target> targets;
  std::size_t batch = 48;
  std::size_t sm_every = 6;
  unsigned jobs = 2;
  std::string keep;
  bool quiet = false;
  std::size_t show_rejections = 0;  // print the first N verifier messages of checked programs
};

struct Stats {
  std::uint64_t programs = 0, dsl = 0, ir = 0, emitted = 0, rejected = 0, rejected_unchecked = 0;
  std::uint64_t ir_variations_refused = 0, statements = 0;
  std::uint64_t ptxas_calls = 0, files_compute = 0, files_sm = 0;
  std::uint64_t mutations = 0, mutations_ok = 0;
  std::map<std::string, std::uint64_t> per_target, per_misuse;
  std::vector<std::string> failures;
  // Programs on which ptxas itself crashed (killed by a signal): a toolchain bug, not a refusal of
  // weft's PTX. Reported with the seed, not counted as failures.
  std::vector<std::string> ptxas_crashes;
};

// ---- programs: one seed, either generator -------------------------------------------------------

bool is_ir(std::uint64_t seed) { return seed % 3 == 2; }

struct Built {
  enum class Result { emitted, rejected, crashed } result = Result::emitted;
  std::string ptx, error;
};

template <class P, class B>
Built build_and_emit(const P& p, B&& build) {
  Built b;
  try {
    b.ptx = emit_ptx(build(p));
  } catch (const DiagnosticError& e) {
    b.result = Built::Result::rejected;
    b.error = e.what();
  } catch (const std::exception& e) {
    b.result = Built::Result::crashed;
    b.error = std::string("exception: ") + e.what();
  } catch (...) {
    b.result = Built::Result::crashed;
    b.error = "a non-standard exception";
  }
  return b;
}

std::string arch_of(const isa::Target& t, bool virtual_arch) {
  auto a = t.name();
  if (virtual_arch) a.replace(0, 3, "compute_");
  return a;
}

// ---- ptxas -------------------------------------------------------------------------------------

struct Assembled {
  bool ok = true;
  bool crashed = false;  // ptxas died from a signal (ptxas::Result::exit_code -1)
  std::string output;
};

Assembled run_ptxas(const std::string& ptxas, const std::vector<std::string>& files, const std::string& arch) {
  std::vector<std::string> rest(files.begin() + 1, files.end());
  auto r = ptxas::assemble(ptxas, files[0], arch, "", rest);
  return {r.ok(), r.exit_code == -1, r.output};
}

std::string write_ptx(const fs::path& dir, const std::string& name, const std::string& ptx) {
  auto p = dir / (name + ".ptx");
  std::ofstream(p, std::ios::binary) << ptx;
  return p.string();
}

// ---- minimisation --------------------------------------------------------------------------------

// Drops statements (anywhere in the tree) and unwraps control flow while `fails` stays true.
void minimise_stmts(std::vector<Stmt>& ss, const std::function<bool()>& fails) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < ss.size(); ++i) {
      Stmt saved = ss[i];
      ss.erase(ss.begin() + static_cast<std::ptrdiff_t>(i));
      if (fails()) {
        changed = true;
        --i;
        continue;
      }
      ss.insert(ss.begin() + static_cast<std::ptrdiff_t>(i), saved);
      if (!saved.body.empty() || !saved.other.empty()) {
        // Replace the control flow by its body.
        std::vector<Stmt> inner = saved.body;
        inner.insert(inner.end(), saved.other.begin(), saved.other.end());
        ss.erase(ss.begin() + static_cast<std::ptrdiff_t>(i));
        ss.insert(ss.begin() + static_cast<std::ptrdiff_t>(i), inner.begin(), inner.end());
        if (fails()) {
          changed = true;
          --i;
          continue;
        }
        ss.erase(ss.begin() + static_cast<std::ptrdiff_t>(i), ss.begin() + static_cast<std::ptrdiff_t>(i + inner.size()));
        ss.insert(ss.begin() + static_cast<std::ptrdiff_t>(i), saved);
        minimise_stmts(ss[i].body, fails);
        minimise_stmts(ss[i].other, fails);
      }
    }
  }
}

void minimise_items(std::vector<IrItem>& items, const std::function<bool()>& fails) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
      IrItem saved = items[i];
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
      if (fails()) {
        changed = true;
        --i;
        continue;
      }
      items.insert(items.begin() + static_cast<std::ptrdiff_t>(i), saved);
    }
  }
}

class Fuzzer {
 public:
  Fuzzer(Options o, std::string ptxas) : opt_(std::move(o)), ptxas_(std::move(ptxas)) {
    dir_ = opt_.keep.empty() ? fs::temp_directory_path() / fmt::format("weft-fuzz-{}", ::getpid()) : fs::path(opt_.keep);
    fs::create_directories(dir_);
  }
  ~Fuzzer() {
    if (opt_.keep.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  void programs() {
    struct Pending {
      std::uint64_t seed;
      std::string file;
    };
    std::map<int, std::vector<Pending>> pending;
    std::map<int, std::size_t> flushes;
    std::vector<std::future<std::vector<std::uint64_t>>> inflight;
    auto collect = [&](bool all) {
      while (!inflight.empty() && (all || inflight.size() >= opt_.jobs)) {
        for (auto seed : inflight.front().get()) report_ptxas_failure(seed);
        inflight.erase(inflight.begin());
      }
    };
    auto flush = [&](int ti) {
      auto batch = std::move(pending[ti]);
      pending[ti].clear();
      if (batch.empty()) return;
      const auto& t = isa::known_targets()[static_cast<std::size_t>(ti)];
      const bool real = opt_.sm_every && flushes[ti]++ % opt_.sm_every == 0;
      stats_.ptxas_calls += 1 + (real ? 1 : 0);
      stats_.files_compute += batch.size();
      const std::size_t n_sm = real ? std::min<std::size_t>(batch.size(), 16) : 0;
      stats_.files_sm += n_sm;
      collect(false);
      inflight.push_back(std::async(std::launch::async, [this, batch, t, n_sm] {
        std::vector<std::string> files;
        for (const auto& b : batch) files.push_back(b.file);
        std::vector<std::uint64_t> bad;
        auto check = [&](const std::vector<std::string>& fs_, const std::vector<std::uint64_t>& seeds, bool virt) {
          if (fs_.empty() || run_ptxas(ptxas_, fs_, arch_of(t, virt)).ok) return;
          // Find every failing file on its own.
          for (std::size_t i = 0; i < fs_.size(); ++i)
            if (!run_ptxas(ptxas_, {fs_[i]}, arch_of(t, virt)).ok) bad.push_back(seeds[i]);
        };
        std::vector<std::uint64_t> seeds;
        for (const auto& b : batch) seeds.push_back(b.seed);
        check(files, seeds, true);
        if (n_sm)
          check({files.begin(), files.begin() + static_cast<std::ptrdiff_t>(n_sm)},
                {seeds.begin(), seeds.begin() + static_cast<std::ptrdiff_t>(n_sm)}, false);
        if (opt_.keep.empty())
          for (const auto& f : files) ::unlink(f.c_str());
        std::sort(bad.begin(), bad.end());
        bad.erase(std::unique(bad.begin(), bad.end()), bad.end());
        return bad;
      }));
    };

    for (std::uint64_t seed = opt_.first; seed < opt_.first + opt_.count; ++seed) {
      const auto& t = target_of(seed);
      g_seed = seed;
      g_phase = 1;
      ++stats_.programs;
      ++stats_.per_target[t.name()];
      Built b;
      bool unchecked = false;
      if (is_ir(seed)) {
        ++stats_.ir;
        auto p = generate_ir(seed, t);
        stats_.ir_variations_refused += p.rejected_instances;
        stats_.statements += p.items.size();
        b = build_and_emit(p, build_ir);
      } else {
        ++stats_.dsl;
        auto p = generate_dsl(seed, t);
        unchecked = p.unchecked;
        stats_.statements += count_stmts(p.stmts);
        b = build_and_emit(p, [](const DslProgram& x) { return build_dsl(x); });
      }
      g_phase = 0;
      switch (b.result) {
        case Built::Result::rejected:
          ++stats_.rejected;
          if (unchecked) ++stats_.rejected_unchecked;
          else if (shown_++ < opt_.show_rejections)
            fmt::print(stderr, "weft_fuzz: seed {} ({}, {}) refused: {}\n", seed, is_ir(seed) ? "IR" : "DSL", t.name(),
                       b.error.substr(0, 600));
          break;
        case Built::Result::crashed: report_crash(seed, b.error); break;
        case Built::Result::emitted: {
          ++stats_.emitted;
          const int ti = t.index();
          pending[ti].push_back({seed, write_ptx(dir_, fmt::format("fz{}.{}", seed, t.name()), b.ptx)});
          if (pending[ti].size() >= opt_.batch) flush(ti);
          break;
        }
      }
      if (!opt_.quiet && (seed - opt_.first + 1) % 5000 == 0)
        fmt::print(stderr, "weft_fuzz: {} programs ({} emitted, {} refused by the verifier), {} failures\n",
                   stats_.programs, stats_.emitted, stats_.rejected, stats_.failures.size());
    }
    for (auto& [ti, v] : pending) flush(ti);
    collect(true);
  }

  void mutations() {
    for (std::uint64_t seed = opt_.first; seed < opt_.first + opt_.count; ++seed) {
      const auto& t = target_of(seed);
      g_seed = seed;
      g_phase = 2;
      auto p = generate_dsl(seed, t);
      p.unchecked = false;
      Rng r(seed * 31 + 7);
      Injection inj;
      inj.kind = static_cast<Misuse>((seed / opt_.targets.size()) % static_cast<int>(Misuse::count_));
      while (!misuse_possible(inj.kind, t)) inj.kind = static_cast<Misuse>((static_cast<int>(inj.kind) + 1) % static_cast<int>(Misuse::count_));
      inj.at = r.below(static_cast<std::uint32_t>(p.stmts.size() + 1));
      inj.variant = r.below(1 << 20);
      ++stats_.mutations;
      ++stats_.per_misuse[misuse_name(inj.kind)];
      std::string why;
      if (mutation_fails(p, inj, &why)) {
        auto small = p;
        minimise_stmts(small.stmts, [&] {
          Injection i2 = inj;
          i2.at = std::min(inj.at, small.stmts.size());
          return mutation_fails(small, i2, nullptr);
        });
        Injection i2 = inj;
        i2.at = std::min(inj.at, small.stmts.size());
        InjectedAt at;
        try {
          build_dsl(small, &i2, &at);
        } catch (...) {
        }
        fail(fmt::format("mutation seed {} ({}, target {}): {}\ninjected at {}:{} ({}) before top-level statement {}\n"
                         "minimised program ({} statements):\n{}",
                         seed, misuse_name(inj.kind), t.name(), why, at.file, at.line, at.what, i2.at,
                         count_stmts(small.stmts), describe(small)));
      } else {
        ++stats_.mutations_ok;
      }
      g_phase = 0;
    }
  }

  const Stats& stats() const { return stats_; }

 private:
  const isa::Target& target_of(std::uint64_t seed) const { return opt_.targets[seed % opt_.targets.size()]; }

  // True (with the reason) when the injected misuse did not give a diagnostic at its line.
  bool mutation_fails(const DslProgram& p, const Injection& inj, std::string* why) {
    InjectedAt at;
    try {
      auto m = build_dsl(p, &inj, &at);
      std::string ptx;
      try {
        ptx = emit_ptx(m);
      } catch (const DiagnosticError&) {
        if (why) *why = "build() accepted the module but emit_ptx refused it";
        return true;
      }
      if (why) *why = "no diagnostic: PTX was produced:\n" + ptx.substr(0, 4000);
      return true;
    } catch (const DiagnosticError& e) {
      for (const auto& d : e.diagnostics())
        if (d.loc.line == at.line && std::strcmp(d.loc.file, at.file) == 0) return false;
      if (why) *why = fmt::format("diagnostics, but none at the injected line:\n{}", e.what());
      return true;
    } catch (const std::exception& e) {
      if (why) *why = std::string("an exception other than DiagnosticError: ") + e.what();
      return true;
    }
  }

  void report_crash(std::uint64_t seed, const std::string& error) {
    const auto& t = target_of(seed);
    if (is_ir(seed)) {
      auto p = generate_ir(seed, t);
      minimise_items(p.items, [&] { return build_and_emit(p, build_ir).result == Built::Result::crashed; });
      fail(fmt::format("program seed {} (IR, target {}): {}\nminimised program:\n{}", seed, t.name(), error, describe(p)));
    } else {
      auto p = generate_dsl(seed, t);
      auto build = [](const DslProgram& x) { return build_dsl(x); };
      minimise_stmts(p.stmts, [&] { return build_and_emit(p, build).result == Built::Result::crashed; });
      fail(fmt::format("program seed {} (DSL, target {}): {}\nminimised program:\n{}", seed, t.name(), error, describe(p)));
    }
  }

  // Re-assembles alone, on both architectures; minimises against whichever refuses it.
  void report_ptxas_failure(std::uint64_t seed) {
    const auto& t = target_of(seed);
    auto assemble = [&](const std::string& ptx, bool virt) {
      const auto f = write_ptx(dir_, fmt::format("min{}", seed), ptx);
      auto r = run_ptxas(ptxas_, {f}, arch_of(t, virt));
      return r;
    };
    auto refused = [&](const Built& b, bool virt) {
      return b.result == Built::Result::emitted && !assemble(b.ptx, virt).ok;
    };
    std::string ptx, log;
    std::string text;
    if (is_ir(seed)) {
      auto p = generate_ir(seed, t);
      const bool virt = refused(build_and_emit(p, build_ir), true);
      minimise_items(p.items, [&] { return refused(build_and_emit(p, build_ir), virt); });
      ptx = build_and_emit(p, build_ir).ptx;
      log = assemble(ptx, virt).output;
      text = describe(p);
    } else {
      auto p = generate_dsl(seed, t);
      auto build = [](const DslProgram& x) { return build_dsl(x); };
      const bool virt = refused(build_and_emit(p, build), true);
      minimise_stmts(p.stmts, [&] { return refused(build_and_emit(p, build), virt); });
      ptx = build_and_emit(p, build).ptx;
      log = assemble(ptx, virt).output;
      text = describe(p);
    }
    if (assemble(ptx, false).crashed || assemble(ptx, true).crashed) {
      const auto note = fmt::format("program seed {} ({}, target {}): ptxas crashed (a toolchain bug)\n{}", seed,
                                    is_ir(seed) ? "IR" : "DSL", t.name(), text);
      fmt::print(stderr, "\nweft_fuzz: PTXAS CRASH {}\n", note);
      stats_.ptxas_crashes.push_back(note);
      return;
    }
    fail(fmt::format("program seed {} ({}, target {}): ptxas rejects what weft's verifier accepted\nptxas: {}\n"
                     "minimised program:\n{}\nits PTX:\n{}",
                     seed, is_ir(seed) ? "IR" : "DSL", t.name(), log, text, ptx));
  }

  void fail(std::string text) {
    fmt::print(stderr, "\nweft_fuzz: FAILURE {}\n", text);
    stats_.failures.push_back(std::move(text));
  }

  Options opt_;
  std::string ptxas_;
  fs::path dir_;
  Stats stats_;
  std::size_t shown_ = 0;
};

int usage(const std::string& why) {
  fmt::print(stderr, "weft_fuzz: {}\nusage: weft_fuzz [--first N] [--count N] [--mode programs|mutations|all] "
                     "[--targets sm_80,...] [--batch N] [--sm-every N] [--jobs N] [--keep DIR] [--quiet] [--strict]\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGSEGV, on_fatal);
  std::signal(SIGABRT, on_fatal);
  std::signal(SIGFPE, on_fatal);
  std::signal(SIGBUS, on_fatal);
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--first") o.first = std::stoull(value());
      else if (a == "--count") o.count = std::stoull(value());
      else if (a == "--mode") o.mode = value();
      else if (a == "--batch") o.batch = std::max<std::size_t>(1, std::stoull(value()));
      else if (a == "--sm-every") o.sm_every = std::stoull(value());
      else if (a == "--jobs") o.jobs = std::max(1u, static_cast<unsigned>(std::stoul(value())));
      else if (a == "--keep") o.keep = value();
      else if (a == "--quiet") o.quiet = true;
      else if (a == "--strict") g_avoid_known_bugs = false;
      else if (a == "--show-rejections") o.show_rejections = std::stoull(value());
      else if (a == "--targets") {
        std::string list = value();
        for (std::size_t pos = 0; pos <= list.size();) {
          auto c = list.find(',', pos);
          if (c == std::string::npos) c = list.size();
          auto p = isa::parse_target(list.substr(pos, c - pos));
          if (!p.target) return usage(p.error);
          o.targets.push_back(*p.target);
          pos = c + 1;
        }
      } else return usage("unknown option " + a);
    }
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  if (o.mode != "programs" && o.mode != "mutations" && o.mode != "all") return usage("unknown mode " + o.mode);
  if (o.targets.empty()) o.targets.assign(isa::known_targets().begin(), isa::known_targets().end());

  const auto start = std::chrono::steady_clock::now();
  const auto loc = ptxas::find();
  const bool want_programs = o.mode != "mutations";
  if (want_programs && !loc.path) {
    fmt::print("weft_fuzz: skipped the program fuzzer: ptxas not found (looked at {})\n", loc.describe_search());
  }
  Fuzzer f(o, loc.path.value_or(""));
  if (want_programs && loc.path) f.programs();
  if (o.mode != "programs") f.mutations();
  const auto& s = f.stats();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (want_programs && loc.path) {
    fmt::print("programs: seeds {}..{} on {} targets: {} programs ({} DSL, {} IR, {} statements), {} emitted and "
               "assembled, {} refused by the verifier ({} of them unchecked programs); {} IR variations refused\n",
               o.first, o.first + o.count - 1, o.targets.size(), s.programs, s.dsl, s.ir, s.statements, s.emitted,
               s.rejected, s.rejected_unchecked, s.ir_variations_refused);
    fmt::print("ptxas: {} calls, {} files with -arch compute_XX, {} with -arch sm_XX\n", s.ptxas_calls, s.files_compute,
               s.files_sm);
  }
  if (o.mode != "programs") {
    fmt::print("mutations: seeds {}..{}: {} misuses injected, {} diagnosed at their line;", o.first,
               o.first + o.count - 1, s.mutations, s.mutations_ok);
    for (const auto& [k, n] : s.per_misuse) fmt::print(" {}: {};", k, n);
    fmt::print("\n");
  }
  if (!s.ptxas_crashes.empty())
    fmt::print("{} programs crashed ptxas itself (a toolchain bug, reported above with their seeds)\n",
               s.ptxas_crashes.size());
  fmt::print("{} failures in {:.1f} s\n", s.failures.size(), secs);
  return s.failures.empty() ? 0 : 1;
}
