// weft IR -> LLVM IR for the NVPTX target.
//
// Registers become allocas (mem2reg/SROA in the O3 pipeline turn them into SSA values), labels
// start basic blocks, a guarded instruction becomes a conditional block. Common forms lower to LLVM
// instructions and NVVM intrinsics; every other form becomes inline asm printed with weft's own
// mnemonic(), so each form the database has lowers (docs/llvm.md lists which is which).
#include "codegen/llvm/lower.h"

#include <fmt/format.h>

#include <bit>
#include <map>
#include <set>

#include "codegen/isa/database.h"
#include "codegen/mnemonic.h"

// LLVM headers last: they are heavy, and only this file and pipeline.cpp include them.
#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

namespace weft::llvm_backend::detail {

namespace {

using isa::QualKind;
using isa::Type;
using OK = ir::Operand::Kind;

// LLVM address spaces of the NVPTX target.
enum AS : unsigned { kGeneric = 0, kGlobal = 1, kShared = 3, kConst = 4, kLocal = 5, kParam = 101 };

bool is_signed(Type t) { return isa::info(t).kind == isa::TypeKind::signed_int; }
bool is_float(Type t) { return t == Type::f32 || t == Type::f64; }
bool is_int(Type t) {
  const auto k = isa::info(t).kind;
  return k == isa::TypeKind::signed_int || k == isa::TypeKind::unsigned_int || k == isa::TypeKind::bits;
}

// Thrown inside the lowering; turned into one Diagnostic at the instruction's line.
struct Unsupported {
  std::string what;
};

class ModuleLowering;

class FunctionLowering {
 public:
  FunctionLowering(ModuleLowering& ml, const ir::Function& f, llvm::Function* F);
  void run();

 private:
  // ---- types and values ----
  llvm::Type* storage(Type t);  // the register class a value of `t` lives in
  llvm::Type* value_type(Type t);  // the LLVM type an instruction of type `t` computes in
  llvm::Value* fit(llvm::Value* v, llvm::Type* to, bool sign = false);
  llvm::Value* read_reg(ir::RegId r);
  void write_reg(ir::RegId r, llvm::Value* v, bool sign = false);
  llvm::Value* read(const ir::Operand& o, Type want);
  llvm::Value* pred(const ir::Operand& o);
  llvm::Value* imm(const ir::Operand& o, Type want);
  llvm::Value* symbol_address(const std::string& name, unsigned as);  // i64 address in space `as`
  llvm::Value* address(const ir::Operand& o, unsigned as);           // a pointer in space `as`
  std::string q(const ir::Instr& in, QualKind k) const { return std::string(in.quals.spelling(k)); }
  unsigned space_of(const ir::Instr& in) const;

  // ---- instructions ----
  void instruction(const ir::Instr& in);
  bool native(const ir::Instr& in);
  bool memory(const ir::Instr& in, std::string_view op);
  bool arith(const ir::Instr& in, std::string_view op);
  bool compare_select(const ir::Instr& in, std::string_view op);
  bool convert(const ir::Instr& in);
  bool atomic(const ir::Instr& in, std::string_view op);
  bool warp_sync(const ir::Instr& in, std::string_view op);
  bool params_and_calls(const ir::Instr& in, std::string_view op);
  void inline_asm(const ir::Instr& in);
  llvm::CallInst* intrinsic(llvm::Intrinsic::ID id, llvm::ArrayRef<llvm::Value*> args,
                            llvm::ArrayRef<llvm::Type*> types = {});
  void ret();

  llvm::BasicBlock* block_for(ir::LabelId l);
  llvm::BasicBlock* new_block(const char* name) { return llvm::BasicBlock::Create(C, name, F); }

  ModuleLowering& ml_;
  const ir::Function& f_;
  llvm::Function* F;
  llvm::LLVMContext& C;
  llvm::IRBuilder<> b;
  std::vector<llvm::AllocaInst*> regs_;
  std::map<std::string, llvm::AllocaInst*> call_params_;  // .param variables of calls, by name
  std::map<std::string, llvm::Value*> args_;               // this function's parameters, by name
  llvm::AllocaInst* retval_ = nullptr;
  std::map<ir::LabelId, llvm::BasicBlock*> labels_;
  llvm::DISubprogram* sp_ = nullptr;
  unsigned asm_preds_ = 0;
};

class ModuleLowering {
 public:
  ModuleLowering(const ir::Module& m, llvm::LLVMContext& ctx, const Options& o, bool only_libdevice)
      : m_(m), C(ctx), o_(o), only_libdevice_(only_libdevice) {}

  Lowered run() {
    out_.module = std::make_unique<llvm::Module>("weft", C);
    M = out_.module.get();
    M->setTargetTriple("nvptx64-nvidia-cuda");
    M->setDataLayout("e-i64:64-i128:128-v16:16-v32:32-n16:32:64");
    if (o_.line_info && !only_libdevice_) {
      dib_ = std::make_unique<llvm::DIBuilder>(*M);
      const char* first = "";
      for (const auto& fn : m_.functions)
        if (fn.loc.known()) {
          first = fn.loc.file;
          break;
        }
      cu_ = dib_->createCompileUnit(llvm::dwarf::DW_LANG_C_plus_plus_14, file(first), "weft", true, "", 0, "",
                                    llvm::DICompileUnit::DebugDirectivesOnly);
      M->addModuleFlag(llvm::Module::Warning, "Debug Info Version", llvm::DEBUG_METADATA_VERSION);
      M->addModuleFlag(llvm::Module::Warning, "Dwarf Version", 2);
    }
    M->addModuleFlag(llvm::Module::Override, "nvvm-reflect-ftz", o_.ftz ? 1 : 0);
    for (const auto& g : m_.globals) {
      if (only_libdevice_) break;  // the direct printer declares them
      auto* ty = llvm::ArrayType::get(llvm::Type::getInt8Ty(C), g.size);
      auto* gv = new llvm::GlobalVariable(*M, ty, false, llvm::GlobalValue::ExternalLinkage,
                                          llvm::Constant::getNullValue(ty), g.name, nullptr,
                                          llvm::GlobalValue::NotThreadLocal, kGlobal);
      gv->setAlignment(llvm::Align(g.align ? g.align : 1));
      globals_[g.name] = gv;
    }
    // Declare every function first, so calls resolve whatever the order.
    for (const auto& fn : m_.functions) {
      if (only_libdevice_ && fn.libdevice.empty()) continue;
      declare(fn);
    }
    for (const auto& fn : m_.functions) {
      if (only_libdevice_ && fn.libdevice.empty()) continue;
      auto* F = functions_.at(fn.name);
      if (!fn.libdevice.empty()) {
        libdevice_body(fn, F);
        continue;
      }
      FunctionLowering(*this, fn, F).run();
      if (fn.entry) annotate(fn, F);
    }
    if (dib_) dib_->finalize();
    return std::move(out_);
  }

  llvm::Type* scalar_type(Type t) {
    switch (isa::storage_type(t)) {
      case Type::pred: return llvm::Type::getInt1Ty(C);
      case Type::f32: return llvm::Type::getFloatTy(C);
      case Type::f64: return llvm::Type::getDoubleTy(C);
      case Type::b16: return llvm::Type::getInt16Ty(C);
      case Type::b32: return llvm::Type::getInt32Ty(C);
      case Type::b64: return llvm::Type::getInt64Ty(C);
      default: return llvm::Type::getInt128Ty(C);
    }
  }

  llvm::DIFile* file(const char* path) {
    std::string p = path && *path ? path : "<weft>";
    auto [it, fresh] = files_.try_emplace(p, nullptr);
    if (fresh) {
      const auto slash = p.rfind('/');
      it->second = slash == std::string::npos ? dib_->createFile(p, ".")
                                              : dib_->createFile(p.substr(slash + 1), p.substr(0, slash));
    }
    return it->second;
  }

