import { describe, expect, it } from "vitest";
import { C2paError } from "./errors.js";
import { detectFormat } from "./media-format.js";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p)))));

describe("detectFormat", () => {
  it("knows PNG, JPEG, WebP, MP4 and QuickTime by their first bytes", () => {
    expect(detectFormat(bytes([0x89], "PNG\r\n\x1a\n", [0, 0]))).toBe("image/png");
    expect(detectFormat(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe("image/jpeg");
    expect(detectFormat(bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 "))).toBe("image/webp");
    expect(detectFormat(bytes([0, 0, 0, 0x20], "ftypisom", [0, 0, 2, 0]))).toBe("video/mp4");
    expect(detectFormat(bytes([0, 0, 0, 0x14], "ftypqt  ", [0, 0, 2, 0]))).toBe("video/quicktime");
  });

  it("refuses anything else, naming the file", () => {
    for (const b of [bytes("GIF89a"), bytes([0, 0, 0, 0x1c], "ftypavif"), new Uint8Array(0), bytes("plain text")]) {
      let err: unknown;
      try {
        detectFormat(b, "/tmp/x.bin");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(C2paError);
      expect((err as C2paError).kind).toBe("unsupported-format");
      expect((err as C2paError).message).toContain("/tmp/x.bin");
    }
  });
});
