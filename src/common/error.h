// Internal code includes the library's exception type from here. (A relative path,
// so targets without the public include directory can use it too.)
#pragma once
#include "../../include/guidingpainter/error.hpp"
