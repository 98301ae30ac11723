/** Reads every page of a paged list RPC. */

/** Calls `page(token)` until `next_page_token` is empty and concatenates the items (at most `maxPages`). */
export async function readAllPages<T>(page: (token: string) => Promise<{ items: T[]; nextPageToken: string }>, maxPages = 200): Promise<T[]> {
  const out: T[] = [];
  let token = "";
  for (let i = 0; i < maxPages; i++) {
    const res = await page(token);
    out.push(...res.items);
    if (!res.nextPageToken) break;
    token = res.nextPageToken;
  }
  return out;
}
