// The instruction reference as Markdown, generated from the database (docs/reference.md is this
// text; a test keeps the two equal).
#pragma once

#include <string>

namespace weft::isa {
std::string reference_markdown();
}
