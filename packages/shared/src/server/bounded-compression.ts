/** Request decompression that stops at the request limit and says which side is at fault. */
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";

type Codec = (bytes: Uint8Array, options: zlib.ZlibOptions | zlib.BrotliOptions) => Promise<Buffer>;

/** zlib's buffers sit on plain ArrayBuffers; connect's Compression type says so explicitly. */
function plain(b: Buffer): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

function bounded(name: string, compress: (bytes: Uint8Array) => Promise<Buffer>, decompress: Codec): Compression {
  return {
    name,
    compress: async (bytes) => plain(await compress(bytes)),
    async decompress(bytes, readMaxBytes) {
      if (bytes.byteLength === 0) return new Uint8Array(0);
      try {
        // zlib stops inflating as soon as the output passes maxOutputLength: a bomb costs at most the limit.
        return plain(await decompress(bytes, { maxOutputLength: readMaxBytes }));
      } catch (err) {
        if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
          throw new ConnectError(
            `request too large: MAX_REQUEST_BYTES allows ${readMaxBytes} bytes per message, this one is larger once decompressed`,
            Code.ResourceExhausted,
            undefined,
            undefined,
            err,
          );
        }
        const detail = err instanceof Error ? err.message : String(err);
        throw new ConnectError(`the request body is not valid ${name} data (${detail})`, Code.InvalidArgument, undefined, undefined, err);
      }
    },
  };
}

/** gzip and brotli for requests and responses; a request inflating past the server's read limit is RESOURCE_EXHAUSTED, a corrupt one INVALID_ARGUMENT. */
export function boundedCompressions(): Compression[] {
  return [
    bounded("gzip", promisify(zlib.gzip), promisify(zlib.gunzip) as Codec),
    bounded("br", promisify(zlib.brotliCompress), promisify(zlib.brotliDecompress) as Codec),
  ];
}
