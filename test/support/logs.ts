import { Reply } from './http';

export interface LogLine {
  level: string;
  msg?: string;
  requestId?: string;
  reason?: string;
  context?: string;
  [key: string]: unknown;
}

/** What a line must carry to be found; every given field must be equal. */
export type LogQuery = Partial<Pick<LogLine, 'level' | 'msg' | 'requestId' | 'reason'>>;

/**
 * The JSON log lines an app wrote (in-process or a child process's stdout), in order. A line
 * that is not JSON is kept as `{ level: 'raw', msg }` so nothing the app printed is lost.
 */
export class LogReader {
  readonly lines: LogLine[] = [];
  private raw = '';
  private pending = '';

  /** Appends output; a line cut between two chunks is parsed once its end arrives. */
  write(chunk: string): void {
    this.raw += chunk;
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ level: 'raw', msg: line });
      }
    }
  }

  /** Every line matching the query, in order. */
  find(query: LogQuery): LogLine[] {
    return this.lines.filter((line) =>
      Object.entries(query).every(([key, value]) => line[key] === value),
    );
  }

  /** The lines logged for the request that got this reply (by its X-Request-Id). */
  forRequest(reply: Reply, query: LogQuery = {}): LogLine[] {
    const requestId = reply.headers.get('x-request-id');
    expect(typeof requestId).toBe('string');
    return this.find({ ...query, requestId: requestId ?? undefined });
  }

  /** Lines at error or fatal level: a test expects none unless it provoked them. */
  failures(): LogLine[] {
    return this.lines.filter((line) => line.level === 'error' || line.level === 'fatal');
  }

  /** Everything the app wrote, unparsed. */
  text(): string {
    return this.raw;
  }

  /** The value appears in no log line, not even inside another field. */
  expectNever(value: string): void {
    expect(this.raw.includes(value)).toBe(false);
  }
}
