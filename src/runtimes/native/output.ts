// Splitting a native action's output as it streams in. By the blackbox ("dockerskeleton") contract
// the LAST line of stdout is the result and every line before it is a log line, so lines are passed
// on as soon as a later line proves they are not the last one.

/** Cuts text into lines; handles chunks that end mid-line without re-copying long partial lines. */
export class LineSplitter {
  private partial: string[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.partial.push(text.slice(start, nl));
      this.onLine(this.partial.join(''));
      this.partial = [];
      start = nl + 1;
    }
    if (start < text.length) this.partial.push(text.slice(start));
  }

  /** The unterminated rest ("" when the text ended with a newline). */
  rest(): string {
    const rest = this.partial.join('');
    this.partial = [];
    return rest;
  }
}

/** Holds back the latest complete stdout line, which may turn out to be the result. */
export class ResultSplitter {
  private held: string | undefined;
  private readonly lines: LineSplitter;

  constructor(private readonly onLog: (line: string) => void) {
    this.lines = new LineSplitter((line) => {
      if (this.held !== undefined) this.onLog(this.held);
      this.held = line;
    });
  }

  push(text: string): void {
    this.lines.push(text);
  }

  /** Ends the stream: flushes remaining log lines and returns the result line, trimmed. */
  finish(): string {
    const rest = this.lines.rest();
    if (rest === '') return (this.held ?? '').trim();
    if (this.held !== undefined) this.onLog(this.held);
    this.held = undefined;
    return rest.trim();
  }
}
