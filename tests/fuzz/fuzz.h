// The program fuzzer's pieces: a deterministic random source, random DSL programs (a statement tree
// that an interpreter turns into KernelBuilder calls), random IR programs (instruction-database
// instances with random qualifiers, operands, guards and branches), and the misuse injections of the
// mutation fuzzer. See docs/reliability.md.
//
// A program is data (a list of statements or instructions) so that a failure can be minimised by
// dropping statements and replaying the rest: every statement picks its operands from typed pools
// that are never empty, so any subset of a program is still a well-typed program.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/ir/module.h"
#include "codegen/isa/target.h"

namespace weft::fuzz {

// splitmix64: the same sequence on every platform and standard library (std::uniform_*_distribution
// is not), so a seed reproduces a program everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) { return n ? static_cast<std::uint32_t>(next() % n) : 0; }
  bool chance(std::uint32_t percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(static_cast<std::uint32_t>(v.size()))]; }

 private:
  std::uint64_t s_;
};

// ---------------------------------------------------------------- DSL programs

// The register types the DSL generator uses (8-bit types only live in memory).
enum class Ty : std::uint8_t { u16, s16, u32, s32, u64, s64, b16, b32, b64, f32, f64, f16, bf16, f16x2, bf16x2, pred };
inline constexpr int kDataTys = 15;  // every Ty but pred
const char* ty_name(Ty t);

enum class Kind : std::uint8_t {
  binary, unary, fma, compare, pred_logic, select, convert, bitcast, assign,
  ld_global, st_global, ld_vec, st_vec, ld_shared, st_shared, atom, red, atom_cas,
  shfl, vote, ballot, match_any, redux, elect, activemask,
  bar_sync, bar_arrive, bar_warp_sync, fence, membar, nanosleep, sreg,
  if_, if_else, while_, for_, for_unrolled, skip_block, back_loop, call, raw_lop3, exit_, count_
};

struct Stmt {
  Kind kind = Kind::binary;
  Ty t = Ty::u32, t2 = Ty::u32;
  std::uint32_t a = 0, b = 0, c = 0;  // operand picks: index into the pool of the type (mod its size)
  std::uint32_t variant = 0;          // which operator, qualifier set, operation, ...
  std::int64_t imm = 0;
  double fimm = 0;
  bool use_imm = false;
  std::vector<Stmt> body, other;      // control flow: then/else, loop bodies
};

struct DslProgram {
  std::uint64_t seed = 0;
  isa::Target target;
  bool unchecked = false;  // statements were not filtered by the database (most of these are rejected)
  std::uint32_t directives = 0;
  std::vector<Stmt> stmts;
};

DslProgram generate_dsl(std::uint64_t seed, const isa::Target& t);

// Misuse injected by the mutation fuzzer before top-level statement `at`.
enum class Misuse : std::uint8_t { wrong_type, wrong_target, bad_qualifiers, unplaced_label, bad_immediate, count_ };
const char* misuse_name(Misuse m);
struct Injection {
  std::size_t at = 0;
  Misuse kind = Misuse::wrong_type;
  std::uint32_t variant = 0;
};
// Where an injection's DSL call was made (this file and line); line 0 when none was made.
struct InjectedAt {
  const char* file = "";
  std::uint32_t line = 0;
  std::string what;  // "bar.sync 16", for reports
};

// Builds the program; returns the module or throws what the builder throws (DiagnosticError for a
// rejected program). With an injection, `at` receives where the misuse was written.
ir::Module build_dsl(const DslProgram& p, const Injection* inj = nullptr, InjectedAt* at = nullptr);
// Whether an injection of this kind can be made on this target (an illegal instruction needs one).
bool misuse_possible(Misuse m, const isa::Target& t);
// The program as readable pseudo-C++, one statement a line, for failure reports.
std::string describe(const DslProgram& p);
std::size_t count_stmts(const std::vector<Stmt>& s);

// ---------------------------------------------------------------- IR programs

struct IrItem {
  enum class What : std::uint8_t { instr, place, branch } what = What::instr;
  ir::Instr instr;       // What::instr
  std::uint32_t label = 0;  // place / branch: label index among the program's labels
  bool negated = false;     // branch: @!p
  bool uni = false;         // branch: bra.uni (unguarded)
};
struct IrProgram {
  std::uint64_t seed = 0;
  isa::Target target;
  std::vector<isa::Type> regs;  // register id -> type (the items' operands use these ids)
  std::uint32_t labels = 0;
  std::uint32_t branch_pred = 0;  // the predicate register branches test
  std::vector<IrItem> items;
  std::size_t rejected_instances = 0;  // random variations the verifier refused (not emitted)
};

IrProgram generate_ir(std::uint64_t seed, const isa::Target& t);

// The generators steer around the weft bugs listed in docs/reliability.md ("Known weft bugs") so
// that the default run stays green and finds new ones; `weft_fuzz --strict` turns this off.
inline bool g_avoid_known_bugs = true;
ir::Module build_ir(const IrProgram& p);
std::string describe(const IrProgram& p);

}  // namespace weft::fuzz
