#!/bin/bash -eu
# Build every cargo-fuzz target of fuzz/ into $OUT with its seed corpus (corpus/fuzz/<target>/).
# The runner image has no Z3: ship libz3.so beside the targets and point their rpath at it.
cd "$SRC/xverify/fuzz"
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-rpath,\$ORIGIN"
cargo fuzz build -O --debug-assertions
for lib in /usr/lib/x86_64-linux-gnu/libz3.so*; do cp -L "$lib" "$OUT/"; done
for t in $(cargo fuzz list); do
  cp "target/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
  if [ -n "$(ls -A "../corpus/fuzz/$t" 2>/dev/null)" ]; then
    zip -q -j "$OUT/${t}_seed_corpus.zip" "../corpus/fuzz/$t"/*
  fi
done
