// libFuzzer harness: the signature-block parser (codegen/signature.h), which the runtime runs on
// every PTX file it loads. Any input either parses or throws sig::ParseError; anything else (another
// exception, a crash, a sanitizer report) is a finding. A parsed block must survive format -> parse ->
// format unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "codegen/signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::sig::Signature s;
  try {
    s = weft::sig::parse(text);
  } catch (const weft::sig::ParseError& e) {
    if (e.line() < 0) std::abort();
    return 0;
  }
  const std::string once = weft::sig::format(s);
  weft::sig::Signature back;
  try {
    back = weft::sig::parse(once);
  } catch (const weft::sig::ParseError& e) {
    std::fprintf(stderr, "a formatted block does not parse: %s\n%s", e.what(), once.c_str());
    std::abort();
  }
  const std::string twice = weft::sig::format(back);
  if (twice != weft::sig::format(weft::sig::parse(twice))) {
    std::fprintf(stderr, "format/parse is not stable:\n%s---\n%s", once.c_str(), twice.c_str());
    std::abort();
  }
  return 0;
}
