export { canonicalJson } from "./canonical-json.js";
export {
  INPUTS_SPEC_V1,
  InputsHashError,
  buildInputsDocument,
  canonicalInputs,
  computeInputsHash,
  hashInputsDocument,
  normalizeContentHash,
} from "./inputs-hash.js";
export type { HashableInputs, InputsDocument, JsonValue } from "./inputs-hash.js";
export { inputsHashOfMessage } from "./message-inputs-hash.js";
export type { InputsHashFields } from "./message-inputs-hash.js";
