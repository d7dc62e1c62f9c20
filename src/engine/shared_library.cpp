// libguidingpainter.so is the engine's archives linked whole (src/CMakeLists.txt) with
// exports.map keeping only the public API visible; it needs no code of its own.
