/** Real media for tests: a PNG made with Node, a committed MP4 made with ffmpeg, and readers of their structure. */
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real RGB PNG of `width`×`height` whose pixels depend on `seed`. */
export function makePng(width: number, height: number, seed = 1): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * stride + 1 + x * 3;
      raw[at] = (x * 37 + seed * 11) & 0xff;
      raw[at + 1] = (y * 53 + seed * 7) & 0xff;
      raw[at + 2] = ((x ^ y) * 29 + seed) & 0xff;
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(
    Buffer.concat([signature, pngChunk("IHDR", header), pngChunk("IDAT", deflateSync(raw)), pngChunk("IEND", new Uint8Array(0))]),
  );
}

/** The chunk types of a PNG in order, checking every CRC. */
export function pngChunkTypes(png: Uint8Array): string[] {
  const bytes = Buffer.from(png);
  const types: string[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    const crc = bytes.readUInt32BE(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== crc) throw new Error(`bad CRC in PNG chunk ${type}`);
    types.push(type);
    at += 12 + length;
  }
  return types;
}

/** The committed MP4: one second of H.264 made with ffmpeg (see test/fixtures/README.md of this package). */
export function fixtureMp4(): Uint8Array {
  return new Uint8Array(readFileSync(new URL("../../test/fixtures/segment.mp4", import.meta.url)));
}

/** The top-level ISO BMFF boxes of an MP4 (type, and the user type of `uuid` boxes), checking the sizes add up. */
export function mp4TopLevelBoxes(mp4: Uint8Array): string[] {
  const bytes = Buffer.from(mp4);
  const boxes: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size < 8 || at + size > bytes.length) throw new Error(`bad box size ${size} for ${type} at ${at}`);
    boxes.push(type === "uuid" ? `uuid:${bytes.toString("hex", at + 8, at + 24)}` : type);
    at += size;
  }
  return boxes;
}
