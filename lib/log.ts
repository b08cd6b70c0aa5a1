// Structured JSON logs (pino): one object per line; level from LOG_LEVEL; secrets redacted by path.
import { pino } from 'pino';

export const logger = pino({
  level: process.env['LOG_LEVEL'] ?? 'info',
  base: { fn: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? process.env['STAGGER_PROCESS'] ?? 'stagger' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: {
    paths: ['*.authorization', '*.Authorization', '*.token', '*.signature', 'headers.*', '*.headers'],
    censor: '[redacted]',
  },
});

export type Logger = typeof logger;

/** Fields every log line about a job carries. */
export interface JobLogFields {
  jobId: string;
  task: string;
  user: string;
  period: string;
}

export function jobLogger(fields: JobLogFields): Logger {
  return logger.child(fields);
}
