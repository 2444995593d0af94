// The machine-readable signature block that heads every PTX module weft prints.
//
// Why: a `.ptx` file must describe itself, so the runtime can check launch arguments against the
// kernel's parameters and set attributes (dynamic shared memory, cluster shape) without the C++
// that built it. The block is a run of `//!` comment lines, so ptxas and the driver ignore it.
//
//   //! weft-signature 1
//   //! target sm_90a
//   //! kernel saxpy
//   //! param n scalar u32 4 4
//   //! param x pointer global 8 8 f32
//   //! param tmap bytes tma 128 64 bf16:64x128:128B
//   //! reqntid 256 1 1
//   //! maxntid 0 0 0
//   //! dynamic_smem 0
//   //! static_smem 0
//   //! cluster 1 1 1
//   //! end-kernel
//   //! end
//
// `param <name> <kind> <detail> <size> <align> [<pointee> | <box>]`: kind is scalar (detail = PTX type),
// pointer (detail = state space the pointer addresses, pointee = element type) or bytes (an aligned
// byte array: detail `-`, or `tma` for a 128-byte TMA descriptor followed by the box its copies
// expect, rt::tma_box_key). Sizes and alignments are in bytes.
// This header depends only on the standard library: the runtime links it without the codegen.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weft::sig {

enum class ParamKind { scalar, pointer, bytes };

struct Param {
  std::string name;
  ParamKind kind = ParamKind::scalar;
  std::string detail;   // scalar: PTX type ("u32"); pointer: space ("global"); bytes: "-"
  std::uint32_t size = 0;
  std::uint32_t align = 0;
  std::string pointee;  // pointer only: element type, may be empty
  std::string tma_box;  // bytes only: a tensor map's box (rt::tma_box_key, detail "tma"); empty: any bytes
};

struct Kernel {
  std::string name;
  std::vector<Param> params;
  std::array<std::uint32_t, 3> reqntid{0, 0, 0};  // 0 0 0: not required
  std::array<std::uint32_t, 3> maxntid{0, 0, 0};  // 0 0 0: no bound
  std::uint32_t dynamic_smem = 0;  // bytes the kernel expects by default (0: none declared)
  std::uint32_t static_smem = 0;
  std::array<std::uint32_t, 3> cluster{1, 1, 1};
  bool uses_dynamic_smem = false;  // the kernel declares an .extern .shared array
};

struct Signature {
  int version = 1;
  std::string target;  // "sm_90a"
  std::vector<Kernel> kernels;
  const Kernel* find(std::string_view kernel) const;
};

// A malformed block: the message names the line (1-based, within the PTX text) and the cause.
class ParseError : public std::runtime_error {
 public:
  ParseError(int line, const std::string& what);
  int line() const { return line_; }

 private:
  int line_;
};

std::string_view kind_name(ParamKind k);

// Writes the block (ending in a newline) for the printer.
std::string format(const Signature& s);

// Reads the block from the start of PTX text. Throws ParseError when the text has no block, or the
// block is malformed, truncated or of an unknown version.
Signature parse(std::string_view ptx_text);

}  // namespace weft::sig
