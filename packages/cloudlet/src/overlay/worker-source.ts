/**
 * The compression worker, as source text run with `new Worker(code, { eval: true })`. Kept as a string
 * so the same code runs under jest, tsx and the compiled package (a `.ts` worker file would need a
 * loader in each). Native modules resolve from the cloudlet package (`workerData.from`).
 *
 * Messages in:  { id, op: 'compress' | 'decompress', algo, level, data: Uint8Array, rawSize }
 * Messages out: { id, ok: true, data } | { id, ok: false, error }
 */
export const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const req = createRequire(workerData.from);
let zstd, lzma;
const Z = () => (zstd ??= req('zstd-napi'));
const L = () => (lzma ??= req('lzma-native'));

// Random pages (fresh anonymous memory, encrypted or compressed files) do not compress; a slow
// compressor spends most of its time on them for nothing. A zstd-1 probe (hundreds of MB/s) finds
// them, and they are returned as-is: the packer then stores them uncompressed.
function incompressible(data) {
  const probe = Z().compress(data, { compressionLevel: 1 });
  return probe.length >= data.length * 0.98;
}

function compress(algo, level, data) {
  if (algo !== 'none' && (algo === 'xz' || level > 3) && data.length >= 65536 && incompressible(data)) return Promise.resolve(Buffer.from(data));
  // The frame checksum catches corruption even where no outer hash is checked.
  if (algo === 'zstd') return Promise.resolve(Z().compress(data, { compressionLevel: level, checksumFlag: true }));
  if (algo === 'xz') return L().compress(Buffer.from(data.buffer, data.byteOffset, data.length), { preset: level, threads: 1 });
  return Promise.resolve(Buffer.from(data));
}

// Streams, so output past the declared size aborts instead of allocating whatever the input asks for.
function decompress(algo, data, rawSize) {
  if (algo === 'none') {
    if (data.length !== rawSize) return Promise.reject(new Error('stored section is ' + data.length + ' bytes, manifest says ' + rawSize));
    return Promise.resolve(Buffer.from(data));
  }
  return new Promise((resolve, reject) => {
    const stream = algo === 'zstd' ? new (Z().DecompressStream)() : L().createDecompressor({ memlimit: 512 << 20 });
    const out = Buffer.allocUnsafe(rawSize);
    let n = 0;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      if (err) { stream.destroy(); reject(err); } else resolve(out);
    };
    stream.on('data', (c) => {
      if (n + c.length > rawSize) return finish(new Error('section decompresses to more than the ' + rawSize + ' bytes its manifest declares (oversize)'));
      c.copy(out, n); n += c.length;
    });
    stream.on('error', (e) => finish(new Error('corrupt ' + algo + ' data: ' + e.message)));
    stream.on('end', () => {
      if (n !== rawSize) return finish(new Error('section decompresses to ' + n + ' bytes, manifest declares ' + rawSize));
      finish();
    });
    stream.end(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
}

parentPort.on('message', (m) => {
  const p = m.op === 'compress' ? compress(m.algo, m.level, m.data) : decompress(m.algo, m.data, m.rawSize);
  p.then(
    (buf) => {
      const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
      // Transfer only when the buffer owns its ArrayBuffer (pooled small buffers must be copied).
      const own = buf.byteOffset === 0 && buf.buffer.byteLength === buf.length;
      parentPort.postMessage({ id: m.id, ok: true, data: u8 }, own ? [buf.buffer] : []);
    },
    (e) => parentPort.postMessage({ id: m.id, ok: false, error: String(e && e.message || e) }),
  );
});
`;
