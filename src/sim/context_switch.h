// The fibers' context switch: Boost.Context's frame layout, gpusim's own jump on
// x86-64 ELF (context_switch.cpp says what differs and why), Boost's elsewhere or with
// GPUSIM_BOOST_JUMP defined.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#if defined(__x86_64__) && defined(__ELF__) && !defined(_WIN32) && !defined(GPUSIM_BOOST_JUMP)
extern "C" boost::context::detail::transfer_t gpusim_jump_fcontext(boost::context::detail::fcontext_t to, void* data);
#define GPUSIM_JUMP gpusim_jump_fcontext
#else
#define GPUSIM_JUMP boost::context::detail::jump_fcontext
#endif
