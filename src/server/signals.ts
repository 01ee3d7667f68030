/**
 * SIGINT/SIGTERM for the server processes (standalone, controller, invoker): the first signal stops
 * gracefully (drain, then exit 0, or 1 if stopping failed); a second one exits at once.
 */
import { log } from './log.js';

export function stopOnSignals(stop: () => Promise<void>, doing: string): void {
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    log.info(`${signal}: ${doing}`);
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
