/**
 * @module PauseProgram — the one program the sandbox's runnable images hold: a 129-byte static
 * Linux x86-64 executable that waits until it is killed (the `pause` system call in a loop), and
 * the image layer holding it as `/pause` (a tar in a gzip member with a stored deflate block, so no
 * compression library is needed). With it a real Docker Engine can run the sandbox's images (the
 * Swarm demo) without any download. Pure bytes, built once.
 */

/** The executable: an ELF64 header, one loadable segment, and `mov eax, 34; syscall; jmp $-9`. */
export const pauseProgram: Uint8Array = ((): Uint8Array => {
  const code = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7]
  const base = 0x400000n
  const size = 64 + 56 + code.length
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0) // ELF, 64-bit, little-endian, version 1, System V
  view.setUint16(16, 2, true) // executable
  view.setUint16(18, 0x3e, true) // x86-64
  view.setUint32(20, 1, true)
  view.setBigUint64(24, base + 120n, true) // entry: the code after the headers
  view.setBigUint64(32, 64n, true) // program headers right after this header
  view.setUint16(52, 64, true)
  view.setUint16(54, 56, true)
  view.setUint16(56, 1, true)
  view.setUint32(64, 1, true) // PT_LOAD
  view.setUint32(68, 5, true) // read + execute
  view.setBigUint64(80, base, true)
  view.setBigUint64(88, base, true)
  view.setBigUint64(96, BigInt(size), true)
  view.setBigUint64(104, BigInt(size), true)
  view.setBigUint64(112, 0x1000n, true)
  bytes.set(code, 120)
  return bytes
})()

const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, "0") + "\0"

/** A ustar archive with one regular file (mode 0755, owned by root, time 0). */
export const tarOfOneFile = (name: string, content: Uint8Array): Uint8Array => {
  const header = new Uint8Array(512)
  const put = (text: string, offset: number) => header.set(new TextEncoder().encode(text), offset)
  put(name, 0)
  put(octal(0o755, 8), 100)
  put(octal(0, 8), 108)
  put(octal(0, 8), 116)
  put(octal(content.length, 12), 124)
  put(octal(0, 12), 136)
  put("        ", 148) // checksum counted as spaces
  put("0", 156)
  put("ustar\u000000", 257)
  const checksum = header.reduce((sum, byte) => sum + byte, 0)
  put(octal(checksum, 7) + " ", 148)
  const padded = Math.ceil(content.length / 512) * 512
  const tar = new Uint8Array(512 + padded + 1024)
  tar.set(header, 0)
  tar.set(content, 512)
  return tar
}

/** CRC-32 (gzip's). */
export const crc32 = (bytes: Uint8Array): number => {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

/** A gzip member of `data` (< 64 KiB) with one stored deflate block. */
export const storedGzip = (data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(10 + 5 + data.length + 8)
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], 0)
  out.set([1, data.length & 0xff, data.length >> 8, ~data.length & 0xff, (~data.length >> 8) & 0xff], 10)
  out.set(data, 15)
  const view = new DataView(out.buffer)
  view.setUint32(15 + data.length, crc32(data), true)
  view.setUint32(19 + data.length, data.length, true)
  return out
}

/** The uncompressed layer (its digest is the config's `diff_id`) and the gzip served as the blob. */
export const pauseLayer = ((): { readonly tar: Uint8Array; readonly gzip: Uint8Array } => {
  const tar = tarOfOneFile("pause", pauseProgram)
  return { tar, gzip: storedGzip(tar) }
})()
