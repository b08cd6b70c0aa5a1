// Structured JSON logs (pino): one object per line; level from LOG_LEVEL; secrets redacted by path.
import { pino } from 'pino';
import { parseJobId } from './domain/ids.js';

/** Where log lines go: stdout (Lambda ships it to CloudWatch), or a test's capture. */
interface Sink {
  write(line: string): void;
}

const stdout: Sink = pino.destination({ dest: 1, sync: true });
let sink: Sink = stdout;

export const logger = pino(
  {
    level: process.env['LOG_LEVEL'] ?? 'info',
    base: { fn: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? process.env['STAGGER_PROCESS'] ?? 'stagger' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        '*.authorization',
        '*.Authorization',
        '*.token',
        '*.signature',
        '*.secret',
        '*.password',
        '*.params',
        'headers.*',
        '*.headers',
      ],
      censor: '[redacted]',
    },
  },
  // Indirect, so a test can capture exactly what a function writes without touching file descriptors.
  { write: (line: string) => sink.write(line) },
);

export type Logger = typeof logger;

/** Fields every log line about a job carries. */
export interface JobLogFields {
  jobId: string;
  task: string;
  user: string;
  period: string;
}

/** A logger for one job; `requestId` ties its lines to the HTTP request (or invocation) that handled it. */
export function jobLogger(fields: JobLogFields, requestId?: string): Logger {
  return logger.child(requestId === undefined ? fields : { ...fields, requestId });
}

/** The job logger of a job id (`{task}:{user}:{period}`); a plain request logger when the id is not one. */
export function jobLoggerOf(jobId: string, requestId?: string): Logger {
  const ids = parseJobId(jobId);
  if (!ids) return requestId === undefined ? logger : logger.child({ requestId });
  return jobLogger({ jobId, task: ids.taskId, user: ids.userId, period: ids.periodKey }, requestId);
}

/**
 * Sends every log line to `write` (and sets the level) until the returned function is called: for
 * tests that assert on what was logged. Child loggers made before the call keep their level.
 */
export function captureLogs(
  write: (line: string) => void,
  level: pino.LevelWithSilent = 'debug',
): () => void {
  const previous = { sink, level: logger.level };
  sink = { write };
  logger.level = level;
  return () => {
    sink = previous.sink;
    logger.level = previous.level;
  };
}
