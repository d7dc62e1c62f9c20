// The library's notes (gp::set_log_callback): by default a line on stderr.
#pragma once

#include <string_view>

namespace gp {

// Hands `note` to the callback set, or writes it to stderr as a line when none was set.
void log_note(std::string_view note);

}  // namespace gp
