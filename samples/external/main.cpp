// Loads the embedded PTX of `scale` with weft::rt (the best target for the device), launches it and
// checks the result. Without a GPU it checks the embedded modules' signature blocks and says why it
// cannot launch.
#include <cstdio>
#include <string>
#include <vector>

#include "codegen/signature.h"
#include "runtime/weft_rt.h"
#include "scale_ptx.h"

int main() {
  std::vector<std::string> modules;
  for (const auto& e : weft_embedded_ptx) {
    const auto sig = weft::sig::parse(e.ptx);  // throws on a malformed block
    std::printf("embedded %s for %s (%zu bytes, %zu parameters)\n", e.kernel, e.target, std::string(e.ptx).size(),
                sig.kernels.at(0).params.size());
    if (std::string(e.kernel) == "scale") modules.emplace_back(e.ptx);
  }
  std::string why;
  if (!weft::rt::driver_available(&why)) {
    std::printf("not launching: %s\n", why.c_str());
    return 0;
  }
  try {
    auto m = weft::rt::Module::from_best_ptx(modules);
    const std::uint32_t n = 1000;
    std::vector<float> host(n);
    for (std::uint32_t i = 0; i < n; ++i) host[i] = static_cast<float>(i);
    weft::rt::DeviceBuffer<float> x(host);
    m.kernel("scale").launch(weft::rt::LaunchConfig{{(n + 127) / 128}, {128}}, n, 2.0f, x);
    const auto out = x.to_vector();
    for (std::uint32_t i = 0; i < n; ++i)
      if (out[i] != 2.0f * static_cast<float>(i)) {
        std::printf("wrong result at %u: %f\n", i, out[i]);
        return 1;
      }
    std::printf("scale: %u elements correct (%s)\n", n, m.info().origin.c_str());
  } catch (const weft::rt::Error& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  return 0;
}
