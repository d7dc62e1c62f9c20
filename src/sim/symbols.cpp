// Names for the simulator's messages: a kernel's function name (the dynamic symbol
// table, else the full one of the object holding it) and demangled types.
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sim_internal.h"

namespace gpusim::sim_internal {
namespace {

// The name of the function at `addr` from the full symbol table (.symtab) of the
// loaded object that contains it, or "". dladdr reads only the dynamic symbol table,
// which lacks functions of internal linkage, and the project's kernels live in
// anonymous namespaces. Used for error messages only, so it reads the file each time.
std::string symtab_name(const void* addr) {
  struct Query {
    uintptr_t addr = 0, base = 0;
    std::string path;
  } q;
  q.addr = reinterpret_cast<uintptr_t>(addr);
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* q = static_cast<Query*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && q->addr >= lo && q->addr < lo + ph.p_memsz) {
            q->path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe";
            q->base = info->dlpi_addr;
            return 1;
          }
        }
        return 0;
      },
      &q);
  if (q.path.empty()) return {};
  FILE* f = std::fopen(q.path.c_str(), "rb");
  if (!f) return {};
  auto read_at = [f](uint64_t off, void* dst, size_t n) {
    return std::fseek(f, long(off), SEEK_SET) == 0 && std::fread(dst, 1, n, f) == n;
  };
  std::string name;
  ElfW(Ehdr) eh;
  std::vector<ElfW(Shdr)> sh;
  if (read_at(0, &eh, sizeof eh) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_shentsize == sizeof(ElfW(Shdr))) {
    sh.resize(eh.e_shnum);
    if (!read_at(eh.e_shoff, sh.data(), sh.size() * sizeof(ElfW(Shdr)))) sh.clear();
  }
  const uint64_t rel = q.addr - q.base;
  for (const ElfW(Shdr) & s : sh) {
    if (s.sh_type != SHT_SYMTAB || s.sh_link >= sh.size() || s.sh_entsize != sizeof(ElfW(Sym))) continue;
    std::vector<ElfW(Sym)> syms(s.sh_size / sizeof(ElfW(Sym)));
    if (!read_at(s.sh_offset, syms.data(), syms.size() * sizeof(ElfW(Sym)))) break;
    const ElfW(Shdr)& strtab = sh[s.sh_link];
    for (const ElfW(Sym) & y : syms) {
      if (ELF64_ST_TYPE(y.st_info) != STT_FUNC || rel < y.st_value ||
          rel >= y.st_value + std::max<uint64_t>(y.st_size, 1) || y.st_name >= strtab.sh_size)
        continue;
      char buf[1024] = {};
      const size_t n = std::min<uint64_t>(sizeof buf - 1, strtab.sh_size - y.st_name);
      if (read_at(strtab.sh_offset + y.st_name, buf, n)) name = buf;
      break;
    }
    break;
  }
  std::fclose(f);
  return name;
}

}  // namespace

std::string kernel_name(const void* kernel) {
  Dl_info info{};
  std::string mangled = dladdr(kernel, &info) && info.dli_sname ? info.dli_sname : symtab_name(kernel);
  if (!mangled.empty()) {
    int status = 0;
    char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
    std::string s = status == 0 && d ? d : mangled;
    std::free(d);
    return s;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", kernel);
  return std::string("kernel@") + buf;
}

std::string demangled(const char* type) {
  int status = 0;
  char* d = abi::__cxa_demangle(type, nullptr, nullptr, &status);
  std::string s = status == 0 && d ? d : type;
  std::free(d);
  return s;
}

}  // namespace gpusim::sim_internal
