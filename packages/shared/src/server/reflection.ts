/** Server reflection (placeholder until the reflection proto is generated). */
import type { Registry } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";

/** Registers grpc.reflection services on `router` (not yet implemented). */
export function registerReflection(_router: ConnectRouter, _registry?: Registry): void {}