  const ir::Module& m_;
  llvm::LLVMContext& C;
  const Options& o_;
  bool only_libdevice_;
  llvm::Module* M = nullptr;
  Lowered out_;
  std::unique_ptr<llvm::DIBuilder> dib_;
  llvm::DICompileUnit* cu_ = nullptr;
  std::map<std::string, llvm::DIFile*> files_;
  std::map<std::string, llvm::Function*> functions_;
  std::map<std::string, llvm::GlobalVariable*> globals_;  // module .global variables
  // Shared arrays per function (LLVM puts them at module scope; names are made unique).
  std::map<std::pair<const ir::Function*, std::string>, llvm::GlobalVariable*> shared_;

 private:
  void declare(const ir::Function& fn) {
    std::vector<llvm::Type*> params;
    for (const auto& p : fn.params) {
      if (p.kind == sig::ParamKind::bytes)
        params.push_back(llvm::PointerType::get(C, kGeneric));
      else if (p.kind == sig::ParamKind::pointer)
        params.push_back(llvm::PointerType::get(C, kGeneric));
      else
        params.push_back(scalar_type(p.type));
    }
    auto* ret = fn.ret ? scalar_type(fn.ret->type) : llvm::Type::getVoidTy(C);
    auto* fty = llvm::FunctionType::get(ret, params, false);
    const bool visible = fn.entry || only_libdevice_;
    auto* F = llvm::Function::Create(fty, visible ? llvm::GlobalValue::ExternalLinkage : llvm::GlobalValue::InternalLinkage,
                                     fn.name, M);
    if (F->getName() != fn.name)
      throw DiagnosticError({{fn.loc, fmt::format("function name '{}' clashes with another LLVM symbol", fn.name)}});
    F->addFnAttr("target-cpu", cpu_name(m_.target));
    F->addFnAttr(llvm::Attribute::NoUnwind);
    for (std::size_t i = 0; i < fn.params.size(); ++i) {
      F->getArg(static_cast<unsigned>(i))->setName(fn.params[i].name);
      const auto& p = fn.params[i];
      if (p.kind == sig::ParamKind::bytes) {
        auto* arr = llvm::ArrayType::get(llvm::Type::getInt8Ty(C), p.size);
        F->addParamAttr(static_cast<unsigned>(i), llvm::Attribute::getWithByValType(C, arr));
        F->addParamAttr(static_cast<unsigned>(i), llvm::Attribute::getWithAlignment(C, llvm::Align(p.align)));

      }
    }
    functions_[fn.name] = F;
    // Shared arrays: static ones sized, dynamic ones external and unsized.
    for (const auto& s : fn.shared) {
      llvm::Type* ty = llvm::ArrayType::get(llvm::Type::getInt8Ty(C), s.dynamic ? 0 : s.size);
      std::string name = s.name;
      if (M->getNamedValue(name)) name = fn.name + "_" + s.name;
      auto* gv = new llvm::GlobalVariable(*M, ty, false,
                                          s.dynamic ? llvm::GlobalValue::ExternalLinkage : llvm::GlobalValue::InternalLinkage,
                                          s.dynamic ? nullptr : llvm::UndefValue::get(ty), name, nullptr,
                                          llvm::GlobalValue::NotThreadLocal, kShared);
      gv->setAlignment(llvm::Align(s.align ? s.align : 1));
      shared_[{&fn, s.name}] = gv;
    }
  }

  // A libdevice function: its body calls __nv_<name>, which the pipeline links from libdevice.
  void libdevice_body(const ir::Function& fn, llvm::Function* F) {
    auto decl = M->getOrInsertFunction(fn.libdevice, F->getFunctionType());
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(C, "entry", F));
    std::vector<llvm::Value*> args;
    for (auto& a : F->args()) args.push_back(&a);
    auto* call = b.CreateCall(decl, args);
    b.CreateRet(call);
    if (!only_libdevice_) F->addFnAttr(llvm::Attribute::AlwaysInline);
    if (std::find(out_.libdevice_calls.begin(), out_.libdevice_calls.end(), fn.libdevice) == out_.libdevice_calls.end())
      out_.libdevice_calls.push_back(fn.libdevice);
  }

  void annotate(const ir::Function& fn, llvm::Function* F) {
    auto* md = M->getOrInsertNamedMetadata("nvvm.annotations");
    auto add = [&](std::string_view key, std::uint32_t v) {
      llvm::Metadata* ops[] = {llvm::ValueAsMetadata::get(F), llvm::MDString::get(C, key),
                               llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(C), v))};
      md->addOperand(llvm::MDNode::get(C, ops));
    };
    add("kernel", 1);
    const auto& d = fn.directives;
    auto trio = [&](std::string_view name, const std::array<std::uint32_t, 3>& a) {
      if (!(a[0] || a[1] || a[2])) return;
      add(std::string(name) + "x", a[0] ? a[0] : 1);
      add(std::string(name) + "y", a[1] ? a[1] : 1);
      add(std::string(name) + "z", a[2] ? a[2] : 1);
    };
    trio("maxntid", d.maxntid);
    trio("reqntid", d.reqntid);
    if (d.minnctapersm) add("minctasm", d.minnctapersm);
    if (d.maxnreg) add("maxnreg", d.maxnreg);
    if (d.cluster[0] || d.cluster[1] || d.cluster[2])
      out_.clusters.push_back({fn.name, {d.cluster[0] ? d.cluster[0] : 1, d.cluster[1] ? d.cluster[1] : 1,
                                         d.cluster[2] ? d.cluster[2] : 1}});
  }
};

// ---------------------------------------------------------------------------------------------

FunctionLowering::FunctionLowering(ModuleLowering& ml, const ir::Function& f, llvm::Function* F)
    : ml_(ml), f_(f), F(F), C(ml.C), b(ml.C) {}

llvm::Type* FunctionLowering::storage(Type t) { return ml_.scalar_type(t); }

llvm::Type* FunctionLowering::value_type(Type t) {
  if (t == Type::pred) return b.getInt1Ty();
  if (t == Type::f32) return b.getFloatTy();
  if (t == Type::f64) return b.getDoubleTy();
  const unsigned bits = isa::bits(t);
  if (bits == 0) throw Unsupported{"an operand without a type"};
  return b.getIntNTy(bits);
}

llvm::Value* FunctionLowering::fit(llvm::Value* v, llvm::Type* to, bool sign) {
  auto* from = v->getType();
  if (from == to) return v;
  const unsigned fb = from->getPrimitiveSizeInBits(), tb = to->getPrimitiveSizeInBits();
  if (from->isIntegerTy() && to->isIntegerTy()) {
    if (fb == 1) return b.CreateZExt(v, to);
    if (tb == 1) return b.CreateICmpNE(v, llvm::ConstantInt::get(from, 0));
    return sign ? b.CreateSExtOrTrunc(v, to) : b.CreateZExtOrTrunc(v, to);
  }
  if (fb == tb) return b.CreateBitCast(v, to);
  // A float where an integer of another width is wanted (or the reverse): through its bits.
  if (from->isFloatingPointTy()) return fit(b.CreateBitCast(v, b.getIntNTy(fb)), to, sign);
  return b.CreateBitCast(fit(v, b.getIntNTy(tb), sign), to);
}

llvm::Value* FunctionLowering::read_reg(ir::RegId r) {
  if (r >= regs_.size()) throw Unsupported{fmt::format("register {} of another function", r)};
  return b.CreateLoad(regs_[r]->getAllocatedType(), regs_[r]);
}

void FunctionLowering::write_reg(ir::RegId r, llvm::Value* v, bool sign) {
  if (r >= regs_.size()) throw Unsupported{fmt::format("register {} of another function", r)};
  b.CreateStore(fit(v, regs_[r]->getAllocatedType(), sign), regs_[r]);
}

