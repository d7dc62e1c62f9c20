#include "src/image/jpeg_guard.h"

#include <cstddef>
#include <utility>

namespace gp::image_detail {
namespace {

constexpr int kNoMarker = 0xFF;  // stb's STBI__MARKER_none

// stb's byte reader on a memory buffer: zeros past the end, skip may overshoot.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  int get8() { return pos_ < b_.size() ? b_[pos_++] : 0; }
  int get16be() {
    const int hi = get8();
    return (hi << 8) | get8();
  }
  void skip(long n) {
    if (n <= 0) {
      if (n < 0) pos_ = b_.size();
      return;
    }
    pos_ += size_t(n);
  }
  bool at_eof() const { return pos_ >= b_.size(); }

  // stbi__get_marker: a pending marker from the entropy stream, or FF (fill FFs) x.
  int get_marker() {
    if (pending_ != kNoMarker) return std::exchange(pending_, kNoMarker);
    int x = get8();
    if (x != 0xFF) return kNoMarker;
    while (x == 0xFF) x = get8();
    return x;
  }

  // Entropy-coded data after a scan header: stb's bit reader stops at FF (fill FFs)
  // c with c != 0; restart markers D0..D7 let the scan go on. Returns at the end of
  // the data with the marker pending (or at the end of the buffer).
  void skip_entropy_data() {
    while (!at_eof()) {
      if (get8() != 0xFF) continue;
      int c = get8();
      while (c == 0xFF) c = get8();
      if (c == 0 || (c >= 0xD0 && c <= 0xD7)) continue;
      pending_ = c;
      return;
    }
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  int pending_ = kNoMarker;
};

enum class Step { Ok, Stop, Hazard };

// Which Huffman tables (class 0 DC, 1 AC; ids 0..3) a DHT segment has defined so far.
// stb allocates its decoder state uninitialised: a scan that decodes with a table no
// DHT defined reads garbage and indexes past the table's 256 symbols.
struct DefinedTables {
  bool defined[2][4] = {};
};

// stbi__process_marker for the markers that can precede or follow scans.
Step process_marker(Reader& r, int m, DefinedTables& tables) {
  if (m == 0xDD) {  // DRI
    if (r.get16be() != 4) return Step::Stop;
    r.get16be();
    return Step::Ok;
  }
  if (m == 0xDB) {  // DQT
    long L = r.get16be() - 2;
    while (L > 0) {
      const int q = r.get8(), p = q >> 4, t = q & 15;
      if ((p != 0 && p != 1) || t > 3) return Step::Stop;
      r.skip(p ? 128 : 64);
      L -= p ? 129 : 65;
    }
    return L == 0 ? Step::Ok : Step::Stop;
  }
  if (m == 0xC4) {  // DHT: the bug
    long L = r.get16be() - 2;
    while (L > 0) {
      const int q = r.get8();
      if ((q >> 4) > 1 || (q & 15) > 3) return Step::Stop;
      long n = 0;
      for (int i = 0; i < 16; ++i) n += r.get8();
      if (n > 256) return Step::Hazard;
      tables.defined[q >> 4][q & 15] = true;
      r.skip(n);
      L -= 17 + n;
    }
    return L == 0 ? Step::Ok : Step::Stop;
  }
  if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {  // APPn, COM: skipped by length
    const long L = r.get16be();
    if (L < 2) return Step::Stop;
    r.skip(L - 2);
    return Step::Ok;
  }
  return Step::Stop;  // no marker, or one stb does not know: "Corrupt JPEG"
}

bool is_sof(int m) { return m == 0xC0 || m == 0xC1 || m == 0xC2; }

// stbi__process_scan_header, then the tables the scan decodes with: baseline scans
// use each component's DC and AC table; progressive DC scans only the DC table and
// only on the first pass (refinements read raw bits); progressive AC scans the AC table.
Step check_scan(Reader& r, bool progressive, const DefinedTables& tables) {
  const long length = r.get16be();
  const int ns = r.get8();
  if (ns < 1 || ns > 4 || length != 6 + 2 * ns) return Step::Stop;
  int dc[4], ac[4];
  for (int k = 0; k < ns; ++k) {
    r.get8();  // component id
    const int q = r.get8();
    dc[k] = q >> 4;
    ac[k] = q & 15;
    if (dc[k] > 3 || ac[k] > 3) return Step::Stop;
  }
  const int ss = r.get8(), se = r.get8(), ah = r.get8() >> 4;
  (void)se;
  const bool uses_dc = !progressive || (ss == 0 && ah == 0);
  const bool uses_ac = !progressive || ss > 0;
  for (int k = 0; k < ns; ++k)
    if ((uses_dc && !tables.defined[0][dc[k]]) || (uses_ac && !tables.defined[1][ac[k]])) return Step::Hazard;
  return Step::Ok;
}

}  // namespace

const char* jpeg_hazard(std::span<const uint8_t> bytes) {
  constexpr const char* kHazard = "a DHT segment with more than 256 codes";
  constexpr const char* kUndefinedTable = "a scan uses a Huffman table no DHT segment defined";
  Reader r(bytes);
  DefinedTables tables;
  // stbi__decode_jpeg_header: SOI, then segments up to the frame header.
  if (r.get_marker() != 0xD8) return nullptr;
  int m = r.get_marker();
  while (!is_sof(m)) {
    const Step s = process_marker(r, m, tables);
    if (s == Step::Hazard) return kHazard;
    if (s == Step::Stop) return nullptr;
    m = r.get_marker();
    while (m == kNoMarker) {  // padding between segments is scanned over
      if (r.at_eof()) return nullptr;
      m = r.get_marker();
    }
  }
  // SOF: on success stb has consumed exactly its length.
  const bool progressive = m == 0xC2;
  r.skip(long(r.get16be()) - 2);
  // stbi__decode_jpeg_image: scans and the segments between them, up to EOI.
  m = r.get_marker();
  while (m != 0xD9) {
    if (m == 0xDA) {  // SOS: the scan header, then entropy-coded data
      const Step s = check_scan(r, progressive, tables);
      if (s == Step::Hazard) return kUndefinedTable;
      if (s == Step::Stop) return nullptr;
      r.skip_entropy_data();
    } else if (m == 0xDC) {  // DNL
      if (r.get16be() != 4) return nullptr;
      r.get16be();
    } else {
      const Step s = process_marker(r, m, tables);
      if (s == Step::Hazard) return kHazard;
      if (s == Step::Stop) return nullptr;
    }
    m = r.get_marker();  // no marker here: stb stops ("expected marker")
  }
  return nullptr;
}

}  // namespace gp::image_detail
