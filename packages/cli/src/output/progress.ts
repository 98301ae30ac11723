/**
 * A one-line progress bar for stderr. A dozen lines of our own rather than a dependency: the CLI
 * needs one bar with a counter, redrawn in place on a terminal and printed as plain lines when
 * stderr is a file or pipe, which a library would not make simpler.
 */

/** Width of the bar in characters. */
const BAR_WIDTH = 30;

/** "[##########--------------------]  5/15" followed by `detail`. */
export function renderProgressBar(done: number, total: number, detail = ""): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${count}${detail ? `  ${detail}` : ""}`;
}

/** Draws progress on `stream`: in place on a TTY, one line per change otherwise. */
export class ProgressBar {
  private last = "";

  constructor(private readonly stream: { write(text: string): unknown; readonly isTTY?: boolean }) {}

  /** Shows the current state; repeated identical states draw nothing. */
  update(done: number, total: number, detail = ""): void {
    const line = renderProgressBar(done, total, detail);
    if (line === this.last) return;
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    this.last = line;
  }

  /** Ends the line on a TTY so later output starts clean. */
  finish(): void {
    if (this.stream.isTTY && this.last !== "") this.stream.write("\n");
  }
}
