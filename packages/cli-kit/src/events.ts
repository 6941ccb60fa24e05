/**
 * Structured events that libraries emit and the CLIs render: with `--json` as one JSON
 * object per line on stdout, otherwise as human text on stderr.
 */
export interface MephEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A progress tick: rendered as an updating line on a terminal, as an event with --json. */
export interface ProgressEvent extends MephEvent {
  readonly type: 'progress';
  readonly step: string;
  readonly done: number;
  readonly total?: number;
  /** What `done`/`total` count: 'bytes' (shown as sizes), 'files', 'items', 'steps', … */
  readonly unit?: string;
}

export type EventSink = (event: MephEvent) => void;

export const ignoreEvents: EventSink = () => {};
