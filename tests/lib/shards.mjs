// The model shard that holds an item's rows: FNV-1a (32-bit) of the id's UTF-8 bytes, modulo the
// shard count (docs/formats.md), as the engine computes it.
export function shardOf(id, count) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(id)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % count;
}
