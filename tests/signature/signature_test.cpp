// The signature block: written by the printer, read by the runtime. Round trips and every malformed
// shape the reader must refuse with a line number.
#include <doctest/doctest.h>

#include "codegen/signature.h"

using namespace weft::sig;

namespace {
Signature sample() {
  Signature s;
  s.target = "sm_90a";
  Kernel k;
  k.name = "saxpy";
  k.params = {{"n", ParamKind::scalar, "u32", 4, 4, ""},
              {"x", ParamKind::pointer, "global", 8, 8, "f32"},
              {"tmap", ParamKind::bytes, "-", 128, 64, ""},
              {"a_map", ParamKind::bytes, "tma", 128, 64, "", "bf16:64x128:128B"}};
  k.reqntid = {256, 1, 1};
  k.dynamic_smem = 1024;
  k.uses_dynamic_smem = true;
  k.static_smem = 4096;
  k.cluster = {2, 1, 1};
  s.kernels.push_back(k);
  return s;
}
}  // namespace

TEST_CASE("a signature survives format and parse") {
  const auto text = format(sample()) + ".version 8.0\n";
  const auto s = parse(text);
  CHECK(s.target == "sm_90a");
  REQUIRE(s.kernels.size() == 1);
  const auto& k = s.kernels[0];
  CHECK(k.name == "saxpy");
  REQUIRE(k.params.size() == 4);
  CHECK(k.params[0].detail == "u32");
  CHECK(k.params[1].kind == ParamKind::pointer);
  CHECK(k.params[1].pointee == "f32");
  CHECK(k.params[2].size == 128);
  CHECK(k.params[2].align == 64);
  CHECK(k.params[2].tma_box.empty());
  CHECK(k.params[3].detail == "tma");  // a tensor map and the box its copies expect
  CHECK(k.params[3].tma_box == "bf16:64x128:128B");
  CHECK(k.params[3].pointee.empty());
  CHECK(text.find("//! param a_map bytes tma 128 64 bf16:64x128:128B\n") != std::string::npos);
  CHECK(k.reqntid[0] == 256);
  CHECK(k.dynamic_smem == 1024);
  CHECK(k.uses_dynamic_smem);
  CHECK(k.static_smem == 4096);
  CHECK(k.cluster[0] == 2);
  CHECK(s.find("saxpy") == &s.kernels[0]);
  CHECK(s.find("nope") == nullptr);
}

TEST_CASE("malformed blocks are refused with the line and cause") {
  auto text = format(sample());
  SUBCASE("no block") { CHECK_THROWS_WITH_AS(parse(".version 8.0\n"), doctest::Contains("no '//! weft-signature'"), ParseError); }
  SUBCASE("truncated") {
    auto cut = text.substr(0, text.find("//! end-kernel"));
    CHECK_THROWS_WITH_AS(parse(cut), doctest::Contains("without '//! end'"), ParseError);
  }
  SUBCASE("future version") {
    auto t = text;
    t.replace(t.find("weft-signature 1"), 16, "weft-signature 7");
    CHECK_THROWS_WITH_AS(parse(t), doctest::Contains("version 7 is not supported"), ParseError);
  }
  SUBCASE("bad number names the line") {
    auto t = text;
    t.replace(t.find("4 4"), 3, "x 4");
    try {
      parse(t);
      FAIL("expected a ParseError");
    } catch (const ParseError& e) {
      CHECK(e.line() == 4);
      CHECK(std::string(e.what()).find("'x'") != std::string::npos);
    }
  }
  SUBCASE("unknown key") {
    auto t = text;
    t.replace(t.find("static_smem"), 11, "static_smam");
    CHECK_THROWS_WITH_AS(parse(t), doctest::Contains("unknown key 'static_smam'"), ParseError);
  }
  SUBCASE("non power-of-two alignment") {
    auto t = text;
    t.replace(t.find("128 64"), 6, "128 48");
    CHECK_THROWS_WITH_AS(parse(t), doctest::Contains("power of two"), ParseError);
  }
  SUBCASE("a tensor map without its box, a box on plain bytes") {
    auto t = text;
    t.replace(t.find(" bf16:64x128:128B"), 17, "");
    CHECK_THROWS_WITH_AS(parse(t), doctest::Contains("parameter 'a_map': a tensor map (detail 'tma') without its box"),
                         ParseError);
    t = text;
    t.replace(t.find("tmap bytes - 128 64"), 19, "tmap bytes - 128 64 bf16:64x64:128B");
    CHECK_THROWS_WITH_AS(parse(t), doctest::Contains("a box for bytes that are not a tensor map (detail '-')"),
                         ParseError);
  }
}
