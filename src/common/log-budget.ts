/** How many lines of one reason were left out during one second. */
export interface SuppressedLines {
  reason: string;
  suppressed: number;
  /** The second they were left out in (epoch ms of its start). */
  second: number;
}

interface ReasonCount {
  logged: number;
  suppressed: number;
}

/**
 * A per-reason budget of log lines per clock second. Under a flood, a log line per event would
 * let whoever sends the events choose the log volume (disk, ingestion bills, lines that matter
 * scrolled away); past the budget, lines are only counted, and the counts are handed out once the
 * second is over so that one summary line per reason can say how many were left out.
 */
export class LogBudget {
  private second = Number.NEGATIVE_INFINITY;
  private counts = new Map<string, ReasonCount>();
  private finished: SuppressedLines[] = [];

  constructor(
    private readonly linesPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a line for `reason` may be written now; if not, it is counted as left out. */
  allow(reason: string): boolean {
    this.roll();
    let count = this.counts.get(reason);
    if (count === undefined) {
      count = { logged: 0, suppressed: 0 };
      this.counts.set(reason, count);
    }
    if (count.logged < this.linesPerSecond) {
      count.logged++;
      return true;
    }
    count.suppressed++;
    return false;
  }

  /**
   * The lines left out in seconds that are over (the current one too with `includeCurrent`),
   * one entry per reason and second, each handed out once.
   */
  takeSuppressed(includeCurrent = false): SuppressedLines[] {
    this.roll();
    if (includeCurrent) this.close();
    const finished = this.finished;
    this.finished = [];
    return finished;
  }

  private roll(): void {
    const second = Math.floor(this.now() / 1000);
    if (second === this.second) return;
    this.close();
    this.second = second;
  }

  private close(): void {
    for (const [reason, count] of this.counts) {
      if (count.suppressed > 0) {
        this.finished.push({ reason, suppressed: count.suppressed, second: this.second * 1000 });
      }
    }
    this.counts = new Map();
  }
}
