/** gRPC server reflection (v1 and v1alpha), so `buf curl` and grpcurl work without local protos. */
import {
  clone,
  create,
  createFileRegistry,
  fromBinary,
  toBinary,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
  type Registry,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  file_grpc_reflection_v1_reflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.js";

// gRPC status codes used in ErrorResponse.
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** The v1alpha flavour: the same messages under package grpc.reflection.v1alpha, built from the v1 descriptor. */
function v1alphaFile(): DescFile {
  const proto = clone(FileDescriptorProtoSchema, file_grpc_reflection_v1_reflection.proto);
  proto.name = "grpc/reflection/v1alpha/reflection.proto";
  proto.package = "grpc.reflection.v1alpha";
  proto.options = undefined;
  const rename = (typeName: string) => typeName.replace(/^\.grpc\.reflection\.v1\./, ".grpc.reflection.v1alpha.");
  for (const m of proto.messageType) for (const f of m.field) f.typeName = rename(f.typeName);
  for (const s of proto.service) for (const m of s.method) [m.inputType, m.outputType] = [rename(m.inputType), rename(m.outputType)];
  const file = createFileRegistry(proto, () => undefined).getFile(proto.name);
  if (!file) throw new Error("cannot build the v1alpha reflection descriptor");
  return file;
}

/** Fully-qualified names (messages, enums, services, methods, fields, extensions) → the file that defines them. */
class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();

  constructor(roots: Iterable<DescFile>) {
    for (const f of roots) this.addFile(f);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    const addMessage = (m: DescMessage) => {
      this.symbols.set(m.typeName, file);
      for (const f of m.fields) this.symbols.set(`${m.typeName}.${f.name}`, file);
      for (const o of m.oneofs) this.symbols.set(`${m.typeName}.${o.name}`, file);
      for (const e of m.nestedEnums) this.symbols.set(e.typeName, file);
      for (const x of m.nestedExtensions) this.symbols.set(x.typeName, file);
      m.nestedMessages.forEach(addMessage);
    };
    file.messages.forEach(addMessage);
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const x of file.extensions) this.symbols.set(x.typeName, file);
    for (const s of file.services) {
      this.symbols.set(s.typeName, file);
      for (const m of s.methods) this.symbols.set(`${s.typeName}.${m.name}`, file);
    }
  }

  /** The file named `name`, e.g. "provenance/v1/receipts.proto". */
  file(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /** The file defining `symbol` (a leading "." is allowed). */
  fileOf(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.replace(/^\./, ""));
  }
}

/** `file` and everything it imports, serialized, the file first. */
function withDependencies(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    f.dependencies.forEach(visit);
  };
  visit(file);
  return out;
}

/** Answers one reflection request. */
function answer(req: ServerReflectionRequest, services: () => string[], index: () => DescriptorIndex): ServerReflectionResponse {
  const respond = (messageResponse: MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]) =>
    create(ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse });
  const error = (errorCode: number, errorMessage: string) => respond({ case: "errorResponse", value: { errorCode, errorMessage } });
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? respond({ case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file) } })
      : error(NOT_FOUND, `${what} not found`);
  const m = req.messageRequest;
  switch (m.case) {
    case "listServices":
      return respond({ case: "listServicesResponse", value: { service: services().map((name) => ({ name })) } });
    case "fileByFilename":
      return files(index().file(m.value), `file "${m.value}"`);
    case "fileContainingSymbol":
      return files(index().fileOf(m.value), `symbol "${m.value}"`);
    case "fileContainingExtension":
      return error(NOT_FOUND, `extension ${m.value.extensionNumber} of "${m.value.containingType}" not found`);
    case "allExtensionNumbersOfType":
      if (!index().fileOf(m.value)) return error(NOT_FOUND, `type "${m.value}" not found`);
      return respond({ case: "allExtensionNumbersResponse", value: { baseTypeName: m.value, extensionNumber: [] } });
    default:
      return error(INVALID_ARGUMENT, "empty reflection request");
  }
}

/**
 * Registers grpc.reflection.v1 and v1alpha ServerReflection on `router`. They describe `registry` when given,
 * else the files of every service registered on the router (read at the first request) and their imports.
 */
export function registerReflection(router: ConnectRouter, registry?: Registry): void {
  const alpha = v1alphaFile();
  const alphaService: DescService = alpha.services[0]!;
  const alphaRequest = alpha.messages.find((m) => m.name === "ServerReflectionRequest")!;
  const alphaResponse = alpha.messages.find((m) => m.name === "ServerReflectionResponse")!;

  const services = () => [...new Set(router.handlers.map((h) => h.service.typeName))];
  let built: DescriptorIndex | undefined;
  const index = () => {
    if (!built) {
      const roots = new Set<DescFile>([alpha]);
      if (registry) for (const desc of registry) roots.add(desc.file);
      for (const h of router.handlers) roots.add(h.service.file);
      built = new DescriptorIndex(roots);
    }
    return built;
  };

  router.service(ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield answer(req, services, index);
    },
  });
  // v1alpha shares the wire format: translate through bytes and answer with the v1 logic.
  const alphaMethod = alphaService.methods[0] as DescMethod & { methodKind: "bidi_streaming" };
  router.rpc(alphaMethod, async function* (requests: AsyncIterable<unknown>) {
    for await (const req of requests) {
      const v1 = fromBinary(ServerReflectionRequestSchema, toBinary(alphaRequest, req as never));
      yield fromBinary(alphaResponse, toBinary(ServerReflectionResponseSchema, answer(v1, services, index)));
    }
  } as never);
}
