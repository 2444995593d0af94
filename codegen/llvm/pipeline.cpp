// The LLVM pipeline, in process: lower, verify, link libdevice (only what is needed), O3 through
// the PassBuilder with the NVPTX target's callbacks (NVVMReflect resolves __nvvm_reflect), PTX
// through the NVPTX TargetMachine. No llc, no opt.
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "codegen/llvm/lower.h"
#include "codegen/printer.h"
#include "codegen/verify.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>

namespace weft::llvm_backend {

namespace {

constexpr const char* kTriple = "nvptx64-nvidia-cuda";

[[noreturn]] void fail(std::string message, std::string hint = "") {
  throw DiagnosticError({{{}, std::move(message), std::move(hint)}});
}

const llvm::Target& nvptx() {
  static const llvm::Target* target = [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    std::string err;
    return llvm::TargetRegistry::lookupTarget(kTriple, err);
  }();
  if (!target) fail("LLVM was built without the NVPTX target", "use the direct backend (weft emit --backend direct)");
  return *target;
}

// libdevice's bitcode, read once per process.
const std::string& libdevice_bytes() {
  static std::mutex mu;
  static std::string bytes;
  std::lock_guard lock(mu);
  if (bytes.empty()) {
    const auto path = find_libdevice();
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    bytes = s.str();
    if (!in || bytes.empty()) fail(fmt::format("cannot read libdevice '{}'", path.string()));
  }
  return bytes;
}

// Lowered module -> PTX. `keep`: functions that stay visible (kernels, or the direct printer's
// libdevice functions); everything else becomes internal so O3 can inline and drop it.
std::string compile(detail::Lowered& low, const isa::Target& target, isa::PtxVersion ptx, const Options& o,
                    const std::set<std::string>& keep) {
  llvm::Module& M = *low.module;
  std::string err;
  llvm::raw_string_ostream es(err);
  if (llvm::verifyModule(M, &es))
    fail(fmt::format("internal error in the LLVM backend: the lowered module is invalid: {}", es.str()),
         "report this with the kernel; the direct backend (weft emit --backend direct) is unaffected");
  if (!low.libdevice_calls.empty()) {
    auto buf = llvm::MemoryBuffer::getMemBuffer(libdevice_bytes(), "libdevice.10.bc", false);
    auto lib = llvm::parseBitcodeFile(buf->getMemBufferRef(), M.getContext());
    if (!lib) fail(fmt::format("cannot parse libdevice '{}': {}", find_libdevice().string(), llvm::toString(lib.takeError())));
    (*lib)->setTargetTriple(M.getTargetTriple());
    (*lib)->setDataLayout(M.getDataLayout());
    if (llvm::Linker::linkModules(M, std::move(*lib), llvm::Linker::Flags::LinkOnlyNeeded))
      fail("linking libdevice failed");
    for (const auto& name : low.libdevice_calls)
      if (auto* f = M.getFunction(name); !f || f->isDeclaration())
        fail(fmt::format("libdevice '{}' has no function '{}'", find_libdevice().string(), name));
  }
  // Internalise: only what the caller keeps is visible.
  for (auto& f : M.functions())
    if (!f.isDeclaration() && !keep.count(f.getName().str())) f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (auto& g : M.globals())
    if (!g.isDeclaration() && g.getAddressSpace() != 1) g.setLinkage(llvm::GlobalValue::InternalLinkage);

  llvm::TargetOptions topts;
  const auto features = fmt::format("+ptx{}", ptx);
  std::unique_ptr<llvm::TargetMachine> tm(nvptx().createTargetMachine(
      kTriple, detail::cpu_name(target), features, topts, std::nullopt, std::nullopt,
      o.opt_level >= 3 ? llvm::CodeGenOptLevel::Aggressive
      : o.opt_level == 0 ? llvm::CodeGenOptLevel::None
                         : llvm::CodeGenOptLevel::Default));
  if (!tm) fail(fmt::format("LLVM cannot create an NVPTX target machine for {}", target.name()));
  M.setDataLayout(tm->createDataLayout());
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    const auto level = o.opt_level >= 3 ? llvm::OptimizationLevel::O3
                     : o.opt_level == 2 ? llvm::OptimizationLevel::O2
                     : o.opt_level == 1 ? llvm::OptimizationLevel::O1
                                        : llvm::OptimizationLevel::O0;
    auto mpm = level == llvm::OptimizationLevel::O0 ? pb.buildO0DefaultPipeline(level)
                                                    : pb.buildPerModuleDefaultPipeline(level);
    mpm.run(M, mam);
  }
  llvm::SmallString<0> out;
  {
    llvm::raw_svector_ostream os(out);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
      fail("LLVM's NVPTX target cannot emit assembly");
    pm.run(M);
  }
  return std::string(out.str());
}

// LLVM 19 has no annotation for .reqnctapercluster: write it after the kernel's other directives.
void add_cluster_directives(std::string& ptx, const std::vector<detail::Lowered::Cluster>& clusters) {
  for (const auto& c : clusters) {
    const auto head = ptx.find(fmt::format(".entry {}(", c.kernel));
    if (head == std::string::npos) continue;
    const auto brace = ptx.find("\n{", head);
    if (brace == std::string::npos) continue;
    ptx.insert(brace + 1, fmt::format(".reqnctapercluster {}, {}, {}\n", c.dims[0], c.dims[1], c.dims[2]));
  }
}

}  // namespace