llvm::Value* FunctionLowering::imm(const ir::Operand& o, Type want) {
  auto* ty = value_type(want);
  if (o.kind == OK::imm_float) {
    if (ty->isFloatingPointTy()) return llvm::ConstantFP::get(ty, o.fvalue);
    if (isa::bits(want) == 64) return b.getInt64(std::bit_cast<std::uint64_t>(o.fvalue));
    return fit(b.getInt32(std::bit_cast<std::uint32_t>(static_cast<float>(o.fvalue))), ty);
  }
  if (ty->isFloatingPointTy()) {
    // PTX reads an integer literal in a float slot as that value.
    return llvm::ConstantFP::get(ty, static_cast<double>(o.value));
  }
  return llvm::ConstantInt::get(ty, static_cast<std::uint64_t>(o.value), is_signed(want));
}

llvm::Value* FunctionLowering::read(const ir::Operand& o, Type want) {
  switch (o.kind) {
    case OK::reg: {
      if (want == Type::pred) return pred(o);
      auto* v = read_reg(o.reg);
      // A wider integer register where a narrower type is read (ld/st/cvt): its low bits.
      return fit(v, value_type(want), is_signed(f_.regs[o.reg]));
    }
    case OK::imm_int:
    case OK::imm_float: return imm(o, want);
    default: throw Unsupported{"an operand kind this lowering does not read as a value"};
  }
}

llvm::Value* FunctionLowering::pred(const ir::Operand& o) {
  if (o.kind == OK::imm_int) return b.getInt1(o.value != 0);
  if (o.kind != OK::reg) throw Unsupported{"a predicate operand that is not a register"};
  auto* v = fit(read_reg(o.reg), b.getInt1Ty());
  return o.negated ? b.CreateNot(v) : v;
}

llvm::Value* FunctionLowering::symbol_address(const std::string& name, unsigned as) {
  llvm::Value* ptr = nullptr;
  if (auto it = ml_.shared_.find({&f_, name}); it != ml_.shared_.end()) ptr = it->second;
  else if (auto g = ml_.globals_.find(name); g != ml_.globals_.end()) ptr = g->second;
  else if (auto a = args_.find(name); a != args_.end() && a->second->getType()->isPointerTy()) {
    // A byte-array parameter (a TMA descriptor): its .param-space address, as the direct printer's
    // `mov.u64 %rd, name`. LLVM names kernel parameters <kernel>_param_<index>; taking the address
    // in IR instead would make LLVM 19 copy the parameter to local memory.
    const auto index = static_cast<llvm::Argument*>(a->second)->getArgNo();
    auto* fty = llvm::FunctionType::get(b.getInt64Ty(), false);
    auto* ia = llvm::InlineAsm::get(fty, fmt::format("mov.u64 $0, {}_param_{};", F->getName().str(), index), "=l", false);
    return b.CreateCall(ia, {});
  }
  if (!ptr) throw Unsupported{fmt::format("the symbol '{}'", name)};
  const unsigned from = ptr->getType()->getPointerAddressSpace();
  if (from != as) {
    if (from != kGeneric) ptr = b.CreateAddrSpaceCast(ptr, llvm::PointerType::get(C, kGeneric));
    if (as != kGeneric) ptr = b.CreateAddrSpaceCast(ptr, llvm::PointerType::get(C, as));
  }
  return b.CreatePtrToInt(ptr, b.getInt64Ty());
}

llvm::Value* FunctionLowering::address(const ir::Operand& o, unsigned as) {
  llvm::Value* base = nullptr;
  if (o.kind == OK::mem_reg) {
    base = fit(read_reg(o.reg), b.getInt64Ty());
  } else if (o.kind == OK::mem_symbol) {
    base = symbol_address(o.name, as);
  } else {
    throw Unsupported{"an address that is not [reg+offset] or [symbol+offset]"};
  }
  if (o.value) base = b.CreateAdd(base, b.getInt64(static_cast<std::uint64_t>(o.value)));
  return b.CreateIntToPtr(base, llvm::PointerType::get(C, as));
}

unsigned FunctionLowering::space_of(const ir::Instr& in) const {
  const auto s = in.quals.spelling(QualKind::space);
  if (s.empty()) return kGeneric;
  if (s == "global") return kGlobal;
  if (s == "shared" || s == "shared::cta") return kShared;
  if (s == "local") return kLocal;
  if (s == "const") return kConst;
  if (s == "param") return kParam;
  throw Unsupported{fmt::format("the .{} state space", s)};
}

// LLVM is built without assertions: an overloaded intrinsic asked for without its overload types, or
// called with arguments of the wrong number or type, crashes it. Checked here, as a diagnostic.
llvm::CallInst* FunctionLowering::intrinsic(llvm::Intrinsic::ID id, llvm::ArrayRef<llvm::Value*> args,
                                            llvm::ArrayRef<llvm::Type*> types) {
  if (types.empty() && llvm::Intrinsic::isOverloaded(id))
    throw Unsupported{fmt::format("intrinsic {} asked for without its overload types (a weft bug)",
                                  llvm::Intrinsic::getBaseName(id).str())};
  auto* fn = llvm::Intrinsic::getDeclaration(ml_.M, id, types);
  auto* fty = fn->getFunctionType();
  bool ok = fty->getNumParams() == args.size();
  for (unsigned i = 0; ok && i < args.size(); ++i) ok = args[i]->getType() == fty->getParamType(i);
  if (!ok) throw Unsupported{fmt::format("intrinsic {} called with mismatched arguments (a weft bug)", fn->getName().str())};
  return b.CreateCall(fn, args);
}

llvm::BasicBlock* FunctionLowering::block_for(ir::LabelId l) {
  auto [it, fresh] = labels_.try_emplace(l, nullptr);
  if (fresh) it->second = new_block(l < f_.labels.size() ? f_.labels[l].c_str() : "label");
  return it->second;
}

void FunctionLowering::ret() {
  if (retval_)
    b.CreateRet(b.CreateLoad(retval_->getAllocatedType(), retval_));
  else
    b.CreateRetVoid();
}

void FunctionLowering::run() {
  auto* allocas = new_block("regs");
  b.SetInsertPoint(allocas);
  for (std::size_t i = 0; i < f_.regs.size(); ++i)
    regs_.push_back(b.CreateAlloca(storage(f_.regs[i]), nullptr, fmt::format("r{}", i)));
  for (const auto& p : f_.call_params) call_params_[p.name] = b.CreateAlloca(storage(p.type), nullptr, p.name);
  if (f_.ret) retval_ = b.CreateAlloca(storage(f_.ret->type), nullptr, "retval");
  for (std::size_t i = 0; i < f_.params.size(); ++i) args_[f_.params[i].name] = F->getArg(static_cast<unsigned>(i));

  if (ml_.dib_ && f_.loc.known()) {
    auto* file = ml_.file(f_.loc.file);
    auto* sty = ml_.dib_->createSubroutineType(ml_.dib_->getOrCreateTypeArray({}));
    sp_ = ml_.dib_->createFunction(file, f_.name, f_.name, file, f_.loc.line, sty, f_.loc.line,
                                   llvm::DINode::FlagZero, llvm::DISubprogram::SPFlagDefinition |
                                                               llvm::DISubprogram::SPFlagOptimized);
    F->setSubprogram(sp_);
  }

  auto* body = new_block("body");
  b.CreateBr(body);
  b.SetInsertPoint(body);
  std::vector<Diagnostic> diags;
  for (const auto& in : f_.body) {
    if (!in.form) {
      auto* bb = block_for(in.label);
      if (!b.GetInsertBlock()->getTerminator()) b.CreateBr(bb);
      b.SetInsertPoint(bb);
      continue;
    }
    if (b.GetInsertBlock()->getTerminator()) b.SetInsertPoint(new_block("dead"));
    if (sp_) {
      const auto& l = in.loc.known() ? in.loc : f_.loc;
      b.SetCurrentDebugLocation(llvm::DILocation::get(C, l.line, l.column, sp_));
    }
    try {
      instruction(in);
    } catch (const Unsupported& u) {
      diags.push_back({in.loc, fmt::format("the LLVM backend cannot lower '{}': {}", mnemonic(in), u.what),
                       "emit this kernel with the direct backend (weft emit --backend direct)"});
      if (!b.GetInsertBlock()->getTerminator()) b.SetInsertPoint(new_block("after_error"));
    }
  }
  if (!diags.empty()) throw DiagnosticError(std::move(diags));
  // Close every block: falling off the end returns (blocks nothing reaches are removed by LLVM).
  b.SetCurrentDebugLocation(llvm::DebugLoc());
  for (auto& bb : *F) {
    if (bb.getTerminator()) continue;
    b.SetInsertPoint(&bb);
    ret();
  }
}

