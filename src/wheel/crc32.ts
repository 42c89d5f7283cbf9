/** CRC-32 of zip entries: Node's native zlib.crc32 where it exists (20.15+, 22.2+), else a table in JS (Node 18). */
import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;
function crc32js(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Looked up at the first call, not when the module loads: the build loads node:zlib on first use (src/build.mjs).
let nativeCrc: ((d: Uint8Array) => number) | null | undefined;

/** Unsigned CRC-32 of `d`. */
export function crc32(d: Uint8Array): number {
  if (nativeCrc === undefined) nativeCrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32 ?? null;
  return nativeCrc ? nativeCrc(d) >>> 0 : crc32js(d);
}
