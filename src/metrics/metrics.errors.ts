/**
 * The metrics server could not listen (the port is taken, the address is not on this machine).
 * Not a ProblemException: no client ever sees it. It stops the start before the API listens, so
 * an instance whose metrics nobody could scrape never takes traffic unnoticed.
 */
export class MetricsServerStartError extends Error {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const why =
      cause.code === 'EADDRINUSE'
        ? 'the port is already in use'
        : cause.code === 'EADDRNOTAVAIL'
          ? 'the address is not on this machine'
          : (cause.code ?? cause.message);
    super(
      `Cannot serve metrics on ${host}:${port} (METRICS_PORT=${port}, METRICS_HOST=${host}): ${why}. ` +
        'Choose another METRICS_PORT, or set METRICS_PORT=0 to turn metrics off.',
      { cause },
    );
    this.name = 'MetricsServerStartError';
  }
}
