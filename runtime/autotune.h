// Autotuning: choosing the fastest of a few ways to run one problem (kernel variants, tile shapes)
// by timing each on this device, and remembering the choice.
//
// Why: which variant wins depends on the shape and the card (the first H200 run: 128 x 256 tiles won
// at 4096^3 and 8192^3, 128 x 128 at 2048^3 and at every decode shape), and an application should
// not have to read benchmark tables to get the winner. The choice is kept in memory for the process
// and on disk in the cubin cache's directory (DiskCache), keyed by a SHA-256 over the problem's
// name, the candidates' labels, the device and weft's version: a later process runs the winner at
// once, and a changed candidate list, device or weft version tunes again. Concurrent processes
// tuning the same problem take the cache's per-key lock, so they do not time against each other.
// $WEFT_TUNE=off (or 0/false/no) skips the timing and takes the first candidate; $WEFT_TUNE=retime
// times each problem once in the process whatever is remembered on disk, and replaces it (after a
// driver update, say).
//
// The timing itself is the caller's (a callback), so the logic here is tested on the CPU.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/disk_cache.h"

namespace weft::rt {

struct TuneProblem {
  std::string name;                     // what is tuned, with its shape: "gemm_bf16_sm90 64x7168x7168"
  std::vector<std::string> candidates;  // distinct labels; on a tie the earlier one wins
  std::string device;                   // the device (tune_device(): "NVIDIA H200 sm_90 132 SMs")
};

// What tells one device's timings from another's: its name, target and SM count (an H100 PCIe and
// an H100 SXM differ in SMs, so in waves of tiles).
std::string tune_device(int ordinal = 0);

struct TuneChoice {
  std::size_t index = 0;            // the chosen candidate
  std::vector<double> ms;           // per candidate as timed now; empty when the choice was remembered
  std::vector<std::string> errors;  // per candidate: why it could not run ("" when it ran); empty likewise
  enum class Source { timed, memory, disk, off } source = Source::timed;
};

// The cache key of a problem: 64 hex digits.
std::string tune_key(const TuneProblem& p);

// time(i) runs candidate i and returns its time in milliseconds; a candidate whose time() throws is
// left out (its message kept in `errors`). Throws Error naming the problem and every candidate's
// failure when none ran, and Error for a problem without candidates or with a repeated label.
TuneChoice autotune(const TuneProblem& p, const std::function<double(std::size_t)>& time,
                    DiskCache& cache = DiskCache::process_default());

// Forgets the choices this process remembers (tests; the disk entries stay).
void autotune_forget();

// The choices a cache directory remembers (`weft cache tunes`), read from its entries' text without
// checking them; entries that are not choices (cubins) are skipped. Sorted by problem.
struct RememberedTune {
  std::string problem, device, choice;
};
std::vector<RememberedTune> remembered_tunes(const DiskCache& cache);

// The text stored for a choice, and its reading back (nullopt: not a choice among `candidates`).
std::string format_tune_entry(const TuneProblem& p, const TuneChoice& c);
std::optional<std::size_t> parse_tune_entry(const TuneProblem& p, std::string_view text);

}  // namespace weft::rt