void FunctionLowering::instruction(const ir::Instr& in) {
  const auto& id = in.form->id;
  if (id == "bra") {
    auto* target = block_for(in.ops.at(0).label);
    if (in.guard) {
      auto* next = new_block("fallthrough");
      b.CreateCondBr(pred(*in.guard), target, next);
      b.SetInsertPoint(next);
    } else {
      b.CreateBr(target);
    }
    return;
  }
  if (id == "ret" && !in.guard) {
    ret();
    return;
  }
  llvm::BasicBlock* cont = nullptr;
  if (in.guard) {
    auto* then = new_block("guarded");
    cont = new_block("after_guard");
    b.CreateCondBr(pred(*in.guard), then, cont);
    b.SetInsertPoint(then);
  }
  if (id == "ret") ret();
  else if (!native(in)) inline_asm(in);
  if (cont) {
    if (!b.GetInsertBlock()->getTerminator()) b.CreateBr(cont);
    b.SetInsertPoint(cont);
  }
}

bool FunctionLowering::native(const ir::Instr& in) {
  const auto op = isa::opcode(*in.form);
  const auto& id = in.form->id;
  if (id == "trap") {
    intrinsic(llvm::Intrinsic::trap, {});
    return true;
  }
  if (params_and_calls(in, op)) return true;
  if (memory(in, op)) return true;
  if (arith(in, op)) return true;
  if (compare_select(in, op)) return true;
  if (op == "cvt" && convert(in)) return true;
  if ((op == "atom" || op == "red") && atomic(in, op)) return true;
  if (warp_sync(in, op)) return true;
  return false;
}

// ld.param / st.param / call / mov of symbols and special registers.
bool FunctionLowering::params_and_calls(const ir::Instr& in, std::string_view) {
  const auto& id = in.form->id;
  if ((id == "ld.param" || id == "st.param") && !in.quals.has(QualKind::vec)) {
    const bool load = id == "ld.param";
    const auto& mem = in.ops.at(load ? 1 : 0);
    if (mem.kind != OK::mem_symbol || mem.value != 0) return false;
    if (load) {
      if (auto a = args_.find(mem.name); a != args_.end()) {
        llvm::Value* v = a->second;
        if (v->getType()->isPointerTy()) v = b.CreatePtrToInt(v, b.getInt64Ty());
        write_reg(in.ops[0].reg, fit(v, value_type(in.t0)), is_signed(in.t0));
        return true;
      }
      if (auto c = call_params_.find(mem.name); c != call_params_.end()) {
        write_reg(in.ops[0].reg, b.CreateLoad(c->second->getAllocatedType(), c->second), is_signed(in.t0));
        return true;
      }
      return false;
    }
    if (auto c = call_params_.find(mem.name); c != call_params_.end()) {
      b.CreateStore(fit(read(in.ops[1], in.t0), c->second->getAllocatedType()), c->second);
      return true;
    }
    if (f_.ret && mem.name == f_.ret->name && retval_) {
      b.CreateStore(fit(read(in.ops[1], in.t0), retval_->getAllocatedType()), retval_);
      return true;
    }
    return false;
  }
  if (id == "call") {
    const auto& rets = in.ops.at(0).names;
    const auto& callee = in.ops.at(1).name;
    const auto& argn = in.ops.at(2).names;
    auto it = ml_.functions_.find(callee);
    if (it == ml_.functions_.end()) throw Unsupported{fmt::format("a call to '{}', which is not in the module", callee)};
    auto* G = it->second;
    std::vector<llvm::Value*> args;
    for (std::size_t i = 0; i < argn.size(); ++i) {
      auto c = call_params_.find(argn[i]);
      if (c == call_params_.end() || i >= G->arg_size()) throw Unsupported{"a call argument that is not a .param variable"};
      args.push_back(fit(b.CreateLoad(c->second->getAllocatedType(), c->second), G->getArg(static_cast<unsigned>(i))->getType()));
    }
    auto* call = b.CreateCall(G, args);
    if (!rets.empty()) {
      auto c = call_params_.find(rets[0]);
      if (c == call_params_.end() || G->getReturnType()->isVoidTy()) throw Unsupported{"a call result that is not a .param variable"};
      b.CreateStore(fit(call, c->second->getAllocatedType()), c->second);
    }
    return true;
  }
  if (id == "mov.symbol") {
    const auto& s = in.ops.at(1).name;
    llvm::Value* addr = nullptr;
    if (ml_.shared_.count({&f_, s})) addr = symbol_address(s, kShared);
    else if (ml_.globals_.count(s)) addr = symbol_address(s, kGlobal);
    else addr = symbol_address(s, kParam);  // a byte-array parameter: its .param address
    write_reg(in.ops[0].reg, fit(addr, value_type(in.t0)));
    return true;
  }
  if (id == "mov.sreg") {
    static const std::map<std::string_view, llvm::Intrinsic::ID> sregs = {
        {"%tid.x", llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x},       {"%tid.y", llvm::Intrinsic::nvvm_read_ptx_sreg_tid_y},
        {"%tid.z", llvm::Intrinsic::nvvm_read_ptx_sreg_tid_z},       {"%ntid.x", llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x},
        {"%ntid.y", llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_y},     {"%ntid.z", llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_z},
        {"%ctaid.x", llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x},   {"%ctaid.y", llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_y},
        {"%ctaid.z", llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_z},   {"%nctaid.x", llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_x},
        {"%nctaid.y", llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_y}, {"%nctaid.z", llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_z},
        {"%laneid", llvm::Intrinsic::nvvm_read_ptx_sreg_laneid},     {"%warpid", llvm::Intrinsic::nvvm_read_ptx_sreg_warpid},
        {"%smid", llvm::Intrinsic::nvvm_read_ptx_sreg_smid},         {"%nsmid", llvm::Intrinsic::nvvm_read_ptx_sreg_nsmid},
        {"%clock64", llvm::Intrinsic::nvvm_read_ptx_sreg_clock64},   {"%globaltimer", llvm::Intrinsic::nvvm_read_ptx_sreg_globaltimer},
    };
    auto it = sregs.find(in.ops.at(1).name);
    if (it == sregs.end()) return false;
    write_reg(in.ops[0].reg, intrinsic(it->second, {}));
    return true;
  }
  if (id == "mov") {
    const auto& src = in.ops.at(1);
    if (src.kind != OK::reg && src.kind != OK::imm_int && src.kind != OK::imm_float) return false;
    write_reg(in.ops[0].reg, read(src, in.t0), is_signed(in.t0));
    return true;
  }
  return false;
}

