// One row of the instruction database: an instruction form.
//
// A form is a PTX mnemonic with a qualifier pattern, the types it takes, its operands (class, type,
// read/write role), the exact set of targets that accept it, and the lowest PTX ISA version. The
// pattern is written the way the PTX ISA manual writes the syntax:
//
//     "ld{sem:relaxed|acquire}{!scope}{space}{l1evict}{l2hint}{prefetch}{vec}{T}"
//
//   literal text  printed as is ("ld", ".sync.aligned")
//   {kind}        an optional qualifier of that kind, any of its values (see qualifier.h)
//   {kind:a|b}    an optional qualifier restricted to these values
//   {!kind...}    the same, but required
//   {T} {U}       the form's first / second type, with its dot (cvt.rn{T}{U} -> cvt.rn.f32.s32)
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/isa/qualifier.h"
#include "codegen/isa/target.h"
#include "codegen/isa/types.h"

namespace weft::isa {

enum class OpClass : std::uint8_t {
  reg,         // a register
  reg_or_imm,  // a register or an immediate
  imm,         // an immediate only
  pred,        // a predicate register (for a read, `!p` is allowed where the form says so)
  mem,         // [address] : a register or symbol, plus an optional byte offset
  label,       // a branch target
  symbol,      // a named symbol (a function for `call`)
  sink_or_reg, // a register or the sink `_`
  sreg,        // a special register (%tid.x, %clock64, ...; see special_registers.h)
  tensor,      // [tensor-map, {c0, c1, ...}] : a TMA descriptor address and its coordinates
};

enum class Role : std::uint8_t { read, write, read_write };

// How an operand's type follows the instance: the form's first or second type, that type widened
// (mul.wide), or a fixed type.
enum class TypeRef : std::uint8_t { t0, t1, t0_wide, t0_half, fixed };

struct OperandSpec {
  std::string_view name;
  OpClass cls = OpClass::reg;
  Role role = Role::read;
  TypeRef tref = TypeRef::t0;
  Type fixed = Type::none;
  bool vec = false;        // a {r0, r1, ...} list whose length follows the .v2/.v4 qualifier
  bool may_widen = false;  // ld/st/cvt: a wider integer register is accepted
  bool negatable = false;  // pred reads that accept !p
  bool optional = false;   // may be left out (call's return list)
  bool paren = false;      // printed as a (a, b) list (call's parameter lists)
  bool pipe_next = false;  // printed as `this|next` (elect.sync d|p)
  std::uint8_t list = 0;   // a {..} list of exactly this many registers (mov pack/unpack)
  std::uint16_t sink_min_sm = 0;  // sink_or_reg: the sink `_` needs at least this SM (mbarrier: 90)
  bool shared_address = false;    // mem: a shared-memory operand (the pattern says .shared), so a 32-bit address is fine
  std::uint32_t imm_multiple_of = 0;  // an immediate must be a multiple of this (barrier counts)
  std::vector<std::int64_t> imm_values;  // when not empty: the only immediates allowed (cp.async sizes)
  // An immediate here may not exceed the immediate of the operand with this name (cp.async's
  // src-size <= cp-size).
  std::string_view imm_at_most;
  // A register list whose length follows a qualifier's number (qual_number): .x4 -> 4 registers,
  // .m64n128k16 -> 128 / 2 = 64 accumulators. For tensor operands: the coordinate count (.2d).
  QualKind count_from = QualKind::count_;
  std::uint16_t count_mul = 1;
  std::uint16_t count_div = 1;
  QualKind present_if = QualKind::count_;  // operand exists only when this qualifier is set
  std::int64_t imm_min = std::numeric_limits<std::int64_t>::min();
  std::int64_t imm_max = std::numeric_limits<std::int64_t>::max();
};

// One piece of a parsed pattern.
struct Segment {
  enum class Kind : std::uint8_t { literal, qual, type0, type1 } kind = Kind::literal;
  std::string literal;        // Kind::literal
  QualKind qual{};            // Kind::qual
  std::bitset<kMaxQualValues> allowed;  // bit i set: value index i+1 allowed
  bool required = false;
};

struct Form {
  std::string_view id;       // unique, stable: "add.f32"
  std::string_view pattern;  // see above
  std::vector<Type> types0;  // allowed first types (empty: the pattern has no {T})
  std::vector<Type> types1;  // allowed second types
  std::vector<OperandSpec> operands;
  TargetSet targets;
  PtxVersion min_ptx = 0;
  std::string_view family;   // "arith", "memory", ... (docs group by it)
  std::string_view summary;  // one line for the docs and --help
  std::vector<std::pair<QualKind, QualKind>> exclusive;  // pairs that may not both be set
  // Exceptions to min_ptx on one target (cvt e4m3x2 needs 8.1 on sm_89, 7.8 elsewhere).
  std::vector<std::pair<std::string_view, PtxVersion>> ptx_on_target;
  // Qualifiers that raise the version on this form only (cvt.bf16.f32's .satfinite needs 8.1).
  std::vector<std::pair<QualKind, PtxVersion>> qual_min_ptx;
  // False for forms ptxas refuses to predicate ("Illegal to predicate instruction 'st.param'").
  bool guardable = true;
  // A qualifier whose value must be the same on every such instruction of a function (tcgen05's
  // .cta_group: ptxas refuses a function that mixes ::1 and ::2).
  QualKind uniform_in_function = QualKind::count_;

  // Filled in by the database when it loads the row.
  std::vector<Segment> segments;
  std::array<std::int8_t, kQualKinds> slot_of{};  // segment index per qualifier kind, -1 if none
  std::uint16_t index = 0;

  bool takes(QualKind k) const;
  const Segment* slot(QualKind k) const;
  PtxVersion min_ptx_for(const Target& t) const;
  // The version this form needs with these qualifiers on target t (form, target and qualifiers).
  PtxVersion min_ptx_for(const Target& t, const Quals& q) const;
};

// Per-value requirements that hold wherever the value appears (`.cluster` scope needs sm_90 and
// PTX 7.8; `.L2::cache_hint` needs PTX 7.4). The verifier and the version picker both use it.
struct QualRequirement {
  TargetSet targets;
  PtxVersion min_ptx = 0;
};
QualRequirement qual_requirement(QualKind k, std::uint8_t value);

// Parses a pattern; throws std::logic_error naming the form for a malformed one.
std::vector<Segment> parse_pattern(std::string_view form_id, std::string_view pattern);

}  // namespace weft::isa
