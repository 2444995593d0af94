// weft IR: a module of functions; each a list of instructions over typed virtual registers.
// An instruction is an instruction-database form plus its types, qualifiers and operands, and the
// author's source line. The IR is plain data: the DSL builds it, the verifier checks it, the
// printers lower it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/diagnostic.h"
#include "codegen/isa/form.h"
#include "codegen/isa/target.h"
#include "codegen/signature.h"

namespace weft::ir {

using RegId = std::uint32_t;
// The id of a DSL value that was never given one (a default-constructed Reg, Pred or Ptr): the builder
// refuses an instruction that names it, instead of printing a register nobody wrote.
inline constexpr RegId kNoReg = 0xffffffffu;
using LabelId = std::uint32_t;

struct Operand {
  enum class Kind : std::uint8_t {
    reg, imm_int, imm_float, mem_reg, mem_symbol, label, symbol, sreg, sink, reg_list, symbol_list,
    tensor_reg, tensor_symbol  // [base, {coords}]: base in `reg` or `name`, coordinates in `regs`
  };
  Kind kind = Kind::reg;
  RegId reg = 0;               // reg, mem_reg base
  bool negated = false;        // !p
  std::int64_t value = 0;      // imm_int; byte offset for mem_*
  double fvalue = 0;           // imm_float
  std::string name;            // symbol, mem_symbol, sreg
  LabelId label = 0;
  std::vector<RegId> regs;     // reg_list
  std::vector<std::string> names;  // symbol_list

  static Operand r(RegId id, bool neg = false) { Operand o; o.reg = id; o.negated = neg; return o; }
  static Operand imm(std::int64_t v) { Operand o; o.kind = Kind::imm_int; o.value = v; return o; }
  static Operand fimm(double v) { Operand o; o.kind = Kind::imm_float; o.fvalue = v; return o; }
  static Operand mem(RegId base, std::int64_t off = 0) {
    Operand o; o.kind = Kind::mem_reg; o.reg = base; o.value = off; return o;
  }
  static Operand mem(std::string sym, std::int64_t off = 0) {
    Operand o; o.kind = Kind::mem_symbol; o.name = std::move(sym); o.value = off; return o;
  }
  static Operand lab(LabelId l) { Operand o; o.kind = Kind::label; o.label = l; return o; }
  static Operand sym(std::string s) { Operand o; o.kind = Kind::symbol; o.name = std::move(s); return o; }
  static Operand special(std::string s) { Operand o; o.kind = Kind::sreg; o.name = std::move(s); return o; }
  static Operand sink() { Operand o; o.kind = Kind::sink; return o; }
  static Operand list(std::vector<RegId> rs) { Operand o; o.kind = Kind::reg_list; o.regs = std::move(rs); return o; }
  static Operand tensor(RegId base, std::vector<RegId> coords) {
    Operand o; o.kind = Kind::tensor_reg; o.reg = base; o.regs = std::move(coords); return o;
  }
  static Operand tensor(std::string base, std::vector<RegId> coords) {
    Operand o; o.kind = Kind::tensor_symbol; o.name = std::move(base); o.regs = std::move(coords); return o;
  }
  static Operand symbols(std::vector<std::string> ns) {
    Operand o; o.kind = Kind::symbol_list; o.names = std::move(ns); return o;
  }
};

struct Instr {
  const isa::Form* form = nullptr;  // nullptr: this is a label definition
  isa::Type t0 = isa::Type::none;
  isa::Type t1 = isa::Type::none;
  isa::Quals quals;
  std::vector<Operand> ops;
  std::optional<Operand> guard;  // @p / @!p
  LabelId label = 0;             // label definitions only
  SourceLoc loc;
};

struct Param {
  std::string name;
  sig::ParamKind kind = sig::ParamKind::scalar;
  isa::Type type = isa::Type::u32;  // scalar: its type; pointer: u64; bytes: b8
  std::uint32_t size = 4;
  std::uint32_t align = 4;
  std::string space;    // pointer: the state space it addresses ("global")
  std::string pointee;  // pointer: element type name
  SourceLoc loc;
  std::string tma_box;  // bytes: a tensor map's box (rt::tma_box_key), empty for other bytes
};

struct SharedVar {
  std::string name;
  std::uint32_t size = 0;   // bytes; 0 for dynamic
  std::uint32_t align = 16;
  bool dynamic = false;     // .extern .shared name[] (sized at launch)
  SourceLoc loc;
};

struct Directives {
  std::array<std::uint32_t, 3> maxntid{0, 0, 0};
  std::array<std::uint32_t, 3> reqntid{0, 0, 0};
  std::uint32_t minnctapersm = 0;
  std::uint32_t maxnreg = 0;
  std::array<std::uint32_t, 3> cluster{0, 0, 0};  // .reqnctapercluster; 0: none
  std::uint32_t dynamic_smem = 0;  // bytes the launch should give by default (signature only)
};

struct Function {
  std::string name;
  bool entry = true;
  std::vector<Param> params;
  std::optional<Param> ret;            // .func only: the return value
  std::vector<isa::Type> regs;         // register id -> declared type
  std::vector<std::string> labels;     // label id -> readable hint
  std::vector<SharedVar> shared;
  std::vector<Param> call_params;      // .param variables for the arguments of calls it makes
  std::vector<Instr> body;
  Directives directives;
  SourceLoc loc;
  // Non-empty: this device function is a libdevice routine ("__nv_expf", see codegen/llvm/math.h).
  // `body` is a placeholder that only passes the verifier; both printers take the real body from
  // LLVM (the direct printer through set_external_ptx_provider in codegen/printer.h).
  std::string libdevice;
  // Registers the author declared as holding an address in another GPU's memory (a peer table
  // entry, dsl/comm/peer.h). The verifier follows them through address arithmetic and requires
  // .sys scope on every ld/st/atom/red through them (codegen/verify_peer.cpp).
  std::vector<RegId> peer_roots;

  // Static shared memory as ptxas lays it out: the static arrays at their alignments, then rounded up
  // to the largest alignment of a dynamic (.extern) array, which ptxas places after them (96 bytes of
  // barriers before a `.extern .align 1024` window count as 1024). What a launch adds its dynamic
  // bytes to; the verifier, the signature block and the launch check all use it.
  std::uint32_t static_shared_bytes() const;

  RegId new_reg(isa::Type t) {
    regs.push_back(t);
    return static_cast<RegId>(regs.size() - 1);
  }
  LabelId new_label(std::string hint) {
    labels.push_back(std::move(hint));
    return static_cast<LabelId>(labels.size() - 1);
  }
};

// A module-scope .global variable (the debug-wait report slot).
struct GlobalVar {
  std::string name;
  std::uint32_t size = 0;
  std::uint32_t align = 8;
};

struct Module {
  isa::Target target;
  std::vector<GlobalVar> globals;
  std::vector<Function> functions;  // device functions first: PTX needs a .func before its calls
  const Function* find(std::string_view name) const;
};

}  // namespace weft::ir