bool supports(const isa::Target& t, std::string* why) {
  if (t.sm <= kMaxSm) return true;
  if (why)
    *why = fmt::format("LLVM 19's NVPTX backend has no {} (it stops at sm_90a); the direct backend "
                       "(weft emit --backend direct) supports it",
                       t.name());
  return false;
}

isa::PtxVersion ptx_version_for(const ir::Module& m) { return std::min(required_ptx_version(m), kMaxPtx); }

std::string emit_ptx(const ir::Module& m, const Options& o) {
  if (std::string why; !supports(m.target, &why)) fail(why);
  if (o.verify)
    if (auto diags = verify(m); !diags.empty()) throw DiagnosticError(std::move(diags));
  const auto needed = required_ptx_version(m);
  if (needed > kMaxPtx)
    fail(fmt::format("the module needs PTX ISA {}; LLVM 19 emits at most {}", isa::format_ptx_version(needed),
                     isa::format_ptx_version(kMaxPtx)),
         "use the direct backend (weft emit --backend direct)");
  llvm::LLVMContext ctx;
  auto low = detail::lower(m, ctx, o);
  std::set<std::string> keep;
  for (const auto& f : m.functions)
    if (f.entry) keep.insert(f.name);
  auto ptx = compile(low, m.target, ptx_version_for(m), o, keep);
  add_cluster_directives(ptx, low.clusters);
  std::string out = sig::format(signature_of(m));
  out += fmt::format("//\n// Generated by weft for {} through LLVM 19's NVPTX backend\n//\n", m.target.name());
  out += ptx;
  return out;
}

std::string emit_llvm_ir(const ir::Module& m, const Options& o, bool optimized) {
  if (std::string why; !supports(m.target, &why)) fail(why);
  if (o.verify)
    if (auto diags = verify(m); !diags.empty()) throw DiagnosticError(std::move(diags));
  llvm::LLVMContext ctx;
  auto low = detail::lower(m, ctx, o);
  if (optimized) {
    std::set<std::string> keep;
    for (const auto& f : m.functions)
      if (f.entry) keep.insert(f.name);
    (void)compile(low, m.target, ptx_version_for(m), o, keep);
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  low.module->print(os, nullptr);
  return os.str();
}

std::string libdevice_ptx(const ir::Module& m) {
  // Targets past LLVM 19's get code for sm_90: plain arithmetic that every later target accepts.
  isa::Target t = m.target;
  if (!supports(t)) t = *isa::parse_target("sm_90").target;
  std::set<std::string> keep;
  std::string key = t.name();
  for (const auto& f : m.functions)
    if (!f.libdevice.empty()) {
      keep.insert(f.name);
      key += fmt::format("|{}={}", f.name, f.libdevice);
      if (f.ret) key += fmt::format(":{}", isa::name(f.ret->type));
    }
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  llvm::LLVMContext ctx;
  Options o;
  o.line_info = false;
  ir::Module only = m;
  only.target = t;
  auto low = detail::lower(only, ctx, o, /*only_libdevice=*/true);
  auto ptx = compile(low, t, t.min_ptx_version(), o, keep);
  // Keep what follows the header (.version/.target/.address_size): the functions and their data.
  const auto at = ptx.find(".address_size 64");
  std::string body = at == std::string::npos ? ptx : ptx.substr(ptx.find('\n', at) + 1);
  body = fmt::format("// libdevice functions, compiled by LLVM 19 for {}\n{}", t.name(), body);
  std::lock_guard lock(mu);
  cache[key] = body;
  return body;
}

}  // namespace weft::llvm_backend