// Plain loads and stores (no cache operators, eviction priorities or orderings), cvta, barriers.
bool FunctionLowering::memory(const ir::Instr& in, std::string_view op) {
  const auto& id = in.form->id;
  const bool plain = !in.quals.has(QualKind::cop) && !in.quals.has(QualKind::l1evict) &&
                     !in.quals.has(QualKind::l2hint) && !in.quals.has(QualKind::prefetch);
  const bool ld = id == "ld" || id == "ld.space" || id == "ld.nc" || id == "ld.volatile";
  const bool st = id == "st" || id == "st.space" || id == "st.volatile";
  if ((ld || st) && plain) {
    const auto sp = in.quals.spelling(QualKind::space);
    if (sp == "shared::cluster") return false;
    const unsigned as = space_of(in);
    const auto& mem = in.ops.at(ld ? 1 : 0);
    const auto& val = in.ops.at(ld ? 0 : 1);
    const unsigned n = in.quals.has(QualKind::vec) ? (q(in, QualKind::vec) == "v4" ? 4 : 2) : 1;
    auto* ety = value_type(in.t0);
    llvm::Type* ty = n == 1 ? ety : llvm::FixedVectorType::get(ety, n);
    const auto align = llvm::Align(isa::bytes(in.t0) * n);
    auto* ptr = address(mem, as);
    const bool vol = id == "ld.volatile" || id == "st.volatile";
    if (ld) {
      auto* l = b.CreateAlignedLoad(ty, ptr, align, vol);
      if (id == "ld.nc") l->setMetadata(llvm::LLVMContext::MD_invariant_load, llvm::MDNode::get(C, {}));
      if (n == 1) {
        write_reg(val.reg, l, is_signed(in.t0));
      } else {
        for (unsigned i = 0; i < n; ++i) write_reg(val.regs.at(i), b.CreateExtractElement(l, i), is_signed(in.t0));
      }
    } else {
      llvm::Value* v;
      if (n == 1) {
        v = read(val, in.t0);
      } else {
        v = llvm::PoisonValue::get(ty);
        for (unsigned i = 0; i < n; ++i) v = b.CreateInsertElement(v, read(ir::Operand::r(val.regs.at(i)), in.t0), i);
      }
      b.CreateAlignedStore(v, ptr, align, vol);
    }
    return true;
  }
  if (id == "cvta.to" || id == "cvta") {
    const unsigned as = space_of(in);
    auto* p = b.CreateIntToPtr(read(in.ops.at(1), Type::u64), llvm::PointerType::get(C, id == "cvta" ? as : kGeneric));
    auto* c = b.CreateAddrSpaceCast(p, llvm::PointerType::get(C, id == "cvta" ? kGeneric : as));
    write_reg(in.ops[0].reg, b.CreatePtrToInt(c, value_type(in.t0)));
    return true;
  }
  if (id == "bar.sync" && in.ops.at(0).kind == OK::imm_int && in.ops[0].value == 0) {
    intrinsic(llvm::Intrinsic::nvvm_barrier0, {});
    return true;
  }
  if (id == "bar.warp.sync") {
    intrinsic(llvm::Intrinsic::nvvm_bar_warp_sync, {read(in.ops.at(0), Type::u32)});
    return true;
  }
  if (id == "mbarrier.init" && (q(in, QualKind::space) == "shared" || q(in, QualKind::space) == "shared::cta")) {
    intrinsic(llvm::Intrinsic::nvvm_mbarrier_init_shared, {address(in.ops.at(0), kShared), read(in.ops.at(1), Type::u32)});
    return true;
  }
  if ((id == "cp.async.ca" || id == "cp.async.cg") && in.ops.size() == 3 && in.ops[2].kind == OK::imm_int) {
    const auto size = in.ops[2].value;
    llvm::Intrinsic::ID iid;
    if (id == "cp.async.cg") iid = llvm::Intrinsic::nvvm_cp_async_cg_shared_global_16;
    else if (size == 4) iid = llvm::Intrinsic::nvvm_cp_async_ca_shared_global_4;
    else if (size == 8) iid = llvm::Intrinsic::nvvm_cp_async_ca_shared_global_8;
    else iid = llvm::Intrinsic::nvvm_cp_async_ca_shared_global_16;
    intrinsic(iid, {address(in.ops[0], kShared), address(in.ops[1], kGlobal)});
    return true;
  }
  if (id == "cp.async.commit_group") {
    intrinsic(llvm::Intrinsic::nvvm_cp_async_commit_group, {});
    return true;
  }
  if (id == "cp.async.wait_group" && in.ops.at(0).kind == OK::imm_int) {
    intrinsic(llvm::Intrinsic::nvvm_cp_async_wait_group, {b.getInt32(static_cast<std::uint32_t>(in.ops[0].value))});
    return true;
  }
  if (id == "ldmatrix" && q(in, QualKind::num) == "x4" && !in.quals.has(QualKind::trans)) {
    auto* p = address(in.ops.at(1), kShared);  // the intrinsic is overloaded on its pointer's type
    auto* r = intrinsic(llvm::Intrinsic::nvvm_ldmatrix_sync_aligned_m8n8_x4_b16, {p}, {p->getType()});
    for (unsigned i = 0; i < 4; ++i) write_reg(in.ops[0].regs.at(i), b.CreateExtractValue(r, i));
    return true;
  }
  (void)op;
  return false;
}

