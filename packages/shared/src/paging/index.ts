export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodePageToken, decodeSeqToken, encodePageToken, pageSizeOf } from "./page-token.js";
