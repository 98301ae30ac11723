/**
 * c2pa-rs in Node: `@contentauth/c2pa-wasm` compiled once from the package's own .wasm file (no fetch), and the
 * one browser API its Blob-taking methods need.
 *
 * `WasmBuilder.sign` takes the asset as a `Blob` and reads it with `FileReaderSync`, which exists only in browser
 * workers. Node has Blobs but no synchronous way to read one, so the Blobs this package hands over are
 * {@link BytesBlob}s that keep their bytes, and a `FileReaderSync` that reads exactly those is installed when none
 * exists. Reading uses `WasmReader.fromBytes`, which needs neither.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initSync, WasmBuilder, WasmReader } from "@contentauth/c2pa-wasm";

const heldBytes = new WeakMap<Blob, Uint8Array>();

/** A Blob whose bytes c2pa-wasm can read synchronously through the installed `FileReaderSync`. */
export class BytesBlob extends Blob {
  constructor(bytes: Uint8Array, type = "") {
    super([bytes as Uint8Array<ArrayBuffer>], { type });
    heldBytes.set(this, bytes);
  }

  override slice(start?: number, end?: number, contentType?: string): Blob {
    // c2pa-wasm reads blobs over 50 MB in slices; each slice must stay readable.
    return new BytesBlob(heldBytes.get(this)!.subarray(start, end), contentType);
  }
}

/** The part of `FileReaderSync` c2pa-wasm calls, for {@link BytesBlob}s only. */
class BytesBlobReader {
  readAsArrayBuffer(blob: Blob): ArrayBuffer {
    const bytes = heldBytes.get(blob);
    if (!bytes) throw new TypeError("only Blobs made by @provenance/c2pa can be read synchronously in Node");
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
}

let loaded = false;

/** c2pa-wasm's builder and reader classes, compiling the module on first use (about 0.1 s). */
export function c2paWasm(): { readonly WasmBuilder: typeof WasmBuilder; readonly WasmReader: typeof WasmReader } {
  if (!loaded) {
    if (!("FileReaderSync" in globalThis)) {
      Object.defineProperty(globalThis, "FileReaderSync", { value: BytesBlobReader, configurable: true, writable: true });
    }
    const wasmPath = createRequire(import.meta.url).resolve("@contentauth/c2pa-wasm/c2pa.wasm");
    initSync({ module: readFileSync(wasmPath) });
    loaded = true;
  }
  return { WasmBuilder, WasmReader };
}