// Integer and f32/f64 arithmetic and logic without rounding, ftz or saturation qualifiers (PTX's
// default rounding is round-to-nearest, which is LLVM's).
bool FunctionLowering::arith(const ir::Instr& in, std::string_view op) {
  const Type t = in.t0;
  if (in.quals.has(QualKind::ftz) || in.quals.has(QualKind::sat) || in.quals.has(QualKind::prec) ||
      in.quals.has(QualKind::relu))
    return false;
  const auto rnd = q(in, QualKind::rnd);
  auto d = [&] { return in.ops.at(0).reg; };
  auto a = [&](std::size_t i, Type tt) { return read(in.ops.at(i), tt); };
  if (t == Type::pred && (op == "and" || op == "or" || op == "xor" || op == "not")) {
    llvm::Value* r = op == "not" ? b.CreateNot(pred(in.ops.at(1)))
                   : op == "and" ? b.CreateAnd(pred(in.ops.at(1)), pred(in.ops.at(2)))
                   : op == "or"  ? b.CreateOr(pred(in.ops.at(1)), pred(in.ops.at(2)))
                                 : b.CreateXor(pred(in.ops.at(1)), pred(in.ops.at(2)));
    write_reg(d(), r);
    return true;
  }
  if (is_int(t) && isa::bits(t) >= 16 && isa::bits(t) <= 64) {
    const bool s = is_signed(t);
    const auto mm = q(in, QualKind::mulmode);
    if (op == "add" || op == "sub") {
      write_reg(d(), op == "add" ? b.CreateAdd(a(1, t), a(2, t)) : b.CreateSub(a(1, t), a(2, t)));
      return true;
    }
    if ((op == "mul" || op == "mad") && (mm == "lo" || mm == "wide")) {
      llvm::Value *x = a(1, t), *y = a(2, t);
      Type rt = t;
      if (mm == "wide") {
        rt = *isa::widened(t);
        auto* wt = value_type(rt);
        x = s ? b.CreateSExt(x, wt) : b.CreateZExt(x, wt);
        y = s ? b.CreateSExt(y, wt) : b.CreateZExt(y, wt);
      }
      llvm::Value* r = b.CreateMul(x, y);
      if (op == "mad") r = b.CreateAdd(r, a(3, rt));
      write_reg(d(), r, s);
      return true;
    }
    if (op == "div" || op == "rem") {
      llvm::Value *x = a(1, t), *y = a(2, t);
      write_reg(d(), op == "div" ? (s ? b.CreateSDiv(x, y) : b.CreateUDiv(x, y)) : (s ? b.CreateSRem(x, y) : b.CreateURem(x, y)));
      return true;
    }
    if (op == "min" || op == "max") {
      const auto iid = op == "min" ? (s ? llvm::Intrinsic::smin : llvm::Intrinsic::umin)
                                   : (s ? llvm::Intrinsic::smax : llvm::Intrinsic::umax);
      write_reg(d(), intrinsic(iid, {a(1, t), a(2, t)}, {value_type(t)}));
      return true;
    }
    if (op == "neg") {
      write_reg(d(), b.CreateNeg(a(1, t)));
      return true;
    }
    if (op == "abs") {
      write_reg(d(), intrinsic(llvm::Intrinsic::abs, {a(1, t), b.getFalse()}, {value_type(t)}));
      return true;
    }
    if (op == "and" || op == "or" || op == "xor") {
      auto *x = a(1, t), *y = a(2, t);
      write_reg(d(), op == "and" ? b.CreateAnd(x, y) : op == "or" ? b.CreateOr(x, y) : b.CreateXor(x, y));
      return true;
    }
    if (op == "not") {
      write_reg(d(), b.CreateNot(a(1, t)));
      return true;
    }
    if (op == "shl" || op == "shr") {
      // PTX clamps shift amounts at the width (shl: 0, shr: 0 or the sign); LLVM would give poison.
      auto* x = a(1, t);
      auto* ty = value_type(t);
      const unsigned w = isa::bits(t);
      const auto& amt_op = in.ops.at(2);
      if (amt_op.kind == OK::imm_int && amt_op.value >= 0 && amt_op.value < w) {
        auto* n = llvm::ConstantInt::get(ty, static_cast<std::uint64_t>(amt_op.value));
        write_reg(d(), op == "shl" ? b.CreateShl(x, n) : s ? b.CreateAShr(x, n) : b.CreateLShr(x, n));
        return true;
      }
      auto* n32 = read(amt_op, Type::u32);
      auto* big = b.CreateICmpUGE(n32, b.getInt32(w));
      auto* n = b.CreateZExtOrTrunc(b.CreateSelect(big, b.getInt32(w - 1), n32), ty);
      llvm::Value* r;
      if (op == "shl") r = b.CreateSelect(big, llvm::ConstantInt::get(ty, 0), b.CreateShl(x, n));
      else if (s) r = b.CreateAShr(x, n);  // w-1 already fills with the sign
      else r = b.CreateSelect(big, llvm::ConstantInt::get(ty, 0), b.CreateLShr(x, n));
      write_reg(d(), r);
      return true;
    }
    return false;
  }
  if (is_float(t)) {
    // add/sub/mul without a rounding qualifier may be contracted into fma by ptxas: say the same
    // to LLVM. With .rn they may not.
    llvm::FastMathFlags fmf;
    if (rnd.empty()) fmf.setAllowContract(true);
    llvm::IRBuilder<>::FastMathFlagGuard guard(b);
    b.setFastMathFlags(fmf);
    if ((op == "add" || op == "sub" || op == "mul") && (rnd.empty() || rnd == "rn")) {
      auto *x = a(1, t), *y = a(2, t);
      write_reg(d(), op == "add" ? b.CreateFAdd(x, y) : op == "sub" ? b.CreateFSub(x, y) : b.CreateFMul(x, y));
      return true;
    }
    if (op == "fma" && rnd == "rn") {
      write_reg(d(), intrinsic(llvm::Intrinsic::fma, {a(1, t), a(2, t), a(3, t)}, {value_type(t)}));
      return true;
    }
    if (op == "div" && rnd == "rn") {
      write_reg(d(), b.CreateFDiv(a(1, t), a(2, t)));
      return true;
    }
    if (op == "sqrt" && rnd == "rn") {
      write_reg(d(), intrinsic(llvm::Intrinsic::sqrt, {a(1, t)}, {value_type(t)}));
      return true;
    }
    if (op == "neg") {
      write_reg(d(), b.CreateFNeg(a(1, t)));
      return true;
    }
    if (op == "abs") {
      write_reg(d(), intrinsic(llvm::Intrinsic::fabs, {a(1, t)}, {value_type(t)}));
      return true;
    }
    if (op == "min" || op == "max") {
      // PTX min/max return the non-NaN operand: minnum/maxnum.
      write_reg(d(), intrinsic(op == "min" ? llvm::Intrinsic::minnum : llvm::Intrinsic::maxnum, {a(1, t), a(2, t)},
                               {value_type(t)}));
      return true;
    }
  }
  return false;
}

bool FunctionLowering::compare_select(const ir::Instr& in, std::string_view op) {
  const Type t = in.t0;
  if (op == "selp" && (is_int(t) || is_float(t))) {
    write_reg(in.ops.at(0).reg, b.CreateSelect(pred(in.ops.at(3)), read(in.ops.at(1), t), read(in.ops.at(2), t)));
    return true;
  }
  if (op != "setp" || in.quals.has(QualKind::ftz) || !(is_int(t) || is_float(t))) return false;
  const auto c = q(in, QualKind::cmp);
  auto* x = read(in.ops.at(1), t);
  auto* y = read(in.ops.at(2), t);
  llvm::Value* r = nullptr;
  using P = llvm::CmpInst::Predicate;
  if (is_float(t)) {
    static const std::map<std::string_view, P> fp = {
        {"eq", P::FCMP_OEQ},  {"ne", P::FCMP_ONE},  {"lt", P::FCMP_OLT},  {"le", P::FCMP_OLE},  {"gt", P::FCMP_OGT},
        {"ge", P::FCMP_OGE},  {"equ", P::FCMP_UEQ}, {"neu", P::FCMP_UNE}, {"ltu", P::FCMP_ULT}, {"leu", P::FCMP_ULE},
        {"gtu", P::FCMP_UGT}, {"geu", P::FCMP_UGE}, {"num", P::FCMP_ORD}, {"nan", P::FCMP_UNO}};
    auto it = fp.find(c);
    if (it == fp.end()) return false;
    r = b.CreateFCmp(it->second, x, y);
  } else {
    const bool s = is_signed(t);
    static const std::map<std::string_view, std::pair<P, P>> ip = {
        {"eq", {P::ICMP_EQ, P::ICMP_EQ}},    {"ne", {P::ICMP_NE, P::ICMP_NE}},    {"lt", {P::ICMP_SLT, P::ICMP_ULT}},
        {"le", {P::ICMP_SLE, P::ICMP_ULE}},  {"gt", {P::ICMP_SGT, P::ICMP_UGT}},  {"ge", {P::ICMP_SGE, P::ICMP_UGE}},
        {"lo", {P::ICMP_ULT, P::ICMP_ULT}},  {"ls", {P::ICMP_ULE, P::ICMP_ULE}},  {"hi", {P::ICMP_UGT, P::ICMP_UGT}},
        {"hs", {P::ICMP_UGE, P::ICMP_UGE}}};
    auto it = ip.find(c);
    if (it == ip.end()) return false;
    r = b.CreateICmp(s ? it->second.first : it->second.second, x, y);
  }
  if (in.quals.has(QualKind::boolop)) {
    auto* cpred = pred(in.ops.at(3));
    const auto bo = q(in, QualKind::boolop);
    r = bo == "and" ? b.CreateAnd(r, cpred) : bo == "or" ? b.CreateOr(r, cpred) : b.CreateXor(r, cpred);
  }
  write_reg(in.ops.at(0).reg, r);
  return true;
}

