// The shapes the dashboard script reads, taken from the zod schemas GET /v1/overview answers with (types only: nothing is bundled).
import type { Overview } from '../schemas.js';

export type { Overview };
export type SchedulerView = Overview['scheduler'];
export type TaskView = Overview['taskTypes'][number];
export type Chart = NonNullable<Overview['chart']>;
export type Limit = Overview['limits'][number];
export type DeadLetters = Overview['deadLetters'];
export type DeadLetter = DeadLetters['items'][number];
/** What the last tick did (lib/scheduler/tick.ts TickSummary); the API declares it `unknown`, so the page reads what it shows. */
export interface TickSummary {
  claimed: number;
  published: number;
  done: number;
  resumed?: number;
  continued?: number;
  failed?: number;
}
