// The fibers' context switch: Boost.Context's frame layout, gpusim's own jump on
// x86-64 ELF (context_switch.cpp says what differs and why), Boost's elsewhere or with
// GPUSIM_BOOST_JUMP defined.
#pragma once

#include <boost/context/detail/fcontext.hpp>

namespace bctx = boost::context::detail;

#if defined(__x86_64__) && defined(__ELF__) && !defined(_WIN32) && !defined(GPUSIM_BOOST_JUMP)
extern "C" bctx::transfer_t gpusim_jump_fcontext(bctx::fcontext_t to, void* data);
#define GPUSIM_JUMP gpusim_jump_fcontext
#else
#define GPUSIM_JUMP bctx::jump_fcontext
#endif