bool FunctionLowering::convert(const ir::Instr& in) {
  const Type to = in.t0, from = in.t1;
  if (in.quals.has(QualKind::ftz) || in.quals.has(QualKind::sat) || in.quals.has(QualKind::relu) ||
      in.quals.has(QualKind::satfinite))
    return false;
  const auto& d = in.ops.at(0);
  const auto& src = in.ops.at(1);
  if (is_int(to) && is_int(from)) {
    auto* v = read(src, from);
    // Narrow to `to`, or extend by the source's signedness, then into the destination register.
    auto* r = b.CreateIntCast(v, value_type(to), is_signed(from));
    write_reg(d.reg, r, is_signed(to));
    return true;
  }
  if (is_float(to) && is_int(from) && q(in, QualKind::rnd) == "rn") {
    auto* v = read(src, from);
    write_reg(d.reg, is_signed(from) ? b.CreateSIToFP(v, value_type(to)) : b.CreateUIToFP(v, value_type(to)));
    return true;
  }
  if (is_int(to) && is_float(from) && q(in, QualKind::irnd) == "rzi") {
    // PTX saturates out-of-range values and gives 0 for NaN: the .sat intrinsics do the same.
    auto* v = read(src, from);
    const auto iid = is_signed(to) ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat;
    write_reg(d.reg, intrinsic(iid, {v}, {value_type(to), value_type(from)}), is_signed(to));
    return true;
  }
  if (to == Type::f64 && from == Type::f32) {
    write_reg(d.reg, b.CreateFPExt(read(src, from), b.getDoubleTy()));
    return true;
  }
  if (to == Type::f32 && from == Type::f64 && q(in, QualKind::rnd) == "rn") {
    write_reg(d.reg, b.CreateFPTrunc(read(src, from), b.getFloatTy()));
    return true;
  }
  return false;
}

// atom/red without an explicit order (PTX's default: relaxed at gpu scope) on global, shared or
// generic memory: atomicrmw / cmpxchg, monotonic. With an order or scope they stay inline asm,
// which keeps them exact.
bool FunctionLowering::atomic(const ir::Instr& in, std::string_view op) {
  if (in.quals.has(QualKind::sem) || (in.quals.has(QualKind::scope) && q(in, QualKind::scope) != "gpu") ||
      in.quals.has(QualKind::l2hint) || in.quals.has(QualKind::vec))
    return false;
  const auto sp = q(in, QualKind::space);
  if (!(sp.empty() || sp == "global" || sp == "shared" || sp == "shared::cta")) return false;
  const Type t = in.t0;
  if (!(is_int(t) && (isa::bits(t) == 32 || isa::bits(t) == 64)) && !is_float(t)) return false;
  const unsigned as = space_of(in);
  const bool is_atom = op == "atom";
  const std::size_t base = is_atom ? 1 : 0;
  const auto mo = llvm::AtomicOrdering::Monotonic;
  const auto align = llvm::MaybeAlign(isa::bytes(t));
  if (in.form->id == "atom.cas") {
    auto* ptr = address(in.ops.at(1), as);
    auto* x = b.CreateAtomicCmpXchg(ptr, read(in.ops.at(2), t), read(in.ops.at(3), t), align, mo, mo);
    write_reg(in.ops[0].reg, b.CreateExtractValue(x, 0));
    return true;
  }
  const auto a = q(in, QualKind::atomop);
  using RMW = llvm::AtomicRMWInst::BinOp;
  RMW kind;
  if (is_float(t)) {
    if (a != "add") return false;
    kind = RMW::FAdd;
  } else if (a == "add") kind = RMW::Add;
  else if (a == "and") kind = RMW::And;
  else if (a == "or") kind = RMW::Or;
  else if (a == "xor") kind = RMW::Xor;
  else if (a == "exch") kind = RMW::Xchg;
  else if (a == "min") kind = is_signed(t) ? RMW::Min : RMW::UMin;
  else if (a == "max") kind = is_signed(t) ? RMW::Max : RMW::UMax;
  else if (a == "inc" && isa::bits(t) == 32) kind = RMW::UIncWrap;
  else if (a == "dec" && isa::bits(t) == 32) kind = RMW::UDecWrap;
  else return false;
  auto* ptr = address(in.ops.at(base), as);
  auto* r = b.CreateAtomicRMW(kind, ptr, read(in.ops.at(base + 1), t), align, mo);
  if (is_atom) write_reg(in.ops[0].reg, r, is_signed(t));
  return true;
}

bool FunctionLowering::warp_sync(const ir::Instr& in, std::string_view op) {
  if (op == "shfl.sync" && in.ops.size() == 5 && in.ops[1].kind == OK::reg) {
    const auto mode = q(in, QualKind::shfl);
    const auto iid = mode == "bfly" ? llvm::Intrinsic::nvvm_shfl_sync_bfly_i32
                   : mode == "up"   ? llvm::Intrinsic::nvvm_shfl_sync_up_i32
                   : mode == "down" ? llvm::Intrinsic::nvvm_shfl_sync_down_i32
                                    : llvm::Intrinsic::nvvm_shfl_sync_idx_i32;
    auto* r = intrinsic(iid, {read(in.ops[4], Type::b32), read(in.ops[1], Type::b32), read(in.ops[2], Type::b32),
                              read(in.ops[3], Type::b32)});
    write_reg(in.ops[0].reg, r);
    return true;
  }
  if (op == "vote.sync") {
    const auto mode = q(in, QualKind::vote);
    auto* mask = read(in.ops.at(2), Type::b32);
    auto* p = pred(in.ops.at(1));
    if (mode == "ballot") {
      write_reg(in.ops[0].reg, intrinsic(llvm::Intrinsic::nvvm_vote_ballot_sync, {mask, p}));
      return true;
    }
    const auto iid = mode == "all" ? llvm::Intrinsic::nvvm_vote_all_sync
                   : mode == "any" ? llvm::Intrinsic::nvvm_vote_any_sync
                                   : llvm::Intrinsic::nvvm_vote_uni_sync;
    write_reg(in.ops[0].reg, intrinsic(iid, {mask, p}));
    return true;
  }
  if (op == "activemask") {
    write_reg(in.ops.at(0).reg, intrinsic(llvm::Intrinsic::nvvm_activemask, {}));
    return true;
  }
  return false;
}

// ---- The generic fallback: inline asm -------------------------------------------------------

std::string immediate_text(const ir::Operand& o, Type t) {
  if (o.kind == OK::imm_float) {
    if (t == Type::f64) return fmt::format("0d{:016X}", std::bit_cast<std::uint64_t>(o.fvalue));
    return fmt::format("0f{:08X}", std::bit_cast<std::uint32_t>(static_cast<float>(o.fvalue)));
  }
  if (isa::info(t).kind == isa::TypeKind::signed_int || o.value >= 0) return fmt::format("{}", o.value);
  const unsigned bits = isa::bits(t) ? isa::bits(t) : 64;
  const std::uint64_t mask = bits >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << bits) - 1);
  return fmt::format("0x{:X}", static_cast<std::uint64_t>(o.value) & mask);
}

