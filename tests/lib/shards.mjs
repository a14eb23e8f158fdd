// The model shard that holds an item's rows: FNV-1a (32-bit) of the id's UTF-8 bytes, modulo the
// shard count (docs/formats.md), as the engine computes it.
export function shardOf(id, count) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(id)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % count;
}

/**
 * The model head a browser bundle carries (`model`: the base64 of a `.vtm` shard head, layout in
 * engine/src/recs/model_bin.rs), read independently of the engine: `{ count, base, views, items,
 * popular, trending }`, the rankings as item ids in order.
 */
export function modelHead(base64) {
  const b = Buffer.from(base64, 'base64');
  if (b.toString('latin1', 0, 4) !== 'VTRM' || b.readUInt16LE(4) !== 1) throw new Error('not a version 1 .vtm');
  const flags = b.readUInt16LE(6);
  if (!(flags & 2)) throw new Error('not a shard head');
  const [n, nPopular, nTrending] = [8, 12, 16].map((at) => b.readUInt32LE(at));
  const count = b.readUInt32LE(20);
  const baseLen = b.readUInt16LE(24);
  let at = 26 + baseLen;
  const items = [];
  for (let i = 0; i < n; i++) {
    const len = b.readUInt16LE(at);
    items.push(b.toString('utf8', at + 2, at + 2 + len));
    at += 2 + len;
  }
  const ranking = (k) => Array.from({ length: k }, () => { const i = b.readUInt16LE(at); at += 2; return items[i]; });
  const popular = ranking(nPopular);
  const trending = ranking(nTrending);
  if (at + 4 !== b.length) throw new Error('unexpected bytes');
  return { count, base: b.toString('utf8', 26, 26 + baseLen), views: Boolean(flags & 1), items, popular, trending };
}
