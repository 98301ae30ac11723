/** What a receipt id looks like: pure, no I/O. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Receipt ids are UUIDs (v7, assigned by the service); any other string names no receipt. */
export function isReceiptId(id: string): boolean {
  return UUID.test(id);
}