void FunctionLowering::inline_asm(const ir::Instr& in) {
  struct Out {
    ir::RegId reg;
    bool pred;
    std::string constraint;
  };
  std::vector<Out> outs;
  std::vector<std::pair<llvm::Value*, std::string>> ins;  // value, constraint
  std::string pre, post, decls;
  unsigned npred = 0;
  // Operands are numbered outputs first ($0..), then inputs; neither count is known until every
  // operand is seen, so the text holds markers (\x04 out \x03, \x02 in \x03) that render() numbers.
  std::string text = mnemonic(in);
  auto ref = [&](std::string& s, bool out, std::size_t index) {
    s += out ? '\x04' : '\x02';
    s += std::to_string(index);
    s += '\x03';
  };
  auto constraint_of = [&](llvm::Type* ty) -> std::string {
    if (ty->isFloatTy()) return "f";
    if (ty->isDoubleTy()) return "d";
    if (ty->isIntegerTy(16)) return "h";
    if (ty->isIntegerTy(32)) return "r";
    if (ty->isIntegerTy(64)) return "l";
    throw Unsupported{"a 128-bit register in inline asm"};
  };
  auto reg_operand = [&](std::string& s, ir::RegId r, bool negated, isa::Role role) {
    if (r >= f_.regs.size()) throw Unsupported{"a register of another function"};
    const bool is_pred = f_.regs[r] == Type::pred;
    if (is_pred) {
      const std::string p = fmt::format("%wp{}", npred++);
      decls += fmt::format(".reg .pred {}; ", p);
      if (role != isa::Role::write) {
        ins.push_back({b.CreateZExt(fit(read_reg(r), b.getInt1Ty()), b.getInt32Ty()), "r"});
        pre += "setp.ne.b32 " + p + ", ";
        ref(pre, false, ins.size() - 1);
        pre += ", 0; ";
      }
      if (role != isa::Role::read) {
        outs.push_back({r, true, "=r"});
        post += "selp.u32 ";
        ref(post, true, outs.size() - 1);
        post += ", 1, 0, " + p + "; ";
      }
      s += (negated ? "!" : "") + p;
      return;
    }
    auto* ty = storage(f_.regs[r]);
    const auto c = constraint_of(ty);
    if (role == isa::Role::read) {
      ins.push_back({read_reg(r), c});
      ref(s, false, ins.size() - 1);
    } else {
      outs.push_back({r, false, "=" + c});
      ref(s, true, outs.size() - 1);
      if (role == isa::Role::read_write) ins.push_back({read_reg(r), std::to_string(outs.size() - 1)});
    }
  };
  auto value_operand = [&](std::string& s, llvm::Value* v) {
    ins.push_back({v, constraint_of(v->getType())});
    ref(s, false, ins.size() - 1);
  };
  auto address_space_for_symbols = [&]() -> unsigned {
    const auto sp = in.quals.spelling(QualKind::space);
    if (sp.starts_with("shared")) return kShared;
    if (sp == "global") return kGlobal;
    // Forms with the space in their literal text (cp.async.bulk...shared::cluster...): by name.
    return kGeneric;
  };

  std::vector<const isa::OperandSpec*> specs;
  for (const auto& sp : in.form->operands)
    if (operand_present(sp, in.quals)) specs.push_back(&sp);
  bool first = true, joined = false;
  for (std::size_t i = 0; i < in.ops.size(); ++i) {
    const auto* sp = i < specs.size() ? specs[i] : nullptr;
    const auto& o = in.ops[i];
    if (sp && sp->optional && o.kind == OK::symbol_list && o.names.empty()) continue;
    if (!joined) text += first ? " " : ", ";
    first = false;
    const auto role = sp ? sp->role : isa::Role::read;
    const Type t = sp ? expected_type(*sp, in.t0, in.t1) : Type::none;
    switch (o.kind) {
      case OK::reg: reg_operand(text, o.reg, o.negated, role); break;
      case OK::imm_int:
      case OK::imm_float: text += immediate_text(o, t); break;
      case OK::mem_reg:
        text += "[";
        reg_operand(text, o.reg, false, isa::Role::read);
        text += o.value ? fmt::format("+{}]", o.value) : "]";
        break;
      case OK::mem_symbol: {
        // The symbol's address in the instruction's space, through a register.
        unsigned as = address_space_for_symbols();
        if (as == kGeneric && ml_.shared_.count({&f_, o.name}) && std::string(mnemonic(in)).find(".shared") != std::string::npos)
          as = kShared;
        text += "[";
        auto* a = symbol_address(o.name, as);
        value_operand(text, as == kShared ? b.CreateTrunc(a, b.getInt32Ty()) : a);
        text += o.value ? fmt::format("+{}]", o.value) : "]";
        break;
      }
      case OK::sreg: text += o.name; break;
      case OK::sink: text += "_"; break;
      case OK::reg_list:
        text += "{";
        for (std::size_t k = 0; k < o.regs.size(); ++k) {
          if (k) text += ", ";
          reg_operand(text, o.regs[k], false, role);
        }
        text += "}";
        break;
      case OK::tensor_reg:
      case OK::tensor_symbol:
        text += "[";
        if (o.kind == OK::tensor_reg) reg_operand(text, o.reg, false, isa::Role::read);
        else value_operand(text, symbol_address(o.name, kGeneric));
        text += ", {";
        for (std::size_t k = 0; k < o.regs.size(); ++k) {
          if (k) text += ", ";
          reg_operand(text, o.regs[k], false, isa::Role::read);
        }
        text += "}]";
        break;
      case OK::symbol:
        if (ml_.shared_.count({&f_, o.name}) || ml_.globals_.count(o.name) || args_.count(o.name))
          value_operand(text, symbol_address(o.name, address_space_for_symbols()));
        else
          text += o.name;
        break;
      case OK::label: throw Unsupported{"a label operand outside a branch"};
      case OK::symbol_list: throw Unsupported{"a symbol list outside a call"};
    }
    joined = sp && sp->pipe_next;
    if (joined) text += "|";
  }
  text += ";";

  // Number the operands: outputs 0..n-1, inputs n..; escape '$' in literal text.
  const std::size_t nout = outs.size();
  auto render = [&](const std::string& s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '$') r += "$$";
      else if (c == '\x02' || c == '\x04') {  // \x02<input index>\x03 or \x04<output index>\x03
        const auto end = s.find('\x03', i);
        const auto idx = std::stoul(s.substr(i + 1, end - i - 1));
        r += fmt::format("${}", c == '\x02' ? nout + idx : idx);
        i = end;
      } else {
        r += c;
      }
    }
    return r;
  };
  const std::string body = render(text);
  std::string asm_text = body;
  if (npred) asm_text = "{ " + decls + render(pre) + body + " " + render(post) + "}";

  const bool pure = (in.form->family == "int" || in.form->family == "float" || in.form->family == "logic" ||
                     in.form->family == "compare" || in.form->family == "convert") &&
                    nout > 0;
  std::string constraints;
  std::vector<llvm::Type*> out_types;
  for (const auto& o : outs) {
    constraints += (constraints.empty() ? "" : ",") + o.constraint;
    out_types.push_back(o.pred ? b.getInt32Ty() : storage(f_.regs[o.reg]));
  }
  std::vector<llvm::Value*> args;
  std::vector<llvm::Type*> arg_types;
  for (const auto& [v, c] : ins) {
    constraints += (constraints.empty() ? "" : ",") + c;
    args.push_back(v);
    arg_types.push_back(v->getType());
  }
  if (!pure) constraints += constraints.empty() ? "~{memory}" : ",~{memory}";
  llvm::Type* ret = out_types.empty() ? b.getVoidTy()
                    : out_types.size() == 1 ? out_types[0]
                                            : llvm::StructType::get(C, out_types);
  auto* fty = llvm::FunctionType::get(ret, arg_types, false);
  if (auto err = llvm::InlineAsm::verify(fty, constraints))
    throw Unsupported{fmt::format("inline asm constraints '{}' were refused: {}", constraints,
                                  llvm::toString(std::move(err)))};
  auto* ia = llvm::InlineAsm::get(fty, asm_text, constraints, !pure);
  auto* call = b.CreateCall(ia, args);
  if (!pure) call->addFnAttr(llvm::Attribute::Convergent);
  for (std::size_t i = 0; i < outs.size(); ++i) {
    llvm::Value* v = outs.size() == 1 ? static_cast<llvm::Value*>(call) : b.CreateExtractValue(call, static_cast<unsigned>(i));
    if (outs[i].pred) v = b.CreateICmpNE(v, b.getInt32(0));
    write_reg(outs[i].reg, v);
  }
}

}  // namespace

std::string cpu_name(const isa::Target& t) { return t.name(); }

Lowered lower(const ir::Module& m, llvm::LLVMContext& ctx, const Options& o, bool only_libdevice) {
  return ModuleLowering(m, ctx, o, only_libdevice).run();
}

}  // namespace weft::llvm_backend::detail
