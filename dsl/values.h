// Typed DSL values: registers, predicates, pointers, immediates, labels.
//
// A `Reg<T>` is a handle to a virtual register of the kernel being built (PTX's own model: it can
// be reassigned, so loops and accumulators are natural). Operators on registers emit instructions
// into the builder that made them. `Src<T>` is "a register or an immediate" and captures the
// author's source line where the conversion happens, which is how `a + b` knows its line.
#pragma once

#include <cstdint>
#include <source_location>
#include <type_traits>

#include "codegen/ir/module.h"
#include "dsl/types.h"

namespace weft {

class KernelBuilder;

template <DataType T>
class Reg {
 public:
  using type = T;
  Reg() = default;
  Reg(KernelBuilder* k, ir::RegId id, std::uint32_t fn) : k_(k), id_(id), fn_(fn) {}
  KernelBuilder* builder() const { return k_; }
  ir::RegId id() const { return id_; }
  std::uint32_t function() const { return fn_; }
  bool valid() const { return k_ != nullptr; }

 private:
  KernelBuilder* k_ = nullptr;
  ir::RegId id_ = ir::kNoReg;
  std::uint32_t fn_ = 0;
};

class Pred {
 public:
  Pred() = default;
  Pred(KernelBuilder* k, ir::RegId id, std::uint32_t fn, bool negated = false)
      : k_(k), id_(id), fn_(fn), negated_(negated) {}
  KernelBuilder* builder() const { return k_; }
  ir::RegId id() const { return id_; }
  std::uint32_t function() const { return fn_; }
  bool negated() const { return negated_; }
  // `!p`: the same register, negated where PTX allows it (guards, selp, vote); elsewhere a `not`.
  Pred operator!() const { return Pred(k_, id_, fn_, !negated_); }

 private:
  KernelBuilder* k_ = nullptr;
  ir::RegId id_ = ir::kNoReg;
  std::uint32_t fn_ = 0;
  bool negated_ = false;
};

// A register or an immediate of type T, with the source line of the expression that made it.
template <DataType T>
class Src {
 public:
  Src(Reg<T> r, std::source_location l = std::source_location::current())
      : reg_(r), is_reg_(true), loc_(SourceLoc::from(l)) {}
  template <class H>
    requires(!std::is_same_v<typename T::host, detail::NoImmediate> && std::is_arithmetic_v<H>)
  Src(H v, std::source_location l = std::source_location::current())
      : loc_(SourceLoc::from(l)) {
    if constexpr (std::is_floating_point_v<typename T::host>) {
      fvalue_ = static_cast<double>(v);
      is_float_ = true;
    } else {
      value_ = static_cast<std::int64_t>(v);
    }
  }
  bool is_reg() const { return is_reg_; }
  Reg<T> reg() const { return reg_; }
  std::int64_t value() const { return value_; }
  ir::Operand operand() const {
    if (is_reg_) return ir::Operand::r(reg_.id());
    return is_float_ ? ir::Operand::fimm(fvalue_) : ir::Operand::imm(value_);
  }
  SourceLoc loc() const { return loc_; }

 private:
  Reg<T> reg_;
  bool is_reg_ = false;
  bool is_float_ = false;
  std::int64_t value_ = 0;
  double fvalue_ = 0;
  SourceLoc loc_;
};

// A typed pointer: a register holding an address in a state space, plus a constant byte offset
// that folds into the memory operand ([%rd1+16]) instead of costing an add.
template <DataType T, class S = Global>
class Ptr {
 public:
  using element = T;
  using space_tag = S;
  static constexpr Space space = S::space;
  // Shared-memory addresses are 32-bit offsets into the CTA's window; others are 64-bit.
  using addr_type = std::conditional_t<S::space == Space::shared, u32, u64>;

  Ptr() = default;
  Ptr(Reg<addr_type> base, std::int64_t offset = 0) : base_(base), offset_(offset) {}
  Reg<addr_type> base() const { return base_; }
  std::int64_t offset() const { return offset_; }
  KernelBuilder* builder() const { return base_.builder(); }
  ir::Operand operand() const { return ir::Operand::mem(base_.id(), offset_); }
  // A constant element offset: no instruction.
  Ptr operator+(std::int64_t elements) const {
    return Ptr(base_, offset_ + elements * static_cast<std::int64_t>(isa::bytes(T::type)));
  }
  // Reinterpret as another element type at the same address.
  template <DataType U>
  Ptr<U, S> as() const { return Ptr<U, S>(base_, offset_); }

 private:
  Reg<addr_type> base_;
  std::int64_t offset_ = 0;
};

// A branch target inside the function being built.
struct Label {
  ir::LabelId id = 0;
};

}  // namespace weft
