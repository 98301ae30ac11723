/** The one kind of start failure the launcher reports as a single line. */

/** A cause a person can act on, with no stack trace worth showing. */
export class SystemStartError extends Error {
  override name = "SystemStartError";
}
